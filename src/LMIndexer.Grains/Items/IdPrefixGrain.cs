using LMIndexer.Abstractions;

namespace LMIndexer.Grains.Items;

/// <summary>Persistent state of <see cref="IdPrefixGrain"/>: codes after c1 (joined by '-') → item id.</summary>
[GenerateSerializer]
public sealed class IdPrefixState
{
    [Id(0)] public Dictionary<string, string> Items { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Keys of <see cref="Items"/> given out by <c>AllocateAsync</c>: items the version's bundle does not know.</summary>
    [Id(1)] public HashSet<string> Allocated { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// The part of a version's ID trie below one first code (key <c>{version}/{c1}</c>). Generated IDs
/// resolve here in batches; the trie is split by c1 so resolution spreads over the cluster.
/// </summary>
public sealed class IdPrefixGrain([PersistentState("prefix", StorageNames.Default)] IPersistentState<IdPrefixState> state, Storage.StateWriter writer) : Grain, IIdPrefixGrain
{
    private IdPrefixEntries Entries => new(state.State, long.Parse(this.GetPrimaryKeyString().Split('/')[1], System.Globalization.CultureInfo.InvariantCulture));

    public async Task AddAsync(IReadOnlyList<PrefixEntry> entries)
    {
        if (Entries.Add(entries))
            await writer.WriteAsync(state);
    }

    public Task<IReadOnlyList<string?>> ResolveAsync(IReadOnlyList<long[]> codes) => Task.FromResult(Entries.Resolve(codes));

    public Task<IReadOnlyList<PrefixEntry>> ListAsync(long[] prefix, int limit) => Task.FromResult(Entries.List(prefix, limit));

    public Task<IReadOnlyList<PrefixEntry>> ListAllocatedAsync() => Task.FromResult(Entries.ListAllocated());

    public Task<int> CountAsync() => Task.FromResult(state.State.Items.Count);

    public async Task<long[]> AllocateAsync(string itemId, long[] learnedCodes, long[] reserved, int counterSize)
    {
        var (codes, added) = Entries.Allocate(itemId, learnedCodes, reserved, counterSize);
        if (added)
            await writer.WriteAsync(state);
        return codes;
    }

    public async Task ClearAsync()
    {
        await state.ClearStateAsync();
        DeactivateOnIdle();
    }
}
