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
}
