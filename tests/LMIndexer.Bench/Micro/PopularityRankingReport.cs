using System.Globalization;
using System.Text;
using BenchmarkDotNet.Reports;
using LMIndexer.Bench.Reporting;

namespace LMIndexer.Bench.Micro;

/// <summary>Writes the popularity ranking's figures to the bench results (results/popularity-ranking.json and the experiment log).</summary>
internal static class PopularityRankingReport
{
    public static void Write(Summary summary)
    {
        double? Mean(int items, string mode) => summary.Reports.FirstOrDefault(r =>
            r.BenchmarkCase.Parameters.DisplayInfo.Contains($"Items={items}", StringComparison.Ordinal)
            && r.BenchmarkCase.Parameters.DisplayInfo.Contains($"Mode={mode}", StringComparison.Ordinal))?.ResultStatistics?.Mean;
        var rows = new List<BenchmarkRow>();
        var table = new StringBuilder();
        table.AppendLine("| scored items | bounded heap (ms) | full sort, the baseline (ms) | sort ÷ heap |");
        table.AppendLine("|---:|---:|---:|---:|");
        foreach (var items in new[] { 100_000, 1_000_000 })
        {
            if (Mean(items, "heap") is not { } heap || Mean(items, "sort") is not { } sort)
            {
                Console.WriteLine($"popularity-ranking: {items} items did not produce both results; nothing written.");
                return;
            }
            rows.Add(new BenchmarkRow($"heap/{items}", "ms", heap / 1e6));
            rows.Add(new BenchmarkRow($"sort/{items}", "ms", sort / 1e6));
            rows.Add(new BenchmarkRow($"sort-over-heap/{items}", "time_ratio", sort / heap));
            table.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {items:N0} | {heap / 1e6:F1} | {sort / 1e6:F1} | {sort / heap:F1} |"));
        }
        Reporting.BenchmarkReport.Write(
            Path.Combine(FoundationReport.RepositoryRoot(), "tests", "LMIndexer.Bench"),
            "popularity-ranking",
            "dotnet run -c Release --project tests/LMIndexer.Bench -- micro popularity",
            summary.TotalTime.TotalSeconds,
            rows,
            "One merge of one item's count into the popularity state, then a top-20 request (the ranking is rebuilt at the first request after a merge), every item known to the catalog, long-tailed scores. One BenchmarkDotNet run, in process.",
            table.ToString(),
            "The baseline is the full sort the grain ran before (git 13c979c), timed in the same run over the same state.");
        Console.WriteLine(table);
    }
}
