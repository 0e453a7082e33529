using System.Diagnostics;
using LMIndexer.Core.Evaluation;
using LMIndexer.Core.Generation;
using LMIndexer.Core.Model;

namespace LMIndexer.Core.Downstream;

/// <summary>Options of <see cref="GenerativeEvaluator"/>.</summary>
public sealed record EvaluationOptions
{
    /// <summary>Beams per request (the reference: 20).</summary>
    public int Beams { get; init; } = 20;

    /// <summary>Requests decoded together.</summary>
    public int BatchSize { get; init; } = 32;

    public IReadOnlyList<int> Cutoffs { get; init; } = [5, 10];

    public MetricDefinition Definition { get; init; } = MetricDefinition.Reference;

    /// <summary>How items are ranked; null: the networks' default (<see cref="RankingModes.DefaultFor"/>).</summary>
    public RankingMode? Ranking { get; init; }

    /// <summary>Hybrid ranking: the dense log-probability's weight beside the sequence log-probability.</summary>
    public double DenseWeight { get; init; } = 1;
}

/// <summary>
/// Mean ranking metrics of a run, how long it took, and each example's value of every metric (in
/// example order) for paired comparisons between systems on the same examples.
/// </summary>
public sealed record EvaluationResult(IReadOnlyDictionary<string, double> Metrics, int Examples, double Seconds)
{
    public double ExamplesPerSecond => Examples / Math.Max(Seconds, 1e-9);

    public IReadOnlyDictionary<string, double[]> PerExample { get; init; } = new Dictionary<string, double[]>();
}

/// <summary>
/// Full-ranking evaluation as the reference: every example's constrained beams, ranked by beam
/// order (unique items), scored against its relevant items. Networks with a dense item head rank
/// as <see cref="EvaluationOptions.Ranking"/> says (<see cref="ItemRanker"/>).
/// </summary>
public static class GenerativeEvaluator
{
    public static EvaluationResult Evaluate(T5Model model, IReadOnlyList<GenerativeExample> examples, TrieTables trie, EvaluationOptions options, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Evaluate([model], examples, trie, options, progress, cancellationToken);
    }

    /// <summary>The same evaluation with beams scored by an ensemble (<see cref="ConstrainedBeamSearch.Search(IReadOnlyList{T5Model}, IReadOnlyList{int[]}, TrieTables, int, bool)"/>).</summary>
    public static EvaluationResult Evaluate(IReadOnlyList<T5Model> models, IReadOnlyList<GenerativeExample> examples, TrieTables trie, EvaluationOptions options, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var ranked = Rank(models, examples, trie, options, progress, cancellationToken);
        var accumulator = new RankingAccumulator(options.Cutoffs, options.Definition);
        for (var i = 0; i < examples.Count; i++)
            accumulator.Add(ranked[i], examples[i].Targets.ToHashSet());
        return new EvaluationResult(accumulator.Means(), accumulator.Count, clock.Elapsed.TotalSeconds) { PerExample = accumulator.PerQuery() };
    }

    /// <summary>
    /// Each example's ranked items (trie item numbers, best first, at most <see cref="EvaluationOptions.Beams"/>)
    /// in batches of <see cref="EvaluationOptions.BatchSize"/>, the networks in eval mode meanwhile. // [examples][≤ beams]
    /// </summary>
    public static int[][] Rank(IReadOnlyList<T5Model> models, IReadOnlyList<GenerativeExample> examples, TrieTables trie, EvaluationOptions options, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(examples);
        var ranking = options.Ranking ?? RankingModes.DefaultFor(models);
        var items = new int[examples.Count][];
        var wasTraining = models.Select(m => m.training).ToArray();
        foreach (var model in models)
            model.eval();
        try
        {
            for (var start = 0; start < examples.Count; start += options.BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var batch = examples.Skip(start).Take(options.BatchSize).ToList();
                var ranked = ItemRanker.Rank(models, [.. batch.Select(e => e.Source)], trie, options.Beams, ranking, options.DenseWeight);
                for (var i = 0; i < batch.Count; i++)
                    items[start + i] = [.. ranked[i].Select(r => r.Item)];
                progress?.Report(Math.Min(examples.Count, start + batch.Count));
            }
        }
        finally
        {
            for (var m = 0; m < models.Count; m++)
            {
                if (wasTraining[m])
                    models[m].train();
            }
        }
        return items;
    }

    /// <summary>Metrics of a fixed ranking for every example (the popularity baseline).</summary>
    public static EvaluationResult EvaluateRanking(IReadOnlyList<GenerativeExample> examples, Func<GenerativeExample, IReadOnlyList<int>> rank, EvaluationOptions options)
    {
        var accumulator = new RankingAccumulator(options.Cutoffs, options.Definition);
        var clock = Stopwatch.StartNew();
        foreach (var example in examples)
            accumulator.Add(rank(example), example.Targets.ToHashSet());
        return new EvaluationResult(accumulator.Means(), accumulator.Count, clock.Elapsed.TotalSeconds) { PerExample = accumulator.PerQuery() };
    }
}
