using LMIndexer.Abstractions;
using Microsoft.Extensions.Logging;

namespace LMIndexer.Grains.Popularity;

/// <summary>Persistent state of <see cref="PopularityGrain"/>.</summary>
[GenerateSerializer]
public sealed class PopularityState
{
    [Id(0)] public Dictionary<string, double> Scores { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Item popularity from events (singleton, key 0): weighted counts, kept in memory and written at
/// most every few seconds so that event ingestion does not pay a storage write per event.
/// </summary>
public sealed class PopularityGrain(
    [PersistentState("popularity", StorageNames.Default)] IPersistentState<PopularityState> state,
    ILogger<PopularityGrain> logger) : Grain, IPopularityGrain
{
    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(5);
    private bool dirty;
    private List<PopularItem>? ranked;

    /// <summary>Event weights: stronger intent counts more.</summary>
    public static double Weight(EventType type) => type switch
    {
        EventType.Purchase => 5,
        EventType.Cart => 3,
        _ => 1,
    };

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        this.RegisterGrainTimer(FlushAsync, new GrainTimerCreationOptions(FlushInterval, FlushInterval) { Interleave = false });
        return base.OnActivateAsync(cancellationToken);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        try
        {
            await FlushAsync(cancellationToken);
        }
        catch (OrleansException e) when (reason.ReasonCode == DeactivationReasonCode.ShuttingDown)
        {
            // A silo that shuts down may already have stopped its storage (the in-memory provider
            // does); the counts since the last timer flush are lost, as they would be in a crash.
            logger.LogWarning("Popularity counts since the last flush were not saved at shutdown: {Message}", e.Message);
        }
        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    public Task RecordAsync(IReadOnlyList<PopularItem> weights)
    {
        foreach (var (itemId, weight) in weights)
            state.State.Scores[itemId] = state.State.Scores.GetValueOrDefault(itemId) + weight;
        dirty = true;
        ranked = null;
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<PopularItem>> TopAsync(int count)
    {
        ranked ??= [.. state.State.Scores.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(1000).Select(kv => new PopularItem(kv.Key, kv.Value))];
        return Task.FromResult<IReadOnlyList<PopularItem>>([.. ranked.Take(count)]);
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (!dirty)
            return;
        dirty = false;
        await state.WriteStateAsync(cancellationToken);
    }
}
