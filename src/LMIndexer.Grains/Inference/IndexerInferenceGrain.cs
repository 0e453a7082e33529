using LMIndexer.Abstractions;
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

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        var version = key.Split('/')[0];
        var state = await GrainFactory.GetGrain<IIndexVersionGrain>(0).GetAsync();
        var info = state.Versions.FirstOrDefault(v => v.Version == version)
            ?? throw new InvalidOperationException($"Index version '{version}' is not registered.");
        // Loading reads a few MB to a few GB from disk: do it off the grain scheduler.
        engine = await Task.Run(() => registry.Get(version, info.BundlePath), cancellationToken);
        await base.OnActivateAsync(cancellationToken);
    }

    public Task<GenerationResult> GenerateAsync(IReadOnlyList<ItemRecord> history, int beams) => engine!.GenerateAsync(history, beams);

    public Task<GenerationResult> SearchAsync(string query, int beams) => engine!.SearchAsync(query, beams);

    public Task<InferenceStats> GetStatsAsync() => Task.FromResult(engine!.Stats(silo.SiloAddress.ToString()));
}
