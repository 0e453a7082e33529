using LMIndexer.Abstractions;

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

/// <summary>Registered index versions and the active one (singleton, key 0).</summary>
public sealed class IndexVersionGrain([PersistentState("versions", StorageNames.Default)] IPersistentState<IndexVersionRegistry> state) : Grain, IIndexVersionGrain
{
    public async Task<IndexVersionInfo> RegisterAsync(string version, string bundlePath, int items, string task = "recommendation")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(version);
        if (version.Contains('/', StringComparison.Ordinal))
            throw new ArgumentException($"A version name cannot contain '/': '{version}'.", nameof(version));
        if (task is not ("recommendation" or "search"))
            throw new ArgumentException($"Only recommendation and search bundles can be served, not '{task}'.", nameof(task));
        var info = new IndexVersionInfo(version, bundlePath, DateTimeOffset.UtcNow, items, task);
        state.State.Versions.RemoveAll(v => v.Version == version);
        state.State.Versions.Add(info);
        await state.WriteStateAsync();
        return info;
    }

    public async Task ActivateAsync(string version)
    {
        var info = state.State.Versions.FirstOrDefault(v => v.Version == version)
            ?? throw new ArgumentException($"Index version '{version}' is not registered.", nameof(version));
        if (info.Task == "search")
        {
            state.State.ActiveSearch = version;
            await state.WriteStateAsync();
            return;
        }
        if (state.State.Active == version)
            return;
        state.State.Previous = state.State.Active;
        state.State.Active = version;
        await state.WriteStateAsync();
    }

    public async Task<string> RollbackAsync()
    {
        var previous = state.State.Previous ?? throw new InvalidOperationException("There is no previous version to roll back to.");
        state.State.Previous = state.State.Active;
        state.State.Active = previous;
        await state.WriteStateAsync();
        return previous;
    }

    public Task<IndexVersionsState> GetAsync() =>
        Task.FromResult(new IndexVersionsState([.. state.State.Versions], state.State.Active, state.State.Previous, state.State.ActiveSearch));

    public Task<string?> GetActiveAsync() => Task.FromResult(state.State.Active);

    public Task<string?> GetActiveSearchAsync() => Task.FromResult(state.State.ActiveSearch);
}
