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
    private const int RecheckEveryTicks = 12;
    private const int LookupsPerTick = 500;

    private readonly HashSet<string> known = new(StringComparer.Ordinal);
    private readonly HashSet<string> unknown = new(StringComparer.Ordinal);

    /// <summary>Events per item not looked up yet: counted as unknown-item events if the lookup finds nothing.</summary>
    private readonly Dictionary<string, int> pending = new(StringComparer.Ordinal);

    private bool dirty;
    private int ticks;
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
        ArgumentNullException.ThrowIfNull(counts);
        foreach (var (itemId, weight, events) in counts)
        {
            state.State.Scores[itemId] = state.State.Scores.GetValueOrDefault(itemId) + weight;
            if (unknown.Contains(itemId))
                UnknownItemEvents.Add(events);
            else if (!known.Contains(itemId))
                pending[itemId] = pending.GetValueOrDefault(itemId) + events;
        }
        dirty = true;
        ranked = null;
        return Task.CompletedTask;
    }

    public async Task<IReadOnlyList<PopularItem>> TopAsync(int count)
    {
        if (ranked is null)
        {
            var candidates = state.State.Scores.Where(kv => !unknown.Contains(kv.Key))
                .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(1000).ToList();
            // Items not looked up yet are looked up now, the first time they could rank.
            await LookUpAsync([.. candidates.Select(kv => kv.Key).Where(id => !known.Contains(id))]);
            ranked = [.. candidates.Where(kv => known.Contains(kv.Key)).Select(kv => new PopularItem(kv.Key, kv.Value))];
        }
        return [.. ranked.Take(count)];
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        // Items with events but no lookup yet; every minute also the unknown ones, which the catalog may have got since.
        var due = pending.Keys.Take(LookupsPerTick).ToList();
        if (++ticks % RecheckEveryTicks == 0)
            due.AddRange(unknown.Take(LookupsPerTick));
        await LookUpAsync(due);
        await FlushAsync(cancellationToken);
    }

    private async Task LookUpAsync(IReadOnlyList<string> itemIds)
    {
        if (itemIds.Count == 0)
            return;
        var records = await Task.WhenAll(itemIds.Select(id => GrainFactory.GetGrain<IItemGrain>(id).GetAsync()));
        for (var i = 0; i < itemIds.Count; i++)
        {
            var id = itemIds[i];
            var events = pending.Remove(id, out var waiting) ? waiting : 0;
            if (records[i] is null)
            {
                if (unknown.Add(id))
                    ranked = null;
                UnknownItemEvents.Add(events);
            }
            else
            {
                known.Add(id);
                if (unknown.Remove(id))
                    ranked = null;
            }
        }
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (!dirty)
            return;
        dirty = false;
        await state.WriteStateAsync(cancellationToken);
    }
}
