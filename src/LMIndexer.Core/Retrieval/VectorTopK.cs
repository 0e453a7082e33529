using System.Numerics.Tensors;

namespace LMIndexer.Core.Retrieval;

/// <summary>
/// Exact top-k by inner product over vectors that change one at a time (a search shard's items):
/// SIMD dot products and a bounded heap, no matrix to rebuild on every insert.
/// </summary>
public static class VectorTopK
{
    /// <summary>The <paramref name="k"/> highest inner products with <paramref name="query"/>, best first; ties keep enumeration order.</summary>
    public static IReadOnlyList<(string Key, double Score)> Search(float[] query, IEnumerable<KeyValuePair<string, float[]>> vectors, int k)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var heap = new PriorityQueue<(string Key, int Order), (float Score, int Order)>(k + 1, WorstFirst.Instance);
        var order = 0;
        foreach (var (key, vector) in vectors)
        {
            if (vector.Length != query.Length)
                throw new ArgumentException($"The query has {query.Length} values and item '{key}' {vector.Length}.", nameof(query));
            var score = TensorPrimitives.Dot(query, vector);
            heap.Enqueue((key, order), (score, order));
            order++;
            if (heap.Count > k)
                heap.Dequeue();
        }
        var best = new List<(string Key, double Score)>(heap.Count);
        while (heap.TryDequeue(out var item, out var priority))
            best.Add((item.Key, priority.Score));
        best.Reverse();
        return best;
    }

    // The heap's head is the one to drop: the lowest score, and of equal scores the later one.
    private sealed class WorstFirst : IComparer<(float Score, int Order)>
    {
        public static readonly WorstFirst Instance = new();

        public int Compare((float Score, int Order) x, (float Score, int Order) y) =>
            x.Score != y.Score ? x.Score.CompareTo(y.Score) : y.Order.CompareTo(x.Order);
    }
}
