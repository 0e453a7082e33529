using LMIndexer.Core.Retrieval;

namespace LMIndexer.Core.Tests.Retrieval;

public sealed class ApproximateVectorIndexTests
{
    private const int Width = 24;

    private static float[] RandomTable(int rows, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, rows * Width).Select(_ => (float)(random.NextDouble() - 0.5))];
    }

    private static double Dot(float[] table, int row, float[] query) =>
        Enumerable.Range(0, Width).Sum(j => (double)table[(row * Width) + j] * query[j]);

    [Fact]
    public void Finds_nearly_all_of_the_exact_top_ten_with_their_exact_inner_products()
    {
        var table = RandomTable(4000, seed: 1);
        using var index = ApproximateVectorIndex.FromRows(table, Width);
        Assert.Equal(4000, index.Count);
        var queries = Enumerable.Range(0, 50).Select(q => RandomTable(1, seed: 100 + q)).ToList();
        var found = 0;
        foreach (var query in queries)
        {
            var exact = Enumerable.Range(0, 4000).OrderByDescending(i => Dot(table, i, query)).Take(10).ToHashSet();
            var hits = index.Search(query, 10);
            Assert.Equal(10, hits.Length);
            Assert.True(hits.Zip(hits.Skip(1)).All(p => p.First.Score >= p.Second.Score), "best first");
            foreach (var (item, score) in hits)
                Assert.Equal(Dot(table, item, query), score, 4);
            found += hits.Count(h => exact.Contains(h.Item));
        }
        // A brute-force scan finds 500 of 500; a broken graph or metric finds a handful.
        Assert.True(found >= 480, $"recall@10 {found / 500.0:F3}");
    }

    [Fact]
    public void An_item_added_later_is_found_and_cannot_be_added_twice()
    {
        var table = RandomTable(500, seed: 2);
        using var index = ApproximateVectorIndex.FromRows(table, Width);
        var query = RandomTable(1, seed: 3);
        var strong = query.Select(v => v * 10f).ToArray();   // its product with the query beats every row's
        index.Add(500, strong);
        Assert.Equal(501, index.Count);
        Assert.Equal(500, index.Search(query, 5)[0].Item);
        Assert.Throws<ArgumentException>(() => index.Add(500, strong));
        Assert.Throws<ArgumentException>(() => index.Add(7, strong));   // a row of the table
    }

    [Fact]
    public void Vectors_of_another_width_and_a_disposed_index_are_refused()
    {
        Assert.Throws<ArgumentException>(() => ApproximateVectorIndex.FromRows(new float[10], Width));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ApproximateVectorIndex(Width, new HnswSettings(Connectivity: 1)));
        var index = ApproximateVectorIndex.FromRows(RandomTable(10, seed: 4), Width);
        Assert.Throws<ArgumentException>(() => index.Search(new float[Width + 1], 1));
        Assert.Throws<ArgumentException>(() => index.Add(10, new float[3]));
        index.Dispose();
        Assert.Throws<ObjectDisposedException>(() => index.Search(new float[Width], 1));
        index.Dispose();   // twice is harmless
    }

    [Fact]
    public async Task Searches_run_while_items_are_added()
    {
        var table = RandomTable(2000, seed: 5);
        using var index = ApproximateVectorIndex.FromRows(table, Width);
        var extra = RandomTable(3000, seed: 6);
        using var searchStarted = new SemaphoreSlim(0);
        var adding = Task.Run(async () =>
        {
            await searchStarted.WaitAsync();
            // Enough additions to make the native storage grow several times under the searches.
            for (var i = 0; i < 3000; i++)
                index.Add(2000 + i, extra.AsSpan(i * Width, Width));
        });
        var searching = Task.Run(() =>
        {
            var query = RandomTable(1, seed: 7);
            var answers = 0;
            do
            {
                Assert.Equal(10, index.Search(query, 10).Length);
                if (answers++ == 0)
                    searchStarted.Release();
            }
            while (!adding.IsCompleted);
            return answers;
        });
        await Task.WhenAll(adding, searching).WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(5000, index.Count);
        Assert.True(await searching > 1);
    }

    [Fact]
    public void A_saved_index_reads_back_with_its_answers_and_its_breadths()
    {
        var folder = Directory.CreateTempSubdirectory("lmindexer-hnsw-");
        try
        {
            var path = Path.Combine(folder.FullName, "items.usearch");
            var table = RandomTable(1500, seed: 8);
            // Breadths unlike USearch's defaults (128 and 64), which a bare load would restore.
            var settings = new HnswSettings(Connectivity: 12, ExpansionAdd: 40, ExpansionSearch: 200);
            using var built = ApproximateVectorIndex.FromRows(table, Width, settings);
            built.Save(path);
            Assert.Equal([path], Directory.GetFiles(folder.FullName));   // no staging file left beside it

            using var loaded = ApproximateVectorIndex.Load(path, Width, settings);
            Assert.Equal(1500, loaded.Count);
            Assert.Equal(200, loaded.SearchBreadth);
            Assert.Equal(200, built.SearchBreadth);
            for (var q = 0; q < 20; q++)
            {
                var query = RandomTable(1, seed: 200 + q);
                Assert.Equal(built.Search(query, 10), loaded.Search(query, 10));
            }
            loaded.Add(1500, RandomTable(1, seed: 9));   // a loaded index still takes new items
            Assert.Equal(1501, loaded.Count);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_file_that_is_not_an_index_of_this_width_is_refused()
    {
        var folder = Directory.CreateTempSubdirectory("lmindexer-hnsw-");
        try
        {
            var path = Path.Combine(folder.FullName, "items.usearch");
            Assert.Throws<FileNotFoundException>(() => ApproximateVectorIndex.Load(path, Width));
            using (var index = ApproximateVectorIndex.FromRows(RandomTable(50, seed: 10), Width))
                index.Save(path);
            Assert.Throws<InvalidDataException>(() => ApproximateVectorIndex.Load(path, Width + 8));
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);   // a copy cut off half way
            Assert.Throws<InvalidDataException>(() => ApproximateVectorIndex.Load(path, Width));
            File.WriteAllText(path, string.Concat(Enumerable.Repeat("not an index ", 100)));
            Assert.Throws<InvalidDataException>(() => ApproximateVectorIndex.Load(path, Width));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
