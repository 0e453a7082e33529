using LMIndexer.Abstractions;

namespace LMIndexer.Grains.Popularity;

/// <summary>
/// A silo counter's event weights not merged yet, per item. <see cref="PopularityCounterGrain"/>
/// takes them for a merge and puts them back if the merge fails, so that counts are kept, not
/// dropped, while the ranking's silo is unreachable.
/// </summary>
internal sealed class PendingCounts
{
    private Dictionary<string, (double Weight, int Events)> counts = new(StringComparer.Ordinal);

    /// <summary>Items with counts waiting.</summary>
    public int Count => counts.Count;

    public void Add(string itemId, double weight, int events)
    {
        ArgumentNullException.ThrowIfNull(itemId);
        var (sum, total) = counts.GetValueOrDefault(itemId);
        counts[itemId] = (sum + weight, total + events);
    }

    /// <summary>Every waiting count, leaving none: events that arrive during the merge count towards the next one.</summary>
    public IReadOnlyList<ItemEventCount> TakeAll()
    {
        var taken = counts;
        counts = new Dictionary<string, (double, int)>(StringComparer.Ordinal);
        return [.. taken.Select(kv => new ItemEventCount(kv.Key, kv.Value.Weight, kv.Value.Events))];
    }

    /// <summary>Puts back the counts of a merge that failed, added to those recorded meanwhile.</summary>
    public void Restore(IReadOnlyList<ItemEventCount> failed)
    {
        ArgumentNullException.ThrowIfNull(failed);
        foreach (var (itemId, weight, events) in failed)
            Add(itemId, weight, events);
    }
}
