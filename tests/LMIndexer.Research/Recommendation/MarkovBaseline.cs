using LMIndexer.Core.Data;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Indexing;

namespace LMIndexer.Research.Recommendation;

/// <summary>
/// The item-to-item transition chain scored on the same leave-one-out users as a model: the bar a
/// recommender has to clear on data where the last item carries most of the next-item signal.
/// </summary>
public static class MarkovBaseline
{
    /// <summary>Ranks <paramref name="split"/>'s users (the first <paramref name="limit"/> when positive).</summary>
    public static EvaluationResult Evaluate(Catalog catalog, SemanticIdTable table, string split, int limit, EvaluationOptions options)
    {
        var itemIndex = table.ItemIds.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i, StringComparer.Ordinal);
        var leaveOneOut = LeaveOneOut.Split(catalog.Users);
        var examples = RecommendationTask.ItemIndexExamples(split == "test" ? leaveOneOut.Test : leaveOneOut.Validation, itemIndex);
        if (limit > 0)
            examples = [.. examples.Take(limit)];
        var transitions = ItemTransitionRanker.Fit(catalog.Users, itemIndex);
        var depth = options.Cutoffs.Max();
        return GenerativeEvaluator.EvaluateRanking(examples, e => transitions.Rank(e.Source, depth), options);
    }
}
