using LMIndexer.Core.Data;
using LMIndexer.Core.Downstream;

namespace LMIndexer.Research.Recommendation;

/// <summary>
/// First-order item-to-item transitions — "after A, users next took B" — the classic co-purchase
/// recommender and the strongest cheap baseline on Amazon-style data, where much of the next-item
/// signal sits in the last item alone. Transitions are counted in the training part of every
/// sequence only (the last two items are validation and test targets, as for
/// <see cref="RecommendationTask.Popularity"/>). A history is ranked by its last item's successors,
/// most frequent first (ties by popularity), then by popularity for the rest of the list.
/// </summary>
public sealed class ItemTransitionRanker
{
    private readonly Dictionary<int, int[]> successors;
    private readonly IReadOnlyList<int> popularity;

    private ItemTransitionRanker(Dictionary<int, int[]> successors, IReadOnlyList<int> popularity)
    {
        this.successors = successors;
        this.popularity = popularity;
    }

    /// <param name="itemIndex">Item id → index (the ID table's order); items outside it are skipped.</param>
    /// <param name="refit">Count the validation targets' transitions too (the served-model protocol, <see cref="LeaveOneOut.Split"/>).</param>
    public static ItemTransitionRanker Fit(IReadOnlyList<UserSequence> users, IReadOnlyDictionary<string, int> itemIndex, bool refit = false)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(itemIndex);
        var popularity = RecommendationTask.Popularity(users, itemIndex, refit);
        var popularityRank = new int[itemIndex.Count];
        for (var rank = 0; rank < popularity.Count; rank++)
            popularityRank[popularity[rank]] = rank;

        var counts = new Dictionary<int, Dictionary<int, int>>();
        foreach (var user in users)
        {
            var training = LeaveOneOut.TrainingItems(user, refit).ToList();
            for (var i = 1; i < training.Count; i++)
            {
                if (!itemIndex.TryGetValue(training[i - 1], out var from) || !itemIndex.TryGetValue(training[i], out var to))
                    continue;
                if (!counts.TryGetValue(from, out var next))
                    counts[from] = next = [];
                next[to] = next.GetValueOrDefault(to) + 1;
            }
        }
        var successors = counts.ToDictionary(
            kv => kv.Key,
            kv => kv.Value.OrderByDescending(n => n.Value).ThenBy(n => popularityRank[n.Key]).Select(n => n.Key).ToArray());
        return new ItemTransitionRanker(successors, popularity);
    }

    /// <summary>Items seen after <paramref name="item"/> in training, most frequent first.</summary>
    public IReadOnlyList<int> SuccessorsOf(int item) => successors.TryGetValue(item, out var next) ? next : [];

    /// <summary>The top <paramref name="count"/> items for a history of item indices given oldest first.</summary>
    public IReadOnlyList<int> Rank(IReadOnlyList<int> history, int count)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var ranked = new List<int>(count);
        var seen = new HashSet<int>();
        IEnumerable<int> candidates = history.Count == 0 ? popularity : SuccessorsOf(history[^1]).Concat(popularity);
        foreach (var item in candidates)
        {
            if (ranked.Count == count)
                break;
            if (seen.Add(item))
                ranked.Add(item);
        }
        return ranked;
    }
}
