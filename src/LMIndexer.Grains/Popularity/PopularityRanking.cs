using LMIndexer.Abstractions;

namespace LMIndexer.Grains.Popularity;

/// <summary>
/// The popularity ranking's rules, over <see cref="PopularityState"/>: merged scores, which items
/// the catalog is known to hold or to lack, the events that wait for their item's lookup, and the
/// ranking itself (only items the catalog holds). <see cref="PopularityGrain"/> makes the lookups,
/// persists the scores and runs the timer; the rules live here so that each is unit-tested without
/// a cluster.
/// </summary>
/// <param name="state">The grain's state: its scores are the ranking's input.</param>
internal sealed class PopularityRanking(Func<PopularityState> state)
{
    /// <summary>How many of the highest scores are ranked (and looked up, the first time they could rank).</summary>
    public const int Candidates = 1000;

    /// <summary>Items with events not looked up yet, taken per timer tick.</summary>
    public const int LookupsPerTick = 500;

    /// <summary>Every this many ticks the items found missing are looked up again: the catalog may have got them since.</summary>
    public const int RecheckEveryTicks = 12;

    private readonly HashSet<string> known = new(StringComparer.Ordinal);
    private readonly HashSet<string> unknown = new(StringComparer.Ordinal);

    /// <summary>Events per item not looked up yet: counted as unknown-item events if the lookup finds nothing.</summary>
    private readonly Dictionary<string, int> pending = new(StringComparer.Ordinal);

    private List<PopularItem>? ranked;

    /// <summary>The candidates found for the lookups before ranking, kept so that the ranking right after does not select them again.</summary>
    private List<KeyValuePair<string, double>>? candidates;

    private int ticksToRecheck = RecheckEveryTicks;

    /// <summary>Whether the ranking holds since it was last built: no merge or change in what the catalog holds came after.</summary>
    public bool IsCurrent => ranked is not null;

    /// <summary>Adds merged counts to the scores; returns the events of items already known to be missing from the catalog.</summary>
    public int Merge(IReadOnlyList<ItemEventCount> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var scores = state().Scores;
        var missing = 0;
        foreach (var (itemId, weight, events) in counts)
        {
            scores[itemId] = scores.GetValueOrDefault(itemId) + weight;
            if (unknown.Contains(itemId))
                missing += events;
            else if (!known.Contains(itemId))
                pending[itemId] = pending.GetValueOrDefault(itemId) + events;
        }
        (ranked, candidates) = (null, null);
        return missing;
    }

    /// <summary>The highest-scored items not looked up yet, whose lookup must come before the ranking is built.</summary>
    public IReadOnlyList<string> ToLookUpBeforeRanking()
    {
        candidates = TopScores();
        return [.. candidates.Select(kv => kv.Key).Where(id => !known.Contains(id))];
    }

    /// <summary>Items due for a lookup at this timer tick: those with events and no lookup yet, and every few ticks the missing ones again.</summary>
    public IReadOnlyList<string> DueAtTick()
    {
        var due = pending.Keys.Take(LookupsPerTick).ToList();
        if (--ticksToRecheck == 0)
        {
            ticksToRecheck = RecheckEveryTicks;
            due.AddRange(unknown.Take(LookupsPerTick));
        }
        return due;
    }

    /// <summary>Records lookups (whether the catalog holds each item); returns the waiting events of the items it lacks.</summary>
    public int Resolve(IReadOnlyList<string> itemIds, IReadOnlyList<bool> held)
    {
        ArgumentNullException.ThrowIfNull(itemIds);
        ArgumentNullException.ThrowIfNull(held);
        if (itemIds.Count != held.Count)
            throw new ArgumentException($"{itemIds.Count} items but {held.Count} lookups.", nameof(held));
        var missing = 0;
        for (var i = 0; i < itemIds.Count; i++)
        {
            var id = itemIds[i];
            var events = pending.Remove(id, out var waiting) ? waiting : 0;
            if (held[i])
            {
                known.Add(id);
                if (unknown.Remove(id))
                    (ranked, candidates) = (null, null);
            }
            else
            {
                if (unknown.Add(id))
                    (ranked, candidates) = (null, null);
                missing += events;
            }
        }
        return missing;
    }

    /// <summary>The <paramref name="count"/> most popular items the catalog is known to hold, best first (ties by id).</summary>
    public IReadOnlyList<PopularItem> Top(int count)
    {
        ranked ??= [.. (candidates ?? TopScores()).Where(kv => known.Contains(kv.Key)).Select(kv => new PopularItem(kv.Key, kv.Value))];
        return [.. ranked.Take(count)];
    }

    /// <summary>
    /// The <see cref="Candidates"/> highest scores not known to be missing, best first (ties by id).
    /// A bounded heap rather than a sort of every score: the ranking is rebuilt at the first request
    /// after a merge, on the singleton's turn, up to once per silo and second (each silo's copy).
    /// </summary>
    private List<KeyValuePair<string, double>> TopScores()
    {
        var heap = new PriorityQueue<KeyValuePair<string, double>, KeyValuePair<string, double>>(WorstFirst.Instance);
        foreach (var score in state().Scores)
        {
            if (unknown.Contains(score.Key))
                continue;
            if (heap.Count < Candidates)
                heap.Enqueue(score, score);
            else if (WorstFirst.Instance.Compare(score, heap.Peek()) > 0)
                heap.EnqueueDequeue(score, score);
        }
        var best = new List<KeyValuePair<string, double>>(heap.Count);
        while (heap.TryDequeue(out var score, out _))
            best.Add(score);
        best.Reverse();
        return best;
    }

    /// <summary>Orders scores worst first: lower score, then the later id (the ranking breaks ties by id, ascending).</summary>
    private sealed class WorstFirst : IComparer<KeyValuePair<string, double>>
    {
        public static readonly WorstFirst Instance = new();

        public int Compare(KeyValuePair<string, double> x, KeyValuePair<string, double> y) =>
            x.Value != y.Value ? x.Value.CompareTo(y.Value) : string.CompareOrdinal(y.Key, x.Key);
    }
}
