using LMIndexer.Core.Retrieval;
using LMIndexer.Grains.Search;

namespace LMIndexer.Grains.Tests;

/// <summary>A search shard's vectors: exact below the threshold, the approximate index from it on.</summary>
public sealed class ShardVectorsTests
{
    private static float[] Unit(Random random, int width = 16)
    {
        var v = Enumerable.Range(0, width).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var norm = (float)Math.Sqrt(v.Sum(x => x * x));
        return [.. v.Select(x => x / norm)];
    }

    [Fact]
    public void The_shard_switches_to_the_approximate_index_at_the_threshold_and_keeps_answering_the_same()
    {
        var random = new Random(3);
        var items = Enumerable.Range(0, 300).ToDictionary(i => $"item-{i}", _ => Unit(random));
        using var exact = new ShardVectors(approximateAbove: 0);
        using var approximate = new ShardVectors(approximateAbove: 200);
        foreach (var (id, vector) in items)
        {
            exact.Set(id, vector);
            approximate.Set(id, vector);
            Assert.Equal(approximate.Count >= 200, approximate.IsApproximate);
        }
        Assert.False(exact.IsApproximate);

        for (var q = 0; q < 20; q++)
        {
            var query = Unit(random);
            var expected = exact.Search(query, 5);
            var found = approximate.Search(query, 5);
            Assert.Equal(expected.Select(h => h.Key), found.Select(h => h.Key));   // 300 vectors: the graph finds the true best
            Assert.All(expected.Zip(found), pair => Assert.Equal(pair.First.Score, pair.Second.Score, 4));
        }
    }

    [Fact]
    public void An_item_whose_vector_changed_is_found_by_its_new_vector_only_once()
    {
        var random = new Random(4);
        using var vectors = new ShardVectors(approximateAbove: 10);
        for (var i = 0; i < 50; i++)
            vectors.Set($"item-{i}", Unit(random));
        Assert.True(vectors.IsApproximate);
        var query = Unit(random);
        vectors.Set("item-7", query);   // its new text embeds right on the query

        var hits = vectors.Search(query, 50);

        Assert.Equal("item-7", hits[0].Key);
        Assert.Equal(1.0, hits[0].Score, 4);
        Assert.Single(hits, h => h.Key == "item-7");   // the old entry is gone from the index
        Assert.Equal(50, vectors.Count);
    }

    [Fact]
    public void A_kept_index_is_read_back_for_the_same_vectors_with_its_later_changes_and_replaced_when_they_differ()
    {
        var random = new Random(5);
        var items = Enumerable.Range(0, 300).Select(i => ($"item-{i}", Unit(random))).ToList();
        var queries = Enumerable.Range(0, 10).Select(_ => Unit(random)).ToList();
        var folder = Directory.CreateTempSubdirectory("lmindexer-shard-hnsw-");
        try
        {
            var kept = new KeptShardIndex(folder.FullName);
            using (var first = new ShardVectors(approximateAbove: 200, kept))
            {
                // A first start: items arrive in batches; the index is built (and kept) at the threshold.
                first.SetMany([.. items.Take(250)]);
                Assert.False(first.ReadBack);
                first.SetMany([.. items.Skip(250)]);
                first.Set("item-9", queries[0]);   // a changed text: a new entry, the old one removed
                first.SaveIfChanged();             // as the shard leaves memory
                Assert.Null(first.Problem);
            }
            var current = items.Select(p => p.Item1 == "item-9" ? (p.Item1, queries[0]) : p).ToList();
            Assert.Single(Directory.GetDirectories(folder.FullName));   // the index built at 250 items is replaced

            // A restart: the same vectors, in another order, in one batch.
            using var second = new ShardVectors(approximateAbove: 200, kept);
            using var exact = new ShardVectors(approximateAbove: 0);
            second.SetMany([.. Enumerable.Reverse(current)]);
            exact.SetMany(current);
            Assert.True(second.ReadBack, second.Problem);
            Assert.Equal("item-9", second.Search(queries[0], 1)[0].Key);
            foreach (var query in queries.Skip(1))
                Assert.Equal(exact.Search(query, 5).Select(h => h.Key), second.Search(query, 5).Select(h => h.Key));
            Assert.Equal(300, second.Search(queries[1], 400).Count);   // no entry twice, none lost

            // Another catalog (one more item): built again and kept in place of the other.
            List<(string, float[])> grown = [.. current, ("item-new", Unit(random))];
            using var third = new ShardVectors(approximateAbove: 200, kept);
            third.SetMany(grown);
            Assert.False(third.ReadBack);
            Assert.Single(Directory.GetDirectories(folder.FullName));

            // The same items with one vector changed (a text edited while the silo was down): built again.
            List<(string, float[])> edited = [.. grown.Select(p => p.Item1 == "item-5" ? (p.Item1, queries[2]) : p)];
            using (var edit = new ShardVectors(approximateAbove: 200, kept))
            {
                edit.SetMany(edited);
                Assert.False(edit.ReadBack);
                Assert.Equal("item-5", edit.Search(queries[2], 1)[0].Key);
            }
            // The same vectors under swapped ids: another name, not the other's entries.
            List<(string, float[])> swapped = [.. edited.Select(p => p.Item1 switch { "item-1" => ("item-2", p.Item2), "item-2" => ("item-1", p.Item2), _ => p })];
            using (var swap = new ShardVectors(approximateAbove: 200, kept))
            {
                swap.SetMany(swapped);
                Assert.False(swap.ReadBack);
            }
            // Kept and unchanged: leaving memory writes nothing.
            using (var again = new ShardVectors(approximateAbove: 200, kept))
            {
                again.SetMany(swapped);
                Assert.True(again.ReadBack, again.Problem);
                var graph = Directory.GetFiles(folder.FullName, "*.usearch", SearchOption.AllDirectories).Single();
                var written = File.GetLastWriteTimeUtc(graph);
                Thread.Sleep(20);
                again.SaveIfChanged();
                Assert.Equal(written, File.GetLastWriteTimeUtc(graph));
                again.Set("item-3", queries[3]);
                again.SaveIfChanged();   // changed: kept under the new vectors' name
                var newGraph = Directory.GetFiles(folder.FullName, "*.usearch", SearchOption.AllDirectories).Single();
                Assert.NotEqual(graph, newGraph);
                written = File.GetLastWriteTimeUtc(newGraph);
                Thread.Sleep(20);
                again.SaveIfChanged();   // and once only
                Assert.Equal(written, File.GetLastWriteTimeUtc(newGraph));
            }
            grown = [.. swapped.Select(p => p.Item1 == "item-3" ? (p.Item1, queries[3]) : p)];

            // Entries that do not match the shard's items are not trusted.
            var damaged = Directory.GetDirectories(folder.FullName).Single();
            var entriesFile = Path.Combine(damaged, "entries.json");
            var entries = File.ReadAllText(entriesFile);
            foreach (var bad in new[] { "[\"item-0\"]", entries.Replace("\"item-0\"", "\"item-x\"", StringComparison.Ordinal) })
            {
                File.WriteAllText(entriesFile, bad);
                using var fourth = new ShardVectors(approximateAbove: 200, kept);
                fourth.SetMany(grown);
                Assert.False(fourth.ReadBack);
                Assert.Contains("not used", fourth.Problem, StringComparison.Ordinal);
                damaged = Directory.GetDirectories(folder.FullName).Single();
                entriesFile = Path.Combine(damaged, "entries.json");
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_folder_that_cannot_be_written_leaves_the_index_working_in_memory_and_says_why()
    {
        var random = new Random(6);
        var blocker = Path.GetTempFileName();   // a file where the folder would be
        try
        {
            using var vectors = new ShardVectors(approximateAbove: 10, new KeptShardIndex(Path.Combine(blocker, "shard-0")));
            var items = Enumerable.Range(0, 20).Select(i => ($"item-{i}", Unit(random))).ToList();
            vectors.SetMany(items);
            Assert.True(vectors.IsApproximate);
            Assert.False(vectors.ReadBack);
            Assert.Contains("could not be kept", vectors.Problem, StringComparison.Ordinal);
            Assert.Equal("item-4", vectors.Search(items[4].Item2, 1)[0].Key);
        }
        finally
        {
            File.Delete(blocker);
        }
    }
}
