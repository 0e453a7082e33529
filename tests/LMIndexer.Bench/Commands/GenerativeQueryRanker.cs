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
        ArgumentNullException.ThrowIfNull(indexOf);
        return [.. GenerativeEvaluator.Rank([outcome.Bundle.Model], examples, trie, evaluation)
            .Select(items => items.Select(item => indexOf(outcome.Table.ItemIds[item])).ToArray())];
    }

    public void Dispose()
    {
        trie.Dispose();
        outcome.Dispose();
    }
}
