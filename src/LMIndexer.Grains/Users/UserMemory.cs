using LMIndexer.Abstractions;

namespace LMIndexer.Grains.Users;

/// <summary>
/// What a user remembers, over <see cref="UserState"/>: the newest events (history), the items
/// seen (never recommended again) and the recent event ids (duplicates are dropped), each bounded
/// by <see cref="RecommendationOptions"/>. <see cref="UserGrain"/> persists the state; the rules
/// live here so that each is unit-tested without a cluster.
/// </summary>
/// <param name="state">The grain's current state: read on every call, since a failed write replaces it with the stored one.</param>
internal sealed class UserMemory(Func<UserState> state, RecommendationOptions options)
{
    private HashSet<string>? eventIds;
    private HashSet<string>? seen;

    private HashSet<string> EventIds => eventIds ??= new HashSet<string>(state().RecentEventIds, StringComparer.Ordinal);
    private HashSet<string> SeenSet => seen ??= new HashSet<string>(state().Seen, StringComparer.Ordinal);

    /// <summary>The items never to recommend again: every item of the seen list.</summary>
    public IReadOnlySet<string> Seen => SeenSet;

    /// <summary>Adds one event; false (and nothing changed) when its id is among the remembered ones.</summary>
    public bool Append(UserEvent userEvent)
    {
        ArgumentNullException.ThrowIfNull(userEvent);
        var current = state();
        if (!EventIds.Add(userEvent.EventId))
            return false;
        current.RecentEventIds.Add(userEvent.EventId);
        if (current.RecentEventIds.Count > options.EventIdMemory)
        {
            EventIds.Remove(current.RecentEventIds[0]);
            current.RecentEventIds.RemoveAt(0);
        }
        current.History.Add(new HistoryEntry(userEvent.ItemId, userEvent.Type, userEvent.Time));
        current.History.RemoveRange(0, Math.Max(0, current.History.Count - options.HistoryLength));
        if (SeenSet.Add(userEvent.ItemId))
        {
            current.Seen.Add(userEvent.ItemId);
            if (current.Seen.Count > options.SeenLength)
            {
                SeenSet.Remove(current.Seen[0]);
                current.Seen.RemoveAt(0);
            }
        }
        return true;
    }

    /// <summary>
    /// Forgets what was built from the state, after a failed write put the stored state back: the
    /// unsaved events' ids must not be taken for duplicates when the client retries them.
    /// </summary>
    public void Reload() => (eventIds, seen) = (null, null);

    /// <summary>The history's items, each once at its newest position, oldest first (what the model reads).</summary>
    public IReadOnlyList<string> HistoryItems() =>
        [.. state().History.Select(h => h.ItemId).Reverse().Distinct(StringComparer.Ordinal).Reverse()];
}
