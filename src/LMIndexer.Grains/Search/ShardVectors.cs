using LMIndexer.Core.Retrieval;

namespace LMIndexer.Grains.Search;

/// <summary>
/// A search shard's item vectors. Dense search scans them all until the shard holds
/// <c>approximateAbove</c> of them; from then on an approximate (HNSW) index kept beside them answers,
/// so a query's cost stops growing with the catalog. An item whose text changed gets a new entry
/// in the index and its old one is removed. Not thread-safe: the grain's turns serialise it.
/// </summary>
/// <param name="saved">
/// Where the index made when the shard crosses the threshold is kept: the next activation on the
/// same vectors (a restart that read them from the vector cache) reads it back instead of building it
/// again, and only the newest graph is kept there. Null: built in memory each time.
/// </param>
public sealed class ShardVectors(int approximateAbove, SavedVectorIndexes? saved = null) : IDisposable
{
    private readonly Dictionary<string, float[]> vectors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> entries = new(StringComparer.Ordinal);   // item id → its entry in the index
    private readonly List<string?> entryItems = [];                                   // entry → item id; null once replaced
    private ApproximateVectorIndex? index;

    public int Count => vectors.Count;

    /// <summary>Whether searches read the approximate index.</summary>
    public bool IsApproximate => index is not null;

    /// <summary>Where the index was read from or saved to, when it is kept on disk.</summary>
    public VectorIndexOrigin? Origin { get; private set; }

    public void Set(string itemId, float[] vector) => SetMany([(itemId, vector)]);

    /// <summary>
    /// Sets a batch of vectors. A batch that takes the shard past the threshold makes the index once,
    /// over every vector (an activation embeds the whole shard as one batch), not item by item.
    /// </summary>
    public void SetMany(IReadOnlyList<(string ItemId, float[] Vector)> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        foreach (var (itemId, vector) in batch)
        {
            ArgumentNullException.ThrowIfNull(itemId);
            ArgumentNullException.ThrowIfNull(vector);
            vectors[itemId] = vector;
            if (index is not null)
                AddToIndex(itemId, vector);
        }
        if (index is null && approximateAbove > 0 && vectors.Count >= approximateAbove)
            MakeIndex();
    }

    /// <summary>The <paramref name="k"/> best items by inner product, best first (approximately, once the index is in use).</summary>
    public IReadOnlyList<(string Key, double Score)> Search(float[] query, int k)
    {
        if (index is null)
            return VectorTopK.Search(query, vectors, k);
        return [.. index.Search(query, k).Select(hit => (entryItems[hit.Item]!, (double)hit.Score))];
    }

    private void MakeIndex()
    {
        // Rows in id order, so the same vectors make the same table and find their saved graph.
        var ordered = vectors.OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        var width = ordered[0].Value.Length;
        var rows = new float[ordered.Count * width];
        for (var i = 0; i < ordered.Count; i++)
        {
            if (ordered[i].Value.Length != width)
                throw new InvalidOperationException($"Item '{ordered[i].Key}' has a vector of {ordered[i].Value.Length} values, the shard's others {width}.");
            ordered[i].Value.CopyTo(rows, i * width);
        }
        if (saved is null)
        {
            index = ApproximateVectorIndex.FromRows(rows, width);
        }
        else
        {
            (index, var origin) = saved.GetOrBuild(rows, width);
            Origin = origin;
            saved.DeleteAllBut(origin.Path);
        }
        for (var i = 0; i < ordered.Count; i++)
        {
            entryItems.Add(ordered[i].Key);
            entries[ordered[i].Key] = i;
        }
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
