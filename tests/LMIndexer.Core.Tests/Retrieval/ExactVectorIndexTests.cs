using LMIndexer.Core.Retrieval;

namespace LMIndexer.Core.Tests.Retrieval;

public sealed class ExactVectorIndexTests
{
    [Fact]
    public void Top_k_is_the_brute_force_inner_product_order_in_batches()
    {
        var random = new Random(5);
        float[] Vector() => [.. Enumerable.Range(0, 16).Select(_ => (float)random.NextDouble() - 0.5f)];
        var items = Enumerable.Range(0, 300).Select(_ => Vector()).ToList();
        var queries = Enumerable.Range(0, 37).Select(_ => Vector()).ToList();
        using var index = new ExactVectorIndex(items);
        var top = index.Search(queries, k: 7, batchSize: 8);   // batches of 8: the last one is partial
        for (var q = 0; q < queries.Count; q++)
        {
            var expected = Enumerable.Range(0, items.Count)
                .OrderByDescending(i => items[i].Zip(queries[q], (a, b) => (double)a * b).Sum())
                .Take(7);
            Assert.Equal(expected, top[q]);
        }
        Assert.Equal(300, index.Search(queries, k: 1000)[0].Length);   // k beyond the catalog: every item once
    }

    [Fact]
    public void Vectors_of_another_width_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new ExactVectorIndex([[1f, 0f], [1f]]));
        using var index = new ExactVectorIndex([[1f, 0f], [0f, 1f]]);
        Assert.Throws<ArgumentException>(() => index.Search([[1f, 0f, 0f]], k: 1));
    }
}
