using LMIndexer.Abstractions;

namespace LMIndexer.Grains.Versions;

/// <summary>
/// The rules of the version registry, over <see cref="IndexVersionRegistry"/>: which versions may be
/// registered, activated and rolled back to, and which are retired. <see cref="IndexVersionGrain"/>
/// persists the state, warms models up and starts retirement jobs; the rules live here so that each
/// is unit-tested without a cluster. Every refusal is thrown before anything changes.
/// </summary>
internal sealed class IndexVersionRules(IndexVersionRegistry registry)
{
    public const string Recommendation = "recommendation";
    public const string Search = "search";

    /// <summary>Checks a registration; throws what the caller must hear, changes nothing.</summary>
    /// <exception cref="ArgumentException">A bad version name or task.</exception>
    /// <exception cref="DomainConflictException">A served version registered again for a new backfill.</exception>
    public void CheckRegistration(string version, string task, bool ready)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(version);
        if (version.Contains('/', StringComparison.Ordinal))
            throw new ArgumentException($"A version name cannot contain '/': '{version}'.", nameof(version));
        if (task is not (Recommendation or Search))
            throw new ArgumentException($"Only recommendation and search bundles can be served, not '{task}'.", nameof(task));
        if (!ready && IsServed(version))
            throw new DomainConflictException($"Version '{version}' is being served; a retrained index needs a new version name.");
    }

    /// <summary>Adds a version, in place of any earlier one of the same name.</summary>
    public void Register(IndexVersionInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        CheckRegistration(info.Version, info.Task, info.Ready);
        registry.Versions.RemoveAll(v => v.Version == info.Version);
        registry.Versions.Add(info);
    }

    /// <summary>Marks a version's backfill complete; false when it already was (nothing to save).</summary>
    /// <exception cref="KeyNotFoundException">The version is not registered.</exception>
    public bool MarkReady(string version)
    {
        var index = registry.Versions.FindIndex(v => v.Version == version);
        if (index < 0)
            throw new KeyNotFoundException($"Index version '{version}' is not registered.");
        if (registry.Versions[index].Ready)
            return false;
        registry.Versions[index] = registry.Versions[index] with { Ready = true };
        return true;
    }

    /// <summary>The version to activate, checked before its models are warmed up; changes nothing.</summary>
    /// <exception cref="KeyNotFoundException">The version is not registered.</exception>
    /// <exception cref="DomainConflictException">Its backfill has not completed.</exception>
    public IndexVersionInfo Activatable(string version)
    {
        var info = registry.Versions.FirstOrDefault(v => v.Version == version)
            ?? throw new KeyNotFoundException($"Index version '{version}' is not registered.");
        if (!info.Ready)
            throw new DomainConflictException($"Index version '{version}' cannot be activated before its backfill has completed.");
        return info;
    }

    /// <summary>
    /// Serves <paramref name="info"/>: a search version replaces the active search version; a
    /// recommendation version becomes active and the one it replaces the rollback target (activating
    /// the active version again changes nothing). Then retires what is beyond <paramref name="retain"/>.
    /// </summary>
    /// <returns>The retired versions, for their cleanup jobs.</returns>
    public IReadOnlyList<IndexVersionInfo> Activate(IndexVersionInfo info, int retain)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (info.Task == Search)
        {
            registry.ActiveSearch = info.Version;
        }
        else if (registry.Active != info.Version)
        {
            registry.Previous = registry.Active;
            registry.Active = info.Version;
        }
        return Retire(retain);
    }

    /// <summary>Swaps the active version and the previous one; returns the version now active.</summary>
    /// <exception cref="DomainConflictException">There is no previous version.</exception>
    public string Rollback()
    {
        var previous = registry.Previous ?? throw new DomainConflictException("There is no previous version to roll back to.");
        (registry.Previous, registry.Active) = (registry.Active, previous);
        return previous;
    }

    /// <summary>
    /// Drops the oldest completed versions beyond <paramref name="retain"/> from the registry: never a
    /// served one, the rollback target, or one whose backfill is still running.
    /// </summary>
    public IReadOnlyList<IndexVersionInfo> Retire(int retain)
    {
        var keep = new HashSet<string?>([registry.Active, registry.Previous, registry.ActiveSearch], StringComparer.Ordinal);
        var excess = registry.Versions.Count - retain;
        var retired = registry.Versions
            .Where(v => !keep.Contains(v.Version) && v.Ready)
            .OrderBy(v => v.Registered)
            .Take(Math.Max(0, excess))
            .ToList();
        registry.Versions.RemoveAll(retired.Contains);
        return retired;
    }

    private bool IsServed(string version) => version == registry.Active || version == registry.ActiveSearch;
}
