using LMIndexer.Core.Retrieval;

namespace LMIndexer.Grains.Search;

/// <summary>
/// A search shard's item vectors. Dense search scans them all until the shard holds
/// <c>approximateAbove</c> of them; from then on an approximate (HNSW) index kept beside them answers,
/// so a query's cost stops growing with the catalog. An item whose text changed gets a new entry
/// in the index and its old one is removed. Not thread-safe: the grain's turns serialise it.
/// </summary>
public sealed class ShardVectors(int approximateAbove) : IDisposable
{
    private readonly Dictionary<string, float[]> vectors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> entries = new(StringComparer.Ordinal);   // item id → its entry in the index
    private readonly List<string?> entryItems = [];                                   // entry → item id; null once replaced
    private ApproximateVectorIndex? index;

    public int Count => vectors.Count;

    /// <summary>Whether searches read the approximate index.</summary>
    public bool IsApproximate => index is not null;

    public void Set(string itemId, float[] vector)
    {
        ArgumentNullException.ThrowIfNull(itemId);
        ArgumentNullException.ThrowIfNull(vector);
        vectors[itemId] = vector;
        if (index is not null)
            AddToIndex(itemId, vector);
        else if (approximateAbove > 0 && vectors.Count >= approximateAbove)
            BuildIndex();
    }

    /// <summary>The <paramref name="k"/> best items by inner product, best first (approximately, once the index is in use).</summary>
    public IReadOnlyList<(string Key, double Score)> Search(float[] query, int k)
    {
        if (index is null)
            return VectorTopK.Search(query, vectors, k);
        return [.. index.Search(query, k).Select(hit => (entryItems[hit.Item]!, (double)hit.Score))];
    }

    private void BuildIndex()
    {
        var built = new ApproximateVectorIndex(vectors.First().Value.Length);
        index = built;
        foreach (var (itemId, vector) in vectors)
            AddToIndex(itemId, vector);
    }

    private void AddToIndex(string itemId, float[] vector)
    {
        if (entries.TryGetValue(itemId, out var old))
        {
            index!.Remove(old);
            entryItems[old] = null;
        }
        var entry = entryItems.Count;
        index!.Add(entry, vector);
        entryItems.Add(itemId);
        entries[itemId] = entry;
    }

    public void Dispose() => index?.Dispose();
}
