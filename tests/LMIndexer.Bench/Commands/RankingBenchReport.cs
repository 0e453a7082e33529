using System.Globalization;
using System.Text;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Evaluation;
using LMIndexer.Bench.Reporting;
using LMIndexer.Cli.Console;
using LMIndexer.Cli.Commands;

namespace LMIndexer.Bench.Commands;

/// <summary>One system's test result in a ranking benchmark.</summary>
/// <param name="Validations">The fine-tuning run's validations, when this run trained the system: its learning curve.</param>
public sealed record RankingBenchResult(EvaluationResult Test, double TrainSeconds, string Note, IReadOnlyList<ValidationPoint>? Validations = null);

/// <summary>
/// The JSON rows, markdown table and LMIndexer ratios that the ranking benchmarks (rec, search,
/// retrieval) write, so that their tables read alike.
/// </summary>
public static class RankingBenchReport
{
    private static readonly string[] Metrics = ["recall@5", "ndcg@5", "recall@10", "ndcg@10", "map@10", "mrr@10"];

    /// <param name="unit">What a test example is (users, queries): names the throughput column.</param>
    /// <param name="ratioMetrics">Metrics of the LMIndexer ÷ other ratios.</param>
    public static (List<BenchmarkRow> Rows, string Table, string Ratios) Build(
        IReadOnlyList<string> systems, IReadOnlyDictionary<string, RankingBenchResult> results, string unit, IReadOnlyList<string> ratioMetrics)
    {
        var rows = new List<BenchmarkRow>();
        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"| system | Recall@5 | NDCG@5 | Recall@10 | NDCG@10 | MRR@10 | train s | test {unit}/s | note |");
        table.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var system in systems)
        {
            var (test, seconds, note, _) = results[system];
            var m = test.Metrics;
            rows.AddRange(Metrics.Select(metric => new BenchmarkRow(system, metric, m[metric])));
            rows.Add(new BenchmarkRow(system, "train_seconds", seconds));
            rows.Add(new BenchmarkRow(system, $"test_{unit}_per_second", test.ExamplesPerSecond));
            table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {system} | {m["recall@5"]:F4} | {m["ndcg@5"]:F4} | {m["recall@10"]:F4} | {m["ndcg@10"]:F4} | {m["mrr@10"]:F4} | {seconds:F0} | {test.ExamplesPerSecond:F1} | {note} |"));
        }
        var ratios = new StringBuilder();
        foreach (var system in systems)
            ratios.Append(Curve(system, results[system].Validations, rows));
        if (results.TryGetValue("lmindexer", out var ours))
        {
            // Other seeds and the ensemble of LMIndexer are rows of their own, not baselines to divide by.
            foreach (var system in systems.Where(s => !s.StartsWith("lmindexer", StringComparison.Ordinal)))
            {
                var other = results[system].Test.Metrics;
                double Ratio(string metric) => other[metric] > 0 ? ours.Test.Metrics[metric] / other[metric] : double.PositiveInfinity;
                rows.AddRange(ratioMetrics.Select(metric => new BenchmarkRow($"lmindexer/{system}", $"{metric}_ratio", Ratio(metric))));
                ratios.Append(CultureInfo.InvariantCulture, $"LMIndexer ÷ {system}: {string.Join(", ", ratioMetrics.Select(metric => string.Create(CultureInfo.InvariantCulture, $"{Display(metric)} {Times(Ratio(metric))}")))}. ");
            }
        }
        return (rows, table.ToString(), ratios.ToString());
    }

    // Where a long run peaks and how fast it overfits after: the kept step alone does not say.
    private static string Curve(string system, IReadOnlyList<ValidationPoint>? validations, List<BenchmarkRow> rows)
    {
        var points = validations?.Where(v => v.Metrics.ContainsKey(CurveMetric)).ToList() ?? [];
        if (points.Count < 2)
            return "";
        foreach (var point in points)
        {
            rows.Add(new BenchmarkRow(system, string.Create(CultureInfo.InvariantCulture, $"validation_{CurveMetric}_step_{point.Step}"), point.Metrics[CurveMetric]));
            rows.Add(new BenchmarkRow(system, string.Create(CultureInfo.InvariantCulture, $"train_loss_step_{point.Step}"), point.TrainLoss));
        }
        var steps = string.Join(", ", points.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Step} {p.Metrics[CurveMetric]:F4} (loss {p.TrainLoss:F2})")));
        return $"{system} validation {CurveMetric.ToUpperInvariant()} by step: {steps}. ";
    }

    private const string CurveMetric = "ndcg@10";

    // A baseline that scores 0 has no finite ratio (and the JSON leaves it out).
    private static string Times(double ratio) => double.IsFinite(ratio) ? string.Create(CultureInfo.InvariantCulture, $"×{ratio:F2}") : "(baseline 0)";

    private static string Display(string metric) => metric.StartsWith("ndcg", StringComparison.Ordinal) ? "NDCG" + metric[4..] : "Recall" + metric[6..];
}
