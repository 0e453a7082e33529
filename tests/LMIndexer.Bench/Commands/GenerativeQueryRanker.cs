using LMIndexer.Core.Downstream;
using LMIndexer.Core.Generation;

namespace LMIndexer.Bench.Commands;

/// <summary>
/// A fine-tuned seq2seq model kept after its own evaluation, so that the hybrid can fuse its
/// rankings with BM25's and a dense encoder's, as <c>/api/search</c> does with a search version.
/// Owns the model and its trie.
/// </summary>
public sealed class GenerativeQueryRanker(GenerativeOutcome outcome, TrieTables trie, EvaluationOptions evaluation) : IDisposable
{
    /// <summary>
    /// Each example's generated items, best first (the evaluation's beams and ranking mode), as
    /// indices given by <paramref name="indexOf"/> for the items' ids. // [examples][≤ beams]
    /// </summary>
    public int[][] Rank(IReadOnlyList<GenerativeExample> examples, Func<string, int> indexOf)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(indexOf);
        var model = outcome.Bundle.Model;
        var wasTraining = model.training;
        model.eval();
        try
        {
            var ranking = evaluation.Ranking ?? RankingModes.DefaultFor([model]);
            var ranked = new List<int[]>(examples.Count);
            for (var start = 0; start < examples.Count; start += evaluation.BatchSize)
            {
                var batch = examples.Skip(start).Take(evaluation.BatchSize).Select(e => e.Source).ToList();
                foreach (var items in ItemRanker.Rank([model], batch, trie, evaluation.Beams, ranking, evaluation.DenseWeight))
                    ranked.Add([.. items.Select(r => indexOf(outcome.Table.ItemIds[r.Item]))]);
            }
            return [.. ranked];
        }
        finally
        {
            if (wasTraining)
                model.train();
        }
    }

    public void Dispose()
    {
        trie.Dispose();
        outcome.Dispose();
    }
}
