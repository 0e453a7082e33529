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
    public void A_kept_index_is_read_back_for_the_same_vectors_and_replaced_when_one_changes()
    {
        var random = new Random(5);
        var items = Enumerable.Range(0, 300).Select(i => ($"item-{i}", Unit(random))).ToList();
        var queries = Enumerable.Range(0, 10).Select(_ => Unit(random)).ToList();
        var folder = Directory.CreateTempSubdirectory("lmindexer-shard-hnsw-");
        try
        {
            var saved = new SavedVectorIndexes(folder.FullName);
            using var first = new ShardVectors(approximateAbove: 200, saved);
            first.SetMany(items);   // an activation: the whole shard in one batch
            Assert.True(first.IsApproximate);
            Assert.False(first.Origin!.Loaded);
            Assert.True(File.Exists(first.Origin.Path));

            // A restart: the same vectors, here arriving in another order and in two batches.
            using var second = new ShardVectors(approximateAbove: 200, saved);
            second.SetMany([.. items.Skip(150).Reverse()]);
            Assert.False(second.IsApproximate);
            second.SetMany([.. items.Take(150)]);
            Assert.True(second.Origin!.Loaded, second.Origin.Problem);
            Assert.Equal(first.Origin.Path, second.Origin.Path);
            foreach (var query in queries)
                Assert.Equal(first.Search(query, 5).Select(h => h.Key), second.Search(query, 5).Select(h => h.Key));
            second.Set("item-9", queries[0]);   // the graph read back still takes changes
            Assert.Equal("item-9", second.Search(queries[0], 1)[0].Key);

            // Another catalog (one text changed): another graph, and the stale one is removed.
            using var third = new ShardVectors(approximateAbove: 200, saved);
            third.SetMany([.. items.Select(p => p.Item1 == "item-9" ? (p.Item1, queries[0]) : p)]);
            Assert.False(third.Origin!.Loaded);
            Assert.NotEqual(first.Origin.Path, third.Origin.Path);
            Assert.Equal([third.Origin.Path], Directory.GetFiles(folder.FullName, "*" + SavedVectorIndexes.Extension));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
