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
    private long FirstCode => long.Parse(this.GetPrimaryKeyString().Split('/')[1], System.Globalization.CultureInfo.InvariantCulture);

    public async Task AddAsync(IReadOnlyList<PrefixEntry> entries)
    {
        var first = FirstCode;
        var changed = false;
        foreach (var entry in entries)
        {
            if (entry.Codes.Length < 2 || entry.Codes[0] != first)
                throw new ArgumentException($"ID {string.Join('-', entry.Codes)} does not belong under first code {first}.", nameof(entries));
            var key = Key(entry.Codes);
            if (state.State.Items.TryGetValue(key, out var existing) && existing == entry.ItemId)
                continue;
            state.State.Items[key] = entry.ItemId;
            changed = true;
        }
        if (changed)
            await writer.WriteAsync(state);
    }

    public Task<IReadOnlyList<string?>> ResolveAsync(IReadOnlyList<long[]> codes) =>
        Task.FromResult<IReadOnlyList<string?>>([.. codes.Select(c => c.Length >= 2 && c[0] == FirstCode ? state.State.Items.GetValueOrDefault(Key(c)) : null)]);

    public Task<IReadOnlyList<PrefixEntry>> ListAsync(long[] prefix, int limit)
    {
        var first = FirstCode;
        if (prefix.Length == 0 || prefix[0] != first)
            return Task.FromResult<IReadOnlyList<PrefixEntry>>([]);
        var rest = prefix[1..];
        var result = state.State.Items
            .Select(kv => (Codes: (long[])[first, .. Parse(kv.Key)], ItemId: kv.Value))
            .Where(e => e.Codes.AsSpan(1).StartsWith(rest))
            .OrderBy(e => e.Codes, Comparer<long[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b)))
            .Take(limit)
            .Select(e => new PrefixEntry(e.Codes, e.ItemId))
            .ToList();
        return Task.FromResult<IReadOnlyList<PrefixEntry>>(result);
    }

    public Task<IReadOnlyList<PrefixEntry>> ListAllocatedAsync()
    {
        var first = FirstCode;
        return Task.FromResult<IReadOnlyList<PrefixEntry>>([.. state.State.Allocated
            .Where(state.State.Items.ContainsKey)
            .Order(StringComparer.Ordinal)
            .Select(key => new PrefixEntry([first, .. Parse(key)], state.State.Items[key]))]);
    }

    public Task<int> CountAsync() => Task.FromResult(state.State.Items.Count);

    public async Task<long[]> AllocateAsync(string itemId, long[] learnedCodes, long[] reserved, int counterSize)
    {
        ArgumentNullException.ThrowIfNull(learnedCodes);
        ArgumentNullException.ThrowIfNull(reserved);
        if (learnedCodes.Length < 1 || learnedCodes[0] != FirstCode)
            throw new ArgumentException($"Codes {string.Join('-', learnedCodes)} do not belong under first code {FirstCode}.", nameof(learnedCodes));
        var group = string.Join('-', learnedCodes.Skip(1));
        var taken = new HashSet<long>(reserved);
        foreach (var (key, owner) in state.State.Items)
        {
            var parts = key.Split('-');
            if (string.Join('-', parts[..^1]) != group)
                continue;
            var counter = long.Parse(parts[^1], System.Globalization.CultureInfo.InvariantCulture);
            if (owner == itemId)
                return [.. learnedCodes, counter];   // allocated before: the same ID again
            taken.Add(counter);
        }
        long next = 0;
        while (taken.Contains(next))
            next++;
        if (next >= counterSize)
            throw new DomainConflictException($"The collision counter range ({counterSize}) is exhausted for ID prefix {string.Join('-', learnedCodes)}; retrain the index with a larger counter.");
        long[] codes = [.. learnedCodes, next];
        state.State.Items[Key(codes)] = itemId;
        state.State.Allocated.Add(Key(codes));
        await writer.WriteAsync(state);
        return codes;
    }

    public async Task ClearAsync()
    {
        await state.ClearStateAsync();
        DeactivateOnIdle();
    }

    private static string Key(long[] codes) => string.Join('-', codes.Skip(1));

    private static IEnumerable<long> Parse(string key) => key.Split('-').Select(c => long.Parse(c, System.Globalization.CultureInfo.InvariantCulture));
}
