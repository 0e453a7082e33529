using LMIndexer.Abstractions;
using LMIndexer.Grains.Items;
using LMIndexer.Grains.Placement;
using Orleans.Concurrency;

namespace LMIndexer.Grains.Inference;

/// <summary>
/// The model of one version (key <c>{version}/{replica}</c>), placed on GPU silos. Reentrant so
/// that concurrent requests reach the engine's batcher together; the grain itself never touches
/// torch — the engine's worker thread does.
/// </summary>
[GpuPlacement]
[Reentrant]
public sealed class IndexerInferenceGrain(InferenceEngineRegistry registry, ILocalSiloDetails silo) : Grain, IIndexerInferenceGrain
{
    private InferenceEngine? engine;
    private string task = "recommendation";
    private string version = "";

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        version = key.Split('/')[0];
        var state = await GrainFactory.GetGrain<IIndexVersionGrain>(0).GetAsync();
        var info = state.Versions.FirstOrDefault(v => v.Version == version);
        if (info is null)
        {
            // Stays up without a model: UnloadAsync of a retired version must still work; every
            // other call fails with this.
            await base.OnActivateAsync(cancellationToken);
            return;
        }
        // Loading reads a few MB to a few GB from disk: do it off the grain scheduler.
        task = info.Task;
        engine = await Task.Run(() => registry.Get(version, info.BundlePath), cancellationToken);
        // Items the catalog gained after the bundle was trained live in the prefix grains only.
        var first = engine.FirstCodes;
        var listed = await Task.WhenAll(Enumerable.Range(0, first).Select(c => GrainFactory.GetGrain<IIdPrefixGrain>($"{version}/{c}").ListAllocatedAsync()));
        var known = engine;
        List<PrefixEntry> added = [.. listed.SelectMany(l => l)];
        var texts = await TextsFor(known, added);
        await Task.Run(() => known.AddItems(added, texts), cancellationToken);
        await base.OnActivateAsync(cancellationToken);
    }

    private InferenceEngine Engine => engine ?? throw new InvalidOperationException($"Index version '{version}' is not registered.");

    public Task<GenerationResult> GenerateAsync(IReadOnlyList<ItemRecord> history, int beams) => Engine.GenerateAsync(history, beams);

    public Task<GenerationResult> GenerateFromItemIdsAsync(IReadOnlyList<string> history, int beams) => Engine.GenerateAsync(history, beams);

    public Task<GenerationResult> SearchAsync(string query, int beams) => Engine.SearchAsync(query, beams);

    public Task<InferenceStats> GetStatsAsync() => Task.FromResult(Engine.Stats(silo.SiloAddress.ToString()));

    public async Task WarmUpAsync()
    {
        // One real generation: the first batch pays for allocator and kernel warm-up, not a user.
        if (task == "search")
            await Engine.SearchAsync("warm up", 1);
        else
            await Engine.GenerateAsync(Array.Empty<ItemRecord>(), 1);
    }

    public async Task<int> AddItemsAsync(IReadOnlyList<PrefixEntry> entries)
    {
        var target = Engine;
        var texts = await TextsFor(target, entries);
        // Building the trie's tensors (and embedding the texts) is torch and ONNX work: off the grain scheduler.
        return await Task.Run(() => target.AddItems(entries, texts));
    }

    public Task<ItemVector> GetItemVectorAsync(string itemId)
    {
        var target = Engine;
        // Reading a tensor row is torch work: off the grain scheduler.
        return Task.Run(() => target.VectorOf(itemId));
    }

    /// <summary>The items' texts from their grains when the engine gives new items dense vectors (an item without a record embeds as empty text).</summary>
    private async Task<IReadOnlyList<string>?> TextsFor(InferenceEngine target, IReadOnlyList<PrefixEntry> entries)
    {
        if (!target.NeedsItemTexts)
            return null;
        var records = await Task.WhenAll(entries.Select(e => GrainFactory.GetGrain<IItemGrain>(e.ItemId).GetAsync()));
        return [.. records.Select(r => r is null ? "" : Core.Text.ItemTextBuilder.Build(r.ToCatalogItem()))];
    }

    public Task UnloadAsync()
    {
        engine = null;
        registry.Unload(version);
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}
