using System.Globalization;
using LMIndexer.Core.Generation;
using LMIndexer.Core.Model;
using LMIndexer.Core.Training;

namespace LMIndexer.Core.Downstream;

/// <summary>A ranking choice and the validation score of every candidate behind it, in candidate order.</summary>
public sealed record RankingSelectionResult(RankingChoice Choice, IReadOnlyList<(RankingChoice Candidate, double Score)> Scores)
{
    /// <summary>The scores as a manifest keeps them: <c>hybrid@1=0.02460;dense=0.02011;…</c>.</summary>
    public string Format() => string.Join(';', Scores.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Candidate.Name}={s.Score:F5}")));

    /// <summary>The choice and scores a manifest records (<see cref="RankingChoice.WriteTo"/>, <see cref="Format"/>); null when it records no choice.</summary>
    public static RankingSelectionResult? ReadFrom(IReadOnlyDictionary<string, string> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        if (RankingChoice.ReadFrom(properties) is not { } choice)
            return null;
        var scores = properties.GetValueOrDefault(RankingChoice.ValidationProperty, "").Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('='))
            .Select(parts => (Candidate: RankingChoice.Parse(parts[0]) ?? throw new InvalidDataException($"Unknown ranking '{parts[0]}' in {RankingChoice.ValidationProperty}."),
                Score: double.Parse(parts[1], CultureInfo.InvariantCulture)))
            .ToList();
        return new RankingSelectionResult(choice, scores);
    }
}

/// <summary>
/// Chooses how a trained network ranks, on its validation users: a network with a dense item head
/// can rank by beam search alone, by the dense head alone, or hybrid with the dense head weighted
/// 0.25 to 4; the best by the selection metric is kept (the first listed on a tie, so the default
/// hybrid weight of 1 stays unless another does better). Test is never read here.
/// </summary>
public static class RankingSelection
{
    private static readonly double[] HybridWeights = [1, 0.25, 0.5, 2, 4];

    /// <summary>What a network can rank by: every mode and weight with a dense item head, beam search alone without one.</summary>
    public static IReadOnlyList<RankingChoice> Candidates(T5Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.Config.DenseItemHead
            ? [.. HybridWeights.Select(w => new RankingChoice(RankingMode.Hybrid, w)), new RankingChoice(RankingMode.Dense), new RankingChoice(RankingMode.Generative)]
            : [new RankingChoice(RankingMode.Generative)];
    }

    public static RankingSelectionResult Choose(T5Model model, IReadOnlyList<GenerativeExample> validation, TrieTables trie, EvaluationOptions options, string metric,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentNullException.ThrowIfNull(options);
        if (validation.Count == 0)
            throw new ArgumentException("Choosing a ranking needs validation examples.", nameof(validation));
        var candidates = Candidates(model);
        var scores = new List<(RankingChoice, double)>(candidates.Count);
        var done = 0;
        foreach (var candidate in candidates)
        {
            var before = done;
            var result = GenerativeEvaluator.Evaluate(model, validation, trie, candidate.Apply(options),
                progress is null ? null : new InlineProgress<int>(n => progress.Report(before + n)), cancellationToken);
            scores.Add((candidate, result.Metrics[metric]));
            done += validation.Count;
        }
        var best = scores.Aggregate((a, b) => b.Item2 > a.Item2 ? b : a);
        return new RankingSelectionResult(best.Item1, scores);
    }
}
