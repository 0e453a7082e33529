using LMIndexer.Abstractions;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Downstream;
using LMIndexer.Grains.Inference;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LMIndexer.Grains.Versions;

/// <summary>Persistent registry state of <see cref="IndexVersionGrain"/>.</summary>
[GenerateSerializer]
public sealed class IndexVersionRegistry
{
    [Id(0)] public List<IndexVersionInfo> Versions { get; set; } = [];
    [Id(1)] public string? Active { get; set; }
    [Id(2)] public string? Previous { get; set; }
    [Id(3)] public string? ActiveSearch { get; set; }
    [Id(4)] public long Revision { get; set; }
}

/// <summary>
/// Registered index versions and the active one (singleton, key 0). A version becomes active only
/// when its backfill is complete and its inference grains answer; the switch is one state write, so
/// every request sees either the old version or the new one.
/// </summary>
public sealed class IndexVersionGrain(
    [PersistentState("versions", StorageNames.Default)] IPersistentState<IndexVersionRegistry> state,
    IOptions<IndexVersionOptions> retention,
    IOptions<InferenceOptions> inference,
    Storage.StateWriter writer,
    ILogger<IndexVersionGrain> logger) : Grain, IIndexVersionGrain
{
    private static readonly TimeSpan SubscriptionLifetime = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan NotificationTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Silo caches and when each last subscribed.</summary>
    private readonly Dictionary<IIndexVersionObserver, DateTime> subscribers = [];

    private IndexVersionRegistry Registry => state.State;

    // Read anew per call: a failed write puts the stored state back in place of the one changed.
    private IndexVersionRules Rules => new(state.State);

    private IndexVersionsState Snapshot() =>
        new([.. Registry.Versions], Registry.Active, Registry.Previous, Registry.ActiveSearch, Registry.Revision);

    public Task<IndexVersionsState> SubscribeAsync(IIndexVersionObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        subscribers[observer] = DateTime.UtcNow;
        return Task.FromResult(Snapshot());
    }

    /// <summary>Saves a change and tells every silo cache before the change returns to its caller.</summary>
    private async Task SaveAsync()
    {
        Registry.Revision++;
        await writer.WriteAsync(state);
        var expired = DateTime.UtcNow - SubscriptionLifetime;
        foreach (var stale in subscribers.Where(s => s.Value < expired).Select(s => s.Key).ToList())
            subscribers.Remove(stale);
        var snapshot = Snapshot();
        var targets = subscribers.Keys.ToList();
        var told = await Task.WhenAll(targets.Select(async observer =>
        {
            try
            {
                await observer.OnVersionsChangedAsync(snapshot).WaitAsync(NotificationTimeout);
                return true;
            }
            catch (Exception e)
            {
                // A silo that is gone or slow refreshes from the registry on its own (ServedVersions).
                logger.LogWarning("A silo's version cache did not take revision {Revision}: {Message}", snapshot.Revision, e.Message);
                return false;
            }
        }));
        for (var i = 0; i < targets.Count; i++)
        {
            if (!told[i])
                subscribers.Remove(targets[i]);
        }
    }

    public async Task<IndexVersionInfo> RegisterAsync(string version, string bundlePath, int items, string task = "recommendation", bool ready = true)
    {
        Rules.CheckRegistration(version, task, ready);
        var info = new IndexVersionInfo(version, bundlePath, DateTimeOffset.UtcNow, items, task, ready, ReadsItemText(bundlePath));
        Rules.Register(info);
        await SaveAsync();
        return info;
    }

    public async Task MarkReadyAsync(string version)
    {
        if (Rules.MarkReady(version))
            await SaveAsync();
    }

    public async Task<ActivationResult> ActivateAsync(string version)
    {
        var info = Rules.Activatable(version);
        // Warm-up first: the switch must not hand users to a model that is still loading.
        await Task.WhenAll(Enumerable.Range(0, inference.Value.Replicas).Select(r => GrainFactory.GetGrain<IIndexerInferenceGrain>($"{version}/{r}").WarmUpAsync()));
        var retired = Rules.Activate(info, retention.Value.Retain);
        await SaveAsync();
        logger.LogInformation("Activated {Task} version {Version}; retired {Retired}", info.Task, version, retired.Count == 0 ? "none" : string.Join(", ", retired.Select(r => r.Version)));
        foreach (var old in retired)
        {
            try
            {
                // A job, not this turn: a version's cleanup touches every item and must survive a crash.
                await GrainFactory.GetGrain<IBackfillGrain>(IndexCleanup.JobId(old.Version)).RetireAsync(old);
            }
            catch (Exception e)
            {
                // The switch is done; leftovers of a retired version are inert (nothing routes to it).
                logger.LogWarning(e, "Starting the retirement of version {Version} failed", old.Version);
            }
        }
        return new ActivationResult(version, Registry.Previous, [.. retired.Select(r => r.Version)]);
    }

    public async Task<string> RollbackAsync()
    {
        var previous = Rules.Rollback();
        await SaveAsync();
        logger.LogInformation("Rolled back to version {Version}", previous);
        return previous;
    }

    public Task<IndexVersionsState> GetAsync() => Task.FromResult(Snapshot());

    public Task<string?> GetActiveAsync() => Task.FromResult(Registry.Active);

    public Task<string?> GetActiveSearchAsync() => Task.FromResult(Registry.ActiveSearch);

    /// <summary>
    /// Whether the bundle's model reads item text; true when its manifest cannot be read here (the
    /// bundle may be on the inference silos only), since sending records always works.
    /// </summary>
    private bool ReadsItemText(string bundlePath)
    {
        try
        {
            return ServingBundle.SourceModeOf(ModelBundle.ReadManifest(bundlePath)).ReadsItemText();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or ArgumentException)
        {
            logger.LogInformation("Bundle {Path} is not readable on this silo ({Message}); its model gets item records", bundlePath, e.Message);
            return true;
        }
    }
}
