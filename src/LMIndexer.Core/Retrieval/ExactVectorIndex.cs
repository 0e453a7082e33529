using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Retrieval;

/// <summary>
/// Exact maximum-inner-product search over a fixed set of item vectors: a batch of queries is one
/// matrix product with the item matrix and a top-k per row. Unit vectors make it cosine ranking.
/// </summary>
public sealed class ExactVectorIndex : IDisposable
{
    private readonly Tensor items;                                   // [items, d]

    public ExactVectorIndex(IReadOnlyList<float[]> vectors)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        if (vectors.Count == 0)
            throw new ArgumentException("No item vectors to index.", nameof(vectors));
        Dimension = vectors[0].Length;
        if (vectors.Any(v => v.Length != Dimension))
            throw new ArgumentException($"Every item vector must have {Dimension} values.", nameof(vectors));
        items = tensor(vectors.SelectMany(v => v).ToArray(), [vectors.Count, Dimension]);
    }

    public int Count => (int)items.shape[0];

    public int Dimension { get; }

    /// <summary>The <paramref name="k"/> best items of each query, best first.</summary>
    public int[][] Search(IReadOnlyList<float[]> queries, int k, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        k = Math.Min(k, Count);
        var results = new int[queries.Count][];
        using var noGrad = no_grad();
        for (var start = 0; start < queries.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var count = Math.Min(batchSize, queries.Count - start);
            var batch = tensor(Enumerable.Range(start, count).SelectMany(q => Checked(queries[q])).ToArray(), [count, Dimension]);   // [count, d]
            var scores = batch.matmul(items.t());                                                                                      // [count, items]
            var (_, top) = scores.topk(k, dim: 1, largest: true, sorted: true);                                                       // [count, k]
            var flat = top.data<long>().ToArray();
            for (var q = 0; q < count; q++)
                results[start + q] = [.. flat.AsSpan(q * k, k).ToArray().Select(i => (int)i)];
        }
        return results;
    }

    private float[] Checked(float[] query) =>
        query.Length == Dimension ? query : throw new ArgumentException($"A query vector must have {Dimension} values, got {query.Length}.", nameof(query));

    public void Dispose() => items.Dispose();
}
