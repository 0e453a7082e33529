using LMIndexer.Abstractions;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace LMIndexer.Grains.Popularity;

/// <summary>
/// A silo's popularity counter: event weights add up here, on the silo of the user grain that
/// recorded them, and are merged into the <see cref="PopularityGrain"/> singleton every
/// <see cref="MergeEvery"/>; the top items are served from a copy refreshed every
/// <see cref="TopFreshFor"/>. Ingestion thus makes no call off the silo per event, and the singleton
/// sees one merge per silo per interval whatever the event rate.
/// </summary>
/// <remarks>
/// Counts not merged yet are lost if the silo crashes, at most half a second of events; popularity
/// is a fallback ranking, and the events themselves are in the user grains.
/// </remarks>
[StatelessWorker(1)]
[Reentrant]
public sealed class PopularityCounterGrain(ILogger<PopularityCounterGrain> logger) : Grain, IPopularityCounterGrain
{
    public static readonly TimeSpan MergeEvery = TimeSpan.FromMilliseconds(500);
    public static readonly TimeSpan TopFreshFor = TimeSpan.FromSeconds(1);

    /// <summary>Fallback answers ask for a few items; the copy holds this many so most are served from it.</summary>
    private const int TopCopySize = 200;

    private readonly PendingCounts pending = new();
    private readonly PopularTopCopy top = new(TopCopySize, TopFreshFor);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        this.RegisterGrainTimer(_ => MergeAsync(), new GrainTimerCreationOptions(MergeEvery, MergeEvery) { Interleave = true });
        return base.OnActivateAsync(cancellationToken);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await MergeAsync();
        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    public Task RecordAsync(IReadOnlyList<PopularItem> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        foreach (var (itemId, weight) in weights)
            pending.Add(itemId, weight, 1);
        return Task.CompletedTask;
    }

    public async Task<IReadOnlyList<PopularItem>> TopAsync(int count)
    {
        if (top.ToAsk(count, DateTime.UtcNow) is { } asked)
        {
            try
            {
                top.Store(await GrainFactory.GetGrain<IPopularityGrain>(0).TopAsync(asked), asked, DateTime.UtcNow);
            }
            catch (Exception e) when (top.HasCopy && e is not ArgumentException)
            {
                // The ranking's silo was just lost: an older copy is a better fallback than none.
                logger.LogWarning("Popularity ranking unreachable ({Message}); serving the copy from {Read:O}", e.Message, top.ReadAt);
            }
        }
        return top.Take(count);
    }

    private async Task MergeAsync()
    {
        if (pending.Count == 0)
            return;
        var merging = pending.TakeAll();
        try
        {
            await GrainFactory.GetGrain<IPopularityGrain>(0).MergeAsync(merging);
        }
        catch (Exception e)
        {
            // Kept for the next merge rather than dropped.
            pending.Restore(merging);
            logger.LogWarning("Merging {Count} popularity counts failed (retried next time): {Message}", merging.Count, e.Message);
        }
    }
}
