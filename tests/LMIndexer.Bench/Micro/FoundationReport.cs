using System.Globalization;
using System.Text;
using BenchmarkDotNet.Reports;
using LMIndexer.Bench.Reporting;

namespace LMIndexer.Bench.Micro;

/// <summary>Writes the training-step figures to the bench results (results/training-step.json and the experiment log).</summary>
internal static class FoundationReport
{
    private const string Name = "training-step";

    public static void Write(Summary summary)
    {
        var rows = new List<(string System, string Metric, double Value)>();
        var table = new StringBuilder();
        table.AppendLine("| precision | train step (ms) | train GFLOP/s | matmul GFLOP/s | fraction of matmul peak |");
        table.AppendLine("|---|---:|---:|---:|---:|");
        foreach (var precision in new[] { "fp32", "bf16" })
        {
            var step = MeanNanoseconds(summary, "train-step", precision);
            var matmul = MeanNanoseconds(summary, "matmul", precision);
            if (step is null || matmul is null)
                continue;
            var stepGflops = TrainingStepBenchmarks.TrainStepFlops / step.Value;   // FLOP/ns = GFLOP/s
            var matmulGflops = TrainingStepBenchmarks.MatmulFlops / matmul.Value;
            var fraction = stepGflops / matmulGflops;
            rows.Add(($"train-step-{precision}", "ms", step.Value / 1e6));
            rows.Add(($"train-step-{precision}", "gflops", stepGflops));
            rows.Add(($"train-step-{precision}", "sequences-per-s", TrainingStepBenchmarks.Batch / (step.Value / 1e9)));
            rows.Add(($"matmul-{precision}", "gflops", matmulGflops));
            rows.Add(($"train-step-{precision}", "peak-fraction", fraction));
            table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {precision} | {step.Value / 1e6:F1} | {stepGflops:F1} | {matmulGflops:F1} | {fraction:P0} |"));
        }

        Reporting.BenchmarkReport.Write(
            Path.Combine(RepositoryRoot(), "tests", "LMIndexer.Bench"),
            Name,
            "dotnet run -c Release --project tests/LMIndexer.Bench -- micro training",
            summary.TotalTime.TotalSeconds,
            [.. rows.Select(r => new BenchmarkRow(r.System, r.Metric, r.Value))],
            "Forward + backward of the `small` model (d_model 256, 4+4 layers, vocab 8,000; batch 64, source 128, target 4 tokens) against a bare 1024×1024 matmul of the same dtype, in one BenchmarkDotNet run.",
            table.ToString(),
            "The fraction is the training step's achieved GFLOP/s (matmul FLOPs counted analytically) over the bare matmul's, same dtype, same run.");
        Console.WriteLine(table);
    }

    private static double? MeanNanoseconds(Summary summary, string description, string precision)
    {
        var report = summary.Reports.FirstOrDefault(r =>
            r.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo.Contains(description, StringComparison.Ordinal)
            && r.BenchmarkCase.Parameters.DisplayInfo.Contains(precision, StringComparison.Ordinal));
        return report?.ResultStatistics?.Mean;
    }

    internal static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "LMIndexer.Orleans.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? Directory.GetCurrentDirectory();
    }
}
