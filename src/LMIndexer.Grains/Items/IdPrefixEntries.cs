using System.Globalization;
using LMIndexer.Abstractions;

namespace LMIndexer.Grains.Items;

/// <summary>
/// The rules of one part of the ID trie (every ID under first code <paramref name="firstCode"/>),
/// applied to <see cref="IdPrefixState"/>: adding, resolving, listing and giving out collision
/// counters. <see cref="IdPrefixGrain"/> persists the state; the rules live here so that each is
/// unit-tested without a cluster.
/// </summary>
internal sealed class IdPrefixEntries(IdPrefixState state, long firstCode)
{
    /// <summary>Adds or moves items; false when every entry was already there (nothing to write).</summary>
    /// <exception cref="ArgumentException">An entry's ID is not under this first code, or is shorter than two codes; nothing is added.</exception>
    public bool Add(IReadOnlyList<PrefixEntry> entries)
    {
        // Checked before any change: a refused batch must not leave half its entries for the next write to persist.
        if (entries.FirstOrDefault(e => e.Codes.Length < 2 || e.Codes[0] != firstCode) is { } foreign)
            throw new ArgumentException($"ID {string.Join('-', foreign.Codes)} does not belong under first code {firstCode}.", nameof(entries));
        var changed = false;
        foreach (var entry in entries)
        {
            var key = Key(entry.Codes);
            if (state.Items.TryGetValue(key, out var existing) && existing == entry.ItemId)
                continue;
            state.Items[key] = entry.ItemId;
            changed = true;
        }
        return changed;
    }

    /// <summary>The item of each full ID, in order; null for an ID that is unknown or under another first code.</summary>
    public IReadOnlyList<string?> Resolve(IReadOnlyList<long[]> codes) =>
        [.. codes.Select(c => c.Length >= 2 && c[0] == firstCode ? state.Items.GetValueOrDefault(Key(c)) : null)];

    /// <summary>The items whose IDs start with <paramref name="prefix"/> (c1 first), in ID order, at most <paramref name="limit"/>.</summary>
    public IReadOnlyList<PrefixEntry> List(long[] prefix, int limit)
    {
        if (prefix.Length == 0 || prefix[0] != firstCode)
            return [];
        var rest = prefix[1..];
        return [.. state.Items
            .Select(kv => new PrefixEntry(Codes(kv.Key), kv.Value))
            .Where(e => e.Codes.AsSpan(1).StartsWith(rest))
            .OrderBy(e => e.Codes, IdOrder)
            .Take(limit)];
    }

    /// <summary>The items that got their IDs from <see cref="Allocate"/>, in ID order.</summary>
    public IReadOnlyList<PrefixEntry> ListAllocated() =>
        [.. state.Allocated
            .Where(state.Items.ContainsKey)
            .Select(key => new PrefixEntry(Codes(key), state.Items[key]))
            .OrderBy(e => e.Codes, IdOrder)];

    /// <summary>
    /// The item's ID under its learned codes: the one it was given before, or the first counter that
    /// neither an item here nor <paramref name="reserved"/> holds. <c>Added</c> is true when the
    /// state changed (a new ID to write).
    /// </summary>
    /// <exception cref="DomainConflictException">All <paramref name="counterSize"/> counters of the learned codes are taken.</exception>
    public (long[] Codes, bool Added) Allocate(string itemId, long[] learnedCodes, long[] reserved, int counterSize)
    {
        ArgumentNullException.ThrowIfNull(learnedCodes);
        ArgumentNullException.ThrowIfNull(reserved);
        if (learnedCodes.Length < 1 || learnedCodes[0] != firstCode)
            throw new ArgumentException($"Codes {string.Join('-', learnedCodes)} do not belong under first code {firstCode}.", nameof(learnedCodes));
        var group = string.Join('-', learnedCodes.Skip(1));
        var taken = new HashSet<long>(reserved);
        foreach (var (key, owner) in state.Items)
        {
            var parts = key.Split('-');
            if (string.Join('-', parts[..^1]) != group)
                continue;
            var counter = long.Parse(parts[^1], CultureInfo.InvariantCulture);
            if (owner == itemId)
                return ([.. learnedCodes, counter], false);   // allocated before: the same ID again
            taken.Add(counter);
        }
        long next = 0;
        while (taken.Contains(next))
            next++;
        if (next >= counterSize)
            throw new DomainConflictException($"The collision counter range ({counterSize}) is exhausted for ID prefix {string.Join('-', learnedCodes)}; retrain the index with a larger counter.");
        long[] codes = [.. learnedCodes, next];
        state.Items[Key(codes)] = itemId;
        state.Allocated.Add(Key(codes));
        return (codes, true);
    }

    private static readonly Comparer<long[]> IdOrder = Comparer<long[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b));

    /// <summary>The state's key of a full ID: the codes after c1, joined by '-'.</summary>
    private static string Key(long[] codes) => string.Join('-', codes.Skip(1));

    private long[] Codes(string key) => [firstCode, .. key.Split('-').Select(c => long.Parse(c, CultureInfo.InvariantCulture))];
}
