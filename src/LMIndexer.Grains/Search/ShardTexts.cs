using LMIndexer.Abstractions;
using LMIndexer.Core.Retrieval;
using LMIndexer.Core.Text;
using LMIndexer.Grains.Items;

namespace LMIndexer.Grains.Search;

/// <summary>
/// A search shard's item texts: the word index over them and the texts still waiting for a dense
/// vector. <see cref="CatalogSearchGrain"/> embeds the waiting texts off its thread while upserts go
/// on; the rules of what is indexed again and which vectors are still current live here, so that
/// each is unit-tested without a cluster.
/// </summary>
/// <param name="dense">Whether texts wait for vectors at all (dense search is on).</param>
internal sealed class ShardTexts(bool dense)
{
    private readonly Dictionary<string, string> texts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> pending = new(StringComparer.Ordinal);   // id → text awaiting its vector

    public Bm25Index<string> Lexical { get; } = new();

    /// <summary>Items indexed.</summary>
    public int Count => texts.Count;

    /// <summary>Texts waiting for their vectors.</summary>
    public int PendingCount => pending.Count;

    /// <summary>
    /// Indexes the records' texts; a record whose text is unchanged (a restart's catalog load, a
    /// retried upsert) costs nothing. A new or changed text waits for its vector.
    /// </summary>
    public void Index(IEnumerable<ItemRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        foreach (var record in records)
        {
            var text = ItemTextBuilder.Build(record.ToCatalogItem());
            if (texts.TryGetValue(record.ItemId, out var known) && known == text)
                continue;
            texts[record.ItemId] = text;
            Lexical.Upsert(record.ItemId, SearchTextAnalyzer.Terms(text));
            if (dense)
                pending[record.ItemId] = text;
        }
    }

    /// <summary>The texts waiting now (id, text): the batch to embed. They stay waiting until <see cref="Accept"/>.</summary>
    public List<KeyValuePair<string, string>> Pending() => [.. pending];

    /// <summary>
    /// The vectors of an embedded batch that are still current, in batch order; their texts stop
    /// waiting. A text upserted again while the batch embedded keeps waiting with its new text.
    /// </summary>
    public List<(string ItemId, float[] Vector)> Accept(IReadOnlyList<KeyValuePair<string, string>> batch, IReadOnlyList<float[]> vectors)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(vectors);
        if (batch.Count != vectors.Count)
            throw new ArgumentException($"{vectors.Count} vectors for a batch of {batch.Count} texts.", nameof(vectors));
        var current = new List<(string, float[])>(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            if (pending.TryGetValue(batch[i].Key, out var text) && text == batch[i].Value)
            {
                current.Add((batch[i].Key, vectors[i]));
                pending.Remove(batch[i].Key);
            }
        }
        return current;
    }
}
