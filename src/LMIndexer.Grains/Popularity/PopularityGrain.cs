using System.Diagnostics.Metrics;
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
/// Item popularity from events (singleton, key 0), merged from the silos' counters
/// (<see cref="PopularityCounterGrain"/>): weighted counts, kept in memory and written at
/// most every few seconds so that event ingestion does not pay a storage write per event. Only
/// items the catalog holds are ranked: an event for an unknown item is counted in
/// <c>lmindexer.events.unknown_items</c> once its item has been looked up, and the item is looked up
/// again every minute, so that it ranks once the catalog gets it.
/// </summary>
public sealed class PopularityGrain(
    [PersistentState("popularity", StorageNames.Default)] IPersistentState<PopularityState> state,
    ILogger<PopularityGrain> logger) : Grain, IPopularityGrain
{
    public const string MeterName = "LMIndexer.Popularity";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> UnknownItemEvents = Meter.CreateCounter<long>("lmindexer.events.unknown_items",
        description: "Events for items the catalog does not hold; such items are never recommended.");

    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(5);

    private readonly PopularityRanking ranking = new(() => state.State);
    private bool dirty;

    /// <summary>Event weights: stronger intent counts more.</summary>
    public static double Weight(EventType type) => type switch
    {
        EventType.Purchase => 5,
        EventType.Cart => 3,
        _ => 1,
    };

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        this.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions(FlushInterval, FlushInterval) { Interleave = false });
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

    public Task MergeAsync(IReadOnlyList<ItemEventCount> counts)
    {
        UnknownItemEvents.Add(ranking.Merge(counts));
        dirty = true;
        return Task.CompletedTask;
    }

    public async Task<IReadOnlyList<PopularItem>> TopAsync(int count)
    {
        // Items not looked up yet are looked up now, the first time they could rank.
        if (!ranking.IsCurrent)
            await LookUpAsync(ranking.ToLookUpBeforeRanking());
        return ranking.Top(count);
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        await LookUpAsync(ranking.DueAtTick());
        await FlushAsync(cancellationToken);
    }

    private async Task LookUpAsync(IReadOnlyList<string> itemIds)
    {
        if (itemIds.Count == 0)
            return;
        var records = await Task.WhenAll(itemIds.Select(id => GrainFactory.GetGrain<IItemGrain>(id).GetAsync()));
        UnknownItemEvents.Add(ranking.Resolve(itemIds, [.. records.Select(r => r is not null)]));
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (!dirty)
            return;
        dirty = false;
        await state.WriteStateAsync(cancellationToken);
    }
}
