using LMIndexer.Abstractions;

namespace LMIndexer.Grains.Users;

/// <summary>
/// One answer being put together: generated items first, in the model's order, then popular items
/// to fill it; nothing the user has seen and no item twice. Kept apart from <see cref="UserGrain"/>
/// so that the rules are unit-tested without a cluster.
/// </summary>
internal sealed class RecommendationSlate(int count, IReadOnlySet<string> seen)
{
    private readonly List<(string ItemId, double Score, RecommendationSource Source, string? Reason)> chosen = [];
    private HashSet<string> taken = new(seen, StringComparer.Ordinal);

    public int Count => chosen.Count;

    public bool IsFull => chosen.Count >= count;

    /// <summary>How many popular items to ask for so that, after the seen and chosen ones are left out, enough remain.</summary>
    public int PopularNeeded => count + taken.Count;

    public IEnumerable<string> ItemIds => chosen.Select(c => c.ItemId);

    /// <summary>Adds the item unless the slate is full, the user has seen it or it is already there; true when added.</summary>
    public bool Add(string itemId, double score, RecommendationSource source, string? reason)
    {
        ArgumentNullException.ThrowIfNull(itemId);
        if (IsFull || !taken.Add(itemId))
            return false;
        chosen.Add((itemId, score, source, reason));
        return true;
    }

    /// <summary>Fills the rest with popular items, most popular first.</summary>
    public void FillWithPopular(IEnumerable<PopularItem> popular)
    {
        ArgumentNullException.ThrowIfNull(popular);
        // The list is short (PopularNeeded items): once the slate is full the rest are refused one by one.
        foreach (var item in popular)
            Add(item.ItemId, item.Score, RecommendationSource.Popular, RecommendationReasons.Popular);
    }

    /// <summary>Drops every chosen item (the model failed mid-answer): the slate starts again from the seen items.</summary>
    public void Clear()
    {
        chosen.Clear();
        taken = new HashSet<string>(seen, StringComparer.Ordinal);
    }

    /// <summary>The items in order, each with its catalog record where <paramref name="records"/> has one.</summary>
    public IReadOnlyList<RecommendedItem> Items(IReadOnlyDictionary<string, ItemRecord> records) =>
        [.. chosen.Select(c => new RecommendedItem(c.ItemId, c.Score, c.Source, records.GetValueOrDefault(c.ItemId), c.Reason))];
}
