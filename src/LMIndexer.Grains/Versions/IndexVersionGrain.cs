using LMIndexer.Abstractions;
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
    private IndexVersionRegistry Registry => state.State;

    public async Task<IndexVersionInfo> RegisterAsync(string version, string bundlePath, int items, string task = "recommendation", bool ready = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(version);
        if (version.Contains('/', StringComparison.Ordinal))
            throw new ArgumentException($"A version name cannot contain '/': '{version}'.", nameof(version));
        if (task is not ("recommendation" or "search"))
            throw new ArgumentException($"Only recommendation and search bundles can be served, not '{task}'.", nameof(task));
        if (!ready && (version == Registry.Active || version == Registry.ActiveSearch))
            throw new DomainConflictException($"Version '{version}' is being served; a retrained index needs a new version name.");
        var info = new IndexVersionInfo(version, bundlePath, DateTimeOffset.UtcNow, items, task, ready);
        Registry.Versions.RemoveAll(v => v.Version == version);
        Registry.Versions.Add(info);
        await writer.WriteAsync(state);
        return info;
    }

    public async Task MarkReadyAsync(string version)
    {
        var index = Registry.Versions.FindIndex(v => v.Version == version);
        if (index < 0)
            throw new KeyNotFoundException($"Index version '{version}' is not registered.");
        if (Registry.Versions[index].Ready)
            return;
        Registry.Versions[index] = Registry.Versions[index] with { Ready = true };
        await writer.WriteAsync(state);
    }

    public async Task<ActivationResult> ActivateAsync(string version)
    {
        var info = Registry.Versions.FirstOrDefault(v => v.Version == version)
            ?? throw new KeyNotFoundException($"Index version '{version}' is not registered.");
        if (!info.Ready)
            throw new DomainConflictException($"Index version '{version}' cannot be activated before its backfill has completed.");
        // Warm-up first: the switch must not hand users to a model that is still loading.
        await Task.WhenAll(Enumerable.Range(0, inference.Value.Replicas).Select(r => GrainFactory.GetGrain<IIndexerInferenceGrain>($"{version}/{r}").WarmUpAsync()));
        if (info.Task == "search")
        {
            Registry.ActiveSearch = version;
        }
        else if (Registry.Active != version)
        {
            Registry.Previous = Registry.Active;
            Registry.Active = version;
        }
        var retired = Retire();
        await writer.WriteAsync(state);
        logger.LogInformation("Activated {Task} version {Version}; retired {Retired}", info.Task, version, retired.Count == 0 ? "none" : string.Join(", ", retired.Select(r => r.Version)));
        foreach (var old in retired)
        {
            try
            {
                await IndexCleanup.RetireAsync(GrainFactory, old, inference.Value.Replicas, logger);
            }
            catch (Exception e)
            {
                // The switch is done; leftovers of a retired version are inert (nothing routes to it).
                logger.LogWarning(e, "Cleaning up retired version {Version} failed", old.Version);
            }
        }
        return new ActivationResult(version, Registry.Previous, [.. retired.Select(r => r.Version)]);
    }

    public async Task<string> RollbackAsync()
    {
        var previous = Registry.Previous ?? throw new DomainConflictException("There is no previous version to roll back to.");
        (Registry.Previous, Registry.Active) = (Registry.Active, previous);
        await writer.WriteAsync(state);
        logger.LogInformation("Rolled back to version {Version}", previous);
        return previous;
    }

    public Task<IndexVersionsState> GetAsync() =>
        Task.FromResult(new IndexVersionsState([.. Registry.Versions], Registry.Active, Registry.Previous, Registry.ActiveSearch));

    public Task<string?> GetActiveAsync() => Task.FromResult(Registry.Active);

    public Task<string?> GetActiveSearchAsync() => Task.FromResult(Registry.ActiveSearch);

    /// <summary>Drops the oldest versions beyond the retention limit from the registry (never a served one); returns them.</summary>
    private List<IndexVersionInfo> Retire()
    {
        var keep = new HashSet<string?>([Registry.Active, Registry.Previous, Registry.ActiveSearch], StringComparer.Ordinal);
        var excess = Registry.Versions.Count - retention.Value.Retain;
        var retired = Registry.Versions
            .Where(v => !keep.Contains(v.Version) && v.Ready)
            .OrderBy(v => v.Registered)
            .Take(Math.Max(0, excess))
            .ToList();
        Registry.Versions.RemoveAll(retired.Contains);
        return retired;
    }
}
