using System.Globalization;
using System.Text;
using BenchmarkDotNet.Reports;
using LMIndexer.Bench.Reporting;

namespace LMIndexer.Bench.Micro;

/// <summary>Writes the beam-search figures to the bench results (results/beam-search.json and the experiment log).</summary>
internal static class BeamSearchReport
{
    public static void Write(Summary summary)
    {
        double? Mean(string mode) => summary.Reports.FirstOrDefault(r => r.BenchmarkCase.Parameters.DisplayInfo.Contains($"Mode={mode}", StringComparison.Ordinal))?.ResultStatistics?.Mean;
        var constrained = Mean("constrained");
        var unconstrained = Mean("unconstrained");
        var recompute = Mean("recompute");
        if (constrained is null || unconstrained is null || recompute is null)
        {
            Console.WriteLine("beam-search: a mode did not produce a result; nothing written.");
            return;
        }
        var rows = new List<BenchmarkRow>();
        var table = new StringBuilder();
        table.AppendLine("| mode | batch time (ms) | requests/s | relative to constrained |");
        table.AppendLine("|---|---:|---:|---:|");
        foreach (var (mode, ns) in new[] { ("constrained (KV cache)", constrained.Value), ("unconstrained (KV cache)", unconstrained.Value), ("constrained, recompute", recompute.Value) })
        {
            var perSecond = BeamSearchBenchmarks.Requests / (ns / 1e9);
            rows.Add(new BenchmarkRow(mode, "ms", ns / 1e6));
            rows.Add(new BenchmarkRow(mode, "requests_per_second", perSecond));
            table.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {mode} | {ns / 1e6:F1} | {perSecond:F1} | {constrained.Value / ns:F2} |"));
        }
        var constraintCost = unconstrained.Value / constrained.Value;   // throughput ratio constrained : unconstrained
        var cacheSpeedup = recompute.Value / constrained.Value;
        rows.Add(new BenchmarkRow("constrained/unconstrained", "throughput_ratio", constraintCost));
        rows.Add(new BenchmarkRow("cache/recompute", "speedup", cacheSpeedup));
        Reporting.BenchmarkReport.Write(
            Path.Combine(FoundationReport.RepositoryRoot(), "tests", "LMIndexer.Bench"),
            "beam-search",
            "dotnet run -c Release --project tests/LMIndexer.Bench -- micro beam",
            summary.TotalTime.TotalSeconds,
            rows,
            string.Create(CultureInfo.InvariantCulture,
                $"{BeamSearchBenchmarks.Requests} requests × {BeamSearchBenchmarks.Beams} beams, source {BeamSearchBenchmarks.SourceLength} tokens, `small` model (vocab {BeamSearchBenchmarks.VocabSize:N0}), a trie of {BeamSearchBenchmarks.Items:N0} random 3-token IDs (128 × 128 × 32). One BenchmarkDotNet run; every mode decodes the same 3 steps."),
            table.ToString(),
            string.Create(CultureInfo.InvariantCulture,
                $"Constrained throughput = {constraintCost:F2}× unconstrained (goal ≥ 0.7×); KV cache = {cacheSpeedup:F2}× faster than recompute (goal ≥ 2×)."));
        Console.WriteLine(table);
    }
}
