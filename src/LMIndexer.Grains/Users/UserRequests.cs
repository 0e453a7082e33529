using System.Diagnostics.Metrics;
using LMIndexer.Abstractions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LMIndexer.Grains.Users;

/// <summary>
/// How the API reaches user grains so that losing a silo fails no request: each call waits at most
/// <see cref="RecommendationOptions.CallTimeoutMilliseconds"/> (a call to a silo that just died
/// would otherwise wait for Orleans' 30 s response timeout); an event batch is sent again until
/// <see cref="RecommendationOptions.EventDeadlineMilliseconds"/> (its event ids make that safe:
/// it is acknowledged once it is written, and counted once however often it arrives); and a
/// recommendation whose user grain cannot answer is answered from popularity, marked degraded.
/// </summary>
public sealed class UserRequests(IGrainFactory grains, IOptions<RecommendationOptions> options, ILogger<UserRequests> logger)
{
    private static readonly Counter<long> Retries = new Meter(UserGrain.MeterName).CreateCounter<long>("lmindexer.user_calls.retries",
        description: "User-grain calls from the API tried again after a timeout or a lost silo.");

    /// <summary>Records a user's events (oldest first); retried while their grain moves to another silo.</summary>
    public async Task<EventReceipt> RecordAsync(string userId, IReadOnlyList<UserEvent> events, CancellationToken cancellationToken = default)
    {
        var settings = options.Value;
        var deadline = DateTime.UtcNow.AddMilliseconds(settings.EventDeadlineMilliseconds);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await grains.GetGrain<IUserGrain>(userId).RecordBatchAsync(events).WaitAsync(CallTimeout(deadline), cancellationToken);
            }
            catch (Exception e) when (IsTransient(e) && DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
            {
                Retries.Add(1, new KeyValuePair<string, object?>("call", "events"));
                logger.LogInformation("Events of user {User} not yet acknowledged (attempt {Attempt}: {Message}); sending them again", userId, attempt, e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 100 * attempt)), cancellationToken);
            }
        }
    }

    /// <summary>A user's recommendations; popular items marked degraded when the user's grain cannot answer in time.</summary>
    public async Task<RecommendationResult> RecommendAsync(string userId, int count, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(options.Value.CallTimeoutMilliseconds);
        try
        {
            return await grains.GetGrain<IUserGrain>(userId).RecommendAsync(count).WaitAsync(CallTimeout(deadline), cancellationToken);
        }
        catch (Exception e) when (IsTransient(e) && !cancellationToken.IsCancellationRequested)
        {
            Retries.Add(1, new KeyValuePair<string, object?>("call", "recommendations"));
            logger.LogWarning("Recommendations for {User} answered from popularity: the user's grain did not answer ({Message})", userId, e.Message);
            // This silo's popularity copy; the user's seen items are with the grain that did not answer.
            // A silo that never read the ranking and cannot reach it now answers empty, still degraded.
            IReadOnlyList<PopularItem> popular;
            try
            {
                popular = await grains.GetGrain<IPopularityCounterGrain>(0).TopAsync(count);
            }
            catch (Exception unreachable) when (IsTransient(unreachable))
            {
                logger.LogWarning("No popularity ranking on this silo for the fallback ({Message})", unreachable.Message);
                popular = [];
            }
            var details = await DetailsAsync(popular.Select(p => p.ItemId).ToList());
            return new RecommendationResult(userId, null,
                [.. popular.Select((p, i) => new RecommendedItem(p.ItemId, p.Score, RecommendationSource.Popular, details[i], RecommendationReasons.Popular))], Degraded: true);
        }
    }

    /// <summary>Catalog records, each given half a second: an item grain on the lost silo leaves its record out, not the answer.</summary>
    private async Task<ItemRecord?[]> DetailsAsync(IReadOnlyList<string> itemIds) =>
        await Task.WhenAll(itemIds.Select(async id =>
        {
            try
            {
                return await grains.GetGrain<IItemGrain>(id).GetAsync().WaitAsync(UserGrain.ItemReadLimit);
            }
            catch (Exception e) when (IsTransient(e))
            {
                return null;
            }
        }));

    private TimeSpan CallTimeout(DateTime deadline)
    {
        var left = Deadline.Left(deadline);
        var call = TimeSpan.FromMilliseconds(options.Value.CallTimeoutMilliseconds);
        return left < call ? left : call;
    }

    /// <summary>Failures of the cluster, not of the request: a caller's mistake is never retried.</summary>
    private static bool IsTransient(Exception e) =>
        e is not (ArgumentException or KeyNotFoundException or DomainConflictException or OperationCanceledException or NotSupportedException);
}
