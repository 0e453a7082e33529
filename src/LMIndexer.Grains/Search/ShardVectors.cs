using LMIndexer.Core.Retrieval;

namespace LMIndexer.Grains.Search;

/// <summary>
/// A search shard's item vectors. Dense search scans them all until the shard holds
/// <c>approximateAbove</c> of them; from then on an approximate (HNSW) index kept beside them answers,
/// so a query's cost stops growing with the catalog. An item whose text changed gets a new entry
/// in the index and its old one is removed. Not thread-safe: the grain's turns serialise it.
/// </summary>
/// <param name="kept">
/// Where the index is kept: saved when it is built and again, if it changed, when the shard leaves
/// memory (<see cref="SaveIfChanged"/>), so that the next activation on the same vectors reads it back
/// instead of building the graph again. Null: built in memory each time.
/// </param>
public sealed class ShardVectors(int approximateAbove, KeptShardIndex? kept = null) : IDisposable
{
    private readonly Dictionary<string, float[]> vectors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> entries = new(StringComparer.Ordinal);   // item id → its entry in the index
    private readonly List<string?> entryItems = [];                                   // entry → item id; null once replaced
    private ApproximateVectorIndex? index;
    private bool changedSinceSaved;                                                   // entries added or replaced since the index was read or saved

    public int Count => vectors.Count;

    /// <summary>Whether searches read the approximate index.</summary>
    public bool IsApproximate => index is not null;

    /// <summary>Whether the index was read back from <c>kept</c> rather than built (null: no index yet).</summary>
    public bool? ReadBack { get; private set; }

    /// <summary>Why a kept index was not used or could not be saved, if that happened.</summary>
    public string? Problem { get; private set; }

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
        // Rows in id order, so the same vectors make the same table and find their kept index.
        var ordered = vectors.OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        var width = ordered[0].Value.Length;
        if (ordered.FirstOrDefault(p => p.Value.Length != width) is { Key: not null } odd)
            throw new InvalidOperationException($"Item '{odd.Key}' has a vector of {odd.Value.Length} values, the shard's others {width}.");
        string? problem = null;
        if (kept?.TryLoad(KeptShardIndex.NameOf(ordered), width, vectors.Keys.ToHashSet(StringComparer.Ordinal), out problem) is ({ } loaded, { } loadedEntries))
        {
            index = loaded;
            for (var entry = 0; entry < loadedEntries.Count; entry++)
            {
                entryItems.Add(loadedEntries[entry]);
                if (loadedEntries[entry] is { } itemId)
                    entries[itemId] = entry;
            }
            ReadBack = true;
            return;
        }
        Problem = problem;
        var rows = new float[ordered.Count * width];
        for (var i = 0; i < ordered.Count; i++)
        {
            ordered[i].Value.CopyTo(rows, i * width);
            entryItems.Add(ordered[i].Key);
            entries[ordered[i].Key] = i;
        }
        index = ApproximateVectorIndex.FromRows(rows, width);
        ReadBack = false;
        changedSinceSaved = true;
        SaveIfChanged();   // the build is the expensive part: kept at once, not only at deactivation
    }

    /// <summary>
    /// Keeps the index if it changed since it was read or saved, under the name of the vectors it now
    /// holds. A failure to write is kept in <see cref="Problem"/>: the shard goes on in memory.
    /// </summary>
    public void SaveIfChanged()
    {
        if (kept is null || index is null || !changedSinceSaved)
            return;
        try
        {
            kept.Save(KeptShardIndex.NameOf(vectors.OrderBy(p => p.Key, StringComparer.Ordinal)), index, entryItems);
            changedSinceSaved = false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Problem = $"the index could not be kept in {kept.Directory} ({e.Message})";
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
        changedSinceSaved = true;
        entryItems.Add(itemId);
        entries[itemId] = entry;
    }

    public void Dispose() => index?.Dispose();
}
