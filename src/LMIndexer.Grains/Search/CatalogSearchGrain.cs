using LMIndexer.Abstractions;
using LMIndexer.Grains.Items;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LMIndexer.Grains.Search;

/// <summary>Persistent state of <see cref="CatalogSearchGrain"/>: the ids it indexes (their texts live in the item grains).</summary>
[GenerateSerializer]
public sealed class CatalogSearchState
{
    [Id(0)] public HashSet<string> ItemIds { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// One shard of the catalog's search index. The index itself is in memory, rebuilt from the item
/// grains on activation; only the id list is stored, so an update of a known item costs no write.
/// With <see cref="SearchOptions.VectorCacheDirectory"/> set, the item vectors and the shard's
/// approximate index are read back from the silo's disk instead of being made again.
/// Item vectors are embedded in batches off the grain's thread: on a short timer, and before any
/// dense search, so an item is rankable from the first request after its upsert. Upserts go on while
/// a batch embeds, so an item's upsert never waits behind one.
/// </summary>
[KeepAlive]
public sealed class CatalogSearchGrain(
    [PersistentState("catalog-search", StorageNames.Default)] IPersistentState<CatalogSearchState> state,
    Storage.StateWriter writer,
    ItemTextEmbedder embedder,
    IOptions<SearchOptions> options,
    ILogger<CatalogSearchGrain> logger) : Grain, ICatalogSearchGrain
{
    private static readonly TimeSpan EmbedInterval = TimeSpan.FromMilliseconds(250);
    private const int LoadBatch = 256;

    private ShardTexts texts = null!;   // made at activation, with the embedder's setting
    private ShardVectors vectors = null!;   // made at activation, when the shard's number is known
    private Task? embedding;   // the batch being embedded now, if any: one at a time

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        texts = new ShardTexts(embedder.Enabled);
        vectors = new ShardVectors(options.Value.ApproximateShardItems, KeptIndex());
        var ids = state.State.ItemIds.ToList();
        foreach (var chunk in ids.Chunk(LoadBatch))
        {
            var records = await Task.WhenAll(chunk.Select(id => GrainFactory.GetGrain<IItemGrain>(id).GetAsync()));
            texts.Index(records.OfType<ItemRecord>());
        }
        // Interleaving, so that upserts and searches are served while a batch embeds.
        if (embedder.Enabled)
            this.RegisterGrainTimer(EmbedPendingAsync, new GrainTimerCreationOptions(TimeSpan.Zero, EmbedInterval) { Interleave = true });
        if (ids.Count > 0)
            logger.LogInformation("Search shard {Shard} indexed {Items} items", this.GetPrimaryKeyLong(), texts.Count);
        await base.OnActivateAsync(cancellationToken);
    }

    /// <summary>
    /// With a vector cache, the shard's approximate index is kept beside it: a restart reads the
    /// vectors back from the cache and then, being the same vectors, the index too.
    /// </summary>
    private KeptShardIndex? KeptIndex()
    {
        var cache = options.Value.VectorCacheDirectory;
        return string.IsNullOrWhiteSpace(cache)
            ? null
            : new KeptShardIndex(Path.Combine(cache, "search-index", $"shard-{this.GetPrimaryKeyLong()}"));
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (vectors is not null)
        {
            // Items added since the index was read or built: kept now, so the next activation reads it.
            var before = vectors.Problem;
            vectors.SaveIfChanged();
            if (vectors.Problem is { } problem && problem != before)
                logger.LogWarning("Search shard {Shard}: {Problem}", this.GetPrimaryKeyLong(), problem);
            vectors.Dispose();
        }
        return base.OnDeactivateAsync(reason, cancellationToken);
    }

    public async Task UpsertAsync(IReadOnlyList<ItemRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var shard = this.GetPrimaryKeyLong();
        if (records.FirstOrDefault(r => CatalogSearchShards.Of(r.ItemId) != shard) is { } stray)
            throw new ArgumentException($"Item '{stray.ItemId}' belongs to search shard {CatalogSearchShards.Of(stray.ItemId)}, not {shard}.", nameof(records));
        texts.Index(records);
        // A failed write puts the id set back as stored, so the caller's retry writes the new ids again.
        var added = false;
        foreach (var record in records)
            added |= state.State.ItemIds.Add(record.ItemId);
        if (added)
            await writer.WriteAsync(state);
    }

    public async Task<CatalogSearchHits> SearchAsync(CatalogQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        IReadOnlyList<(string Key, double Score)> denseHits = [];
        if (query.Vector is not null && embedder.Enabled)
        {
            await EmbedPendingAsync();
            if (vectors.Count > 0)
                denseHits = vectors.Search(query.Vector, query.Candidates);
        }
        // After the wait, so that both lists see the same items.
        var lexicalHits = query.Terms.Count == 0 ? [] : texts.Lexical.Search(query.Terms, query.Candidates);
        return new CatalogSearchHits(
            [.. lexicalHits.Select(h => new ScoredItem(h.Key, h.Score))],
            [.. denseHits.Select(h => new ScoredItem(h.Key, h.Score))]);
    }

    public Task<int> CountAsync() => Task.FromResult(texts.Count);

    /// <summary>
    /// Embeds every pending text, waiting first for a batch already embedding. The vectors are kept
    /// only for texts still current: an upsert during the batch leaves its new text pending.
    /// </summary>
    private async Task EmbedPendingAsync()
    {
        // The batch's own task ends after its vectors are in and the field is clear. Waiting on the
        // inner embedding instead would spin: this turn would hold the grain that the batch's
        // continuation needs.
        while (embedding is { IsCompleted: false } running)
        {
            try
            {
                await running;
            }
            catch (Exception)
            {
                // That batch's owner reports its failure; its texts stay pending and are tried below.
            }
        }
        if (texts.PendingCount == 0)
            return;
        var batch = EmbedBatchAsync(texts.Pending());
        embedding = batch;
        await batch;
    }

    private async Task EmbedBatchAsync(List<KeyValuePair<string, string>> batch)
    {
        try
        {
            var batchTexts = batch.Select(p => p.Value).ToList();
            var embedded = await Task.Run(() => embedder.EmbedItems(batchTexts));
            var current = texts.Accept(batch, embedded);
            var wasApproximate = vectors.IsApproximate;
            vectors.SetMany(current);
            if (!wasApproximate && vectors.ReadBack is { } readBack)
            {
                if (vectors.Problem is { } problem)
                    logger.LogWarning("Search shard {Shard}: {Problem}", this.GetPrimaryKeyLong(), problem);
                logger.LogInformation("Search shard {Shard} {How} its approximate index of {Items} items", this.GetPrimaryKeyLong(), readBack ? "read back" : "built", vectors.Count);
            }
        }
        finally
        {
            embedding = null;
        }
    }
}
