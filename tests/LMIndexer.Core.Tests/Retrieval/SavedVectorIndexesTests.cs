using LMIndexer.Core.Retrieval;

namespace LMIndexer.Core.Tests.Retrieval;

public sealed class SavedVectorIndexesTests : IDisposable
{
    private const int Width = 16;
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("lmindexer-saved-hnsw-");

    private static float[] RandomTable(int rows, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, rows * Width).Select(_ => (float)(random.NextDouble() - 0.5))];
    }

    [Fact]
    public void A_table_is_indexed_once_and_read_back_after()
    {
        var saved = new SavedVectorIndexes(folder.FullName);
        var table = RandomTable(800, seed: 1);
        var query = RandomTable(1, seed: 2);

        var (first, builtOrigin) = saved.GetOrBuild(table, Width);
        using (first)
        {
            Assert.False(builtOrigin.Loaded);
            Assert.Null(builtOrigin.Problem);
            Assert.True(File.Exists(builtOrigin.Path));
            var (second, readOrigin) = saved.GetOrBuild(table, Width);
            using (second)
            {
                Assert.True(readOrigin.Loaded);
                Assert.Equal(builtOrigin.Path, readOrigin.Path);
                Assert.Equal(first.Search(query, 10), second.Search(query, 10));
            }
        }

        // Any changed value, or another graph shape, names another file: a stale graph is never read.
        var changed = (float[])table.Clone();
        changed[^1] += 1e-3f;
        Assert.NotEqual(builtOrigin.Path, saved.PathFor(changed, Width, new HnswSettings()));
        Assert.NotEqual(builtOrigin.Path, saved.PathFor(table, Width, new HnswSettings(ExpansionAdd: 32)));
        Assert.Equal(builtOrigin.Path, saved.PathFor(table, Width, new HnswSettings(ExpansionSearch: 32)));
        var (other, otherOrigin) = saved.GetOrBuild(changed, Width);
        using (other)
            Assert.False(otherOrigin.Loaded);
        Assert.Equal(2, Directory.GetFiles(folder.FullName).Length);
    }

    [Fact]
    public void A_damaged_file_is_rebuilt_over_and_an_unwritable_folder_still_gives_an_index()
    {
        var saved = new SavedVectorIndexes(folder.FullName);
        var table = RandomTable(300, seed: 3);
        var path = saved.PathFor(table, Width, new HnswSettings());
        File.WriteAllText(path, "half of an index");
        var (rebuilt, origin) = saved.GetOrBuild(table, Width);
        using (rebuilt)
        {
            Assert.False(origin.Loaded);
            Assert.Contains("could not be read", origin.Problem);
            Assert.Equal(300, rebuilt.Count);
        }
        var (reread, rereadOrigin) = saved.GetOrBuild(table, Width);
        using (reread)
            Assert.True(rereadOrigin.Loaded);

        // A plain file where the folder should be: nothing can be saved, the index still works.
        var blocked = Path.Combine(folder.FullName, "blocked");
        File.WriteAllText(blocked, "");
        var (unsaved, unsavedOrigin) = new SavedVectorIndexes(blocked).GetOrBuild(table, Width);
        using (unsaved)
        {
            Assert.False(unsavedOrigin.Loaded);
            Assert.Contains("could not be saved", unsavedOrigin.Problem);
            Assert.Equal(10, unsaved.Search(RandomTable(1, seed: 4), 10).Length);
        }
    }

    public void Dispose() => folder.Delete(recursive: true);
}
