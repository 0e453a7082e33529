using System.Diagnostics.Metrics;
using LMIndexer.Abstractions;
using LMIndexer.Grains.Inference;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LMIndexer.Grains.Users;

/// <summary>Persistent state of <see cref="UserGrain"/>.</summary>
[GenerateSerializer]
public sealed class UserState
{
    [Id(0)] public List<HistoryEntry> History { get; set; } = [];
    [Id(1)] public List<string> Seen { get; set; } = [];
    [Id(2)] public List<string> RecentEventIds { get; set; } = [];
}

/// <summary>
/// A user: bounded history, seen set, idempotent event recording, and the recommendation flow
/// (this silo's view of the active version → inference, which names the items it generated → seen
/// filter → popularity padding).
/// </summary>
public sealed class UserGrain(
    [PersistentState("user", StorageNames.Default)] IPersistentState<UserState> state,
    IOptions<RecommendationOptions> recommendationOptions,
    IOptions<InferenceOptions> inferenceOptions,
    Storage.StateWriter writer,
    Versions.ServedVersions versions,
    InferenceRoute inference,
    ILogger<UserGrain> logger) : Grain, IUserGrain
{
    public const string MeterName = "LMIndexer.Recommendations";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Answered recommendation requests by how they were answered: model, cold (no history or version), degraded (the model failed).</summary>
    private static readonly Counter<long> Answers = Meter.CreateCounter<long>("lmindexer.recommendations",
        description: "Answered recommendation requests, by answer: model, cold (no history or no served version), degraded (the model failed or timed out).");

    private readonly Dictionary<string, ItemRecord> records = new(StringComparer.Ordinal);
    /// <summary>History items' semantic IDs, with the version they were fetched for (an item may have none in it).</summary>
    private readonly Dictionary<string, (string Version, IReadOnlyList<VersionedSemanticId> Ids)> semanticIds = new(StringComparer.Ordinal);
    /// <summary>History items the catalog did not hold, and when to ask again.</summary>
    private readonly Dictionary<string, DateTime> notInCatalog = new(StringComparer.Ordinal);
    private static readonly TimeSpan RecheckNotInCatalog = TimeSpan.FromMinutes(1);
    private UserMemory? memory;

    private UserMemory Memory => memory ??= new UserMemory(() => state.State, recommendationOptions.Value);

    public Task<EventReceipt> RecordAsync(UserEvent userEvent) => RecordBatchAsync([userEvent]);

    public async Task<EventReceipt> RecordBatchAsync(IReadOnlyList<UserEvent> userEvents)
    {
        ArgumentNullException.ThrowIfNull(userEvents);
        var user = this.GetPrimaryKeyString();
        var weights = new List<PopularItem>(userEvents.Count);
        // Check the whole batch first: a rejected batch must leave the state untouched.
        if (userEvents.FirstOrDefault(e => e.UserId != user) is { } stranger)
            throw new ArgumentException($"Event '{stranger.EventId}' of user '{stranger.UserId}' sent to user '{user}'.", nameof(userEvents));
        foreach (var userEvent in userEvents)
        {
            if (Memory.Append(userEvent))
                weights.Add(new PopularItem(userEvent.ItemId, Popularity.PopularityGrain.Weight(userEvent.Type)));
        }
        if (weights.Count > 0)
        {
            try
            {
                // Acknowledged only once saved: retried on transient failures, surfaced otherwise.
                await writer.WriteAsync(state);
            }
            catch
            {
                // The writer put the state back as stored; the sets built from it forget the unsaved
                // events too, so that the client's retry (same event ids) is not taken for a duplicate.
                Memory.Reload();
                throw;
            }
            await GrainFactory.GetGrain<IPopularityCounterGrain>(0).RecordAsync(weights);
        }
        return new EventReceipt(weights.Count > 0, state.State.History.Count, userEvents.Count - weights.Count);
    }

    public Task<IReadOnlyList<HistoryEntry>> GetHistoryAsync() => Task.FromResult<IReadOnlyList<HistoryEntry>>([.. state.State.History]);

    public async Task<RecommendationResult> RecommendAsync(int count)
    {
        var maxCount = recommendationOptions.Value.MaxCount;
        if (count < 1 || count > maxCount)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"count must be between 1 and {maxCount}.");
        var slate = new RecommendationSlate(count, Memory.Seen);
        string? version = null;
        var degraded = false;
        var deadline = DateTime.UtcNow.AddMilliseconds(inferenceOptions.Value.TimeoutMilliseconds);
        string? active = null;
        try
        {
            if (state.State.History.Count > 0 && await versions.ActiveAsync() is { } served)
            {
                active = served.Version;
                var historyIds = Memory.HistoryItems();
                await FetchHistoryAsync(historyIds, active, deadline);
                var history = await RecordsAsync(historyIds, deadline);
                var beams = Math.Max(inferenceOptions.Value.Beams, count);
                var generated = await inference.RecommendAsync(served, this.GetPrimaryKeyString(), history, beams, deadline);
                version = generated.Version;
                var followed = state.State.History.Select(h => (h, records.GetValueOrDefault(h.ItemId), SemanticIdOf(h.ItemId, generated.Version))).ToList();
                foreach (var generatedId in generated.Ids)
                {
                    if (slate.IsFull)
                        break;
                    slate.Add(generatedId.ItemId, generatedId.Score, RecommendationSource.Model, RecommendationReasons.ForGenerated(generatedId.Codes, followed));
                }
            }
        }
        catch (Exception e)
        {
            // Shoppers get popular items rather than an error; the response says so.
            logger.LogWarning(e, "Recommendations for {User} fall back to popularity: the model of version {Version} did not answer", this.GetPrimaryKeyString(), active ?? "(unknown)");
            degraded = true;
            version = null;
            slate.Clear();
        }
        Answers.Add(1, new KeyValuePair<string, object?>("answer", degraded ? "degraded" : version is null ? "cold" : "model"));
        if (!slate.IsFull)
            slate.FillWithPopular(await GrainFactory.GetGrain<IPopularityCounterGrain>(0).TopAsync(slate.PopularNeeded));
        var details = await RecordsAsync([.. slate.ItemIds], DateTime.UtcNow + ItemReadLimit);
        var byId = details.ToDictionary(d => d.ItemId, StringComparer.Ordinal);
        return new RecommendationResult(this.GetPrimaryKeyString(), version, slate.Items(byId), degraded);
    }

    /// <summary>Records and semantic IDs of history items (the reasons need the IDs), fetched once per item and served version.</summary>
    private async Task FetchHistoryAsync(IReadOnlyList<string> itemIds, string version, DateTime deadline)
    {
        var missing = itemIds.Where(id => !semanticIds.TryGetValue(id, out var cached) || cached.Version != version).ToList();
        var fetched = await Task.WhenAll(missing.Select(id => WithinAsync(GrainFactory.GetGrain<IItemGrain>(id).GetDetailsAsync(), deadline)));
        for (var i = 0; i < missing.Count; i++)
        {
            if (!fetched[i].Reached)
                continue;   // asked again next time
            semanticIds[missing[i]] = (version, fetched[i].Value?.SemanticIds ?? []);
            if (fetched[i].Value is { } details)
                records[missing[i]] = details.Record;
            else
                notInCatalog[missing[i]] = DateTime.UtcNow + RecheckNotInCatalog;
        }
    }

    /// <summary>How long one request waits for an item grain at most (the API's degraded answers too: <see cref="UserRequests"/>).</summary>
    internal static readonly TimeSpan ItemReadLimit = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// An item grain's answer by <paramref name="deadline"/> (and within <see cref="ItemReadLimit"/>),
    /// or not reached: an item on a silo that stopped answering must not hold this request, and the
    /// user's events queued behind it, for Orleans' 30 s response timeout.
    /// </summary>
    private static async Task<(bool Reached, T? Value)> WithinAsync<T>(Task<T> call, DateTime deadline)
    {
        var left = Deadline.Left(deadline);
        try
        {
            return (true, await call.WaitAsync(left < ItemReadLimit ? left : ItemReadLimit));
        }
        catch (Exception e) when (e is TimeoutException or OrleansException)
        {
            return (false, default);
        }
    }

    private long[]? SemanticIdOf(string itemId, string version) =>
        semanticIds.TryGetValue(itemId, out var cached) ? cached.Ids.FirstOrDefault(s => s.Version == version)?.Codes : null;

    /// <summary>
    /// Catalog records of items (cached for the activation's lifetime). Unknown items are left out
    /// and asked for again only after <see cref="RecheckNotInCatalog"/>, when the catalog may have
    /// them; items not reached by <paramref name="deadline"/> are left out of this answer only.
    /// </summary>
    private async Task<List<ItemRecord>> RecordsAsync(IReadOnlyList<string> itemIds, DateTime deadline)
    {
        var now = DateTime.UtcNow;
        var missing = itemIds.Where(id => !records.ContainsKey(id) && !(notInCatalog.TryGetValue(id, out var until) && until > now))
            .Distinct(StringComparer.Ordinal).ToList();
        var fetched = await Task.WhenAll(missing.Select(id => WithinAsync(GrainFactory.GetGrain<IItemGrain>(id).GetAsync(), deadline)));
        for (var i = 0; i < missing.Count; i++)
        {
            if (!fetched[i].Reached)
                continue;   // left out of this answer, asked again next time
            if (fetched[i].Value is { } record)
            {
                records[record.ItemId] = record;
                notInCatalog.Remove(record.ItemId);
            }
            else
            {
                notInCatalog[missing[i]] = now + RecheckNotInCatalog;
            }
        }
        return [.. itemIds.Where(records.ContainsKey).Select(id => records[id])];
    }
}
