using LMIndexer.Core.Data;
using LMIndexer.Core.Indexing;

namespace LMIndexer.Core.Downstream;

/// <summary>Builds the recommendation task: leave-one-out split → source tokens → target item indices.</summary>
public static class RecommendationTask
{
    /// <param name="refit">The served-model protocol (<see cref="LeaveOneOut.Split"/>): validation targets train, no validation examples.</param>
    public static TaskData Build(Catalog catalog, SemanticIdTable table, HistorySource source, TrainingWindows windows = TrainingWindows.Reference, int passes = 5, int seed = 2023,
        bool refit = false)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(source);
        var itemIndex = new Dictionary<string, int>(table.Count, StringComparer.Ordinal);
        for (var i = 0; i < table.Count; i++)
            itemIndex[table.ItemIds[i]] = i;
        var split = LeaveOneOut.Split(catalog.Users, windows, passes, seed, refit);
        List<GenerativeExample> Examples(IReadOnlyList<NextItemExample> examples) =>
            [.. examples.Where(e => itemIndex.ContainsKey(e.Target)).Select(e => new GenerativeExample(source.Encode(e.History), [itemIndex[e.Target]]))];
        return new TaskData(Examples(split.Train), Examples(split.Validation), Examples(split.Test), Popularity(catalog.Users, itemIndex, refit));
    }

    /// <summary>
    /// Examples whose sources are the history's item indices rather than tokens: what the
    /// count-based baselines (popularity, <see cref="Baselines.ItemTransitionRanker"/>) read.
    /// Items outside <paramref name="itemIndex"/> are skipped, as <see cref="Build"/> skips them.
    /// </summary>
    public static List<GenerativeExample> ItemIndexExamples(IEnumerable<NextItemExample> examples, IReadOnlyDictionary<string, int> itemIndex) =>
        [.. examples.Where(e => itemIndex.ContainsKey(e.Target))
            .Select(e => new GenerativeExample([.. e.History.Where(itemIndex.ContainsKey).Select(id => itemIndex[id])], [itemIndex[e.Target]]))];

    /// <summary>
    /// Items by interaction count in the training part of every sequence (the last two items of a
    /// user are validation and test targets and are not counted; with <paramref name="refit"/> only
    /// the test target is left out); ties by table order.
    /// </summary>
    public static IReadOnlyList<int> Popularity(IReadOnlyList<UserSequence> users, IReadOnlyDictionary<string, int> itemIndex, bool refit = false)
    {
        var counts = new int[itemIndex.Count];
        foreach (var user in users)
        {
            foreach (var item in LeaveOneOut.TrainingItems(user, refit))
            {
                if (itemIndex.TryGetValue(item, out var i))
                    counts[i]++;
            }
        }
        return [.. Enumerable.Range(0, counts.Length).OrderByDescending(i => counts[i]).ThenBy(i => i)];
    }
}
