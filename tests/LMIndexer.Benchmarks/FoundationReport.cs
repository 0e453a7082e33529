using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Reports;

namespace LMIndexer.Benchmarks;

/// <summary>Writes the training-step figures to docs/benchmarks.md and docs/bench/training-step.json.</summary>
internal static class FoundationReport
{
    private const string Name = "training-step";

    public static void Write(Summary summary, string command)
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

        var machine = Machine();
        var date = DateTimeOffset.UtcNow;
        var git = Git();
        var root = RepositoryRoot();
        var json = new JsonObject
        {
            ["benchmark"] = Name,
            ["command"] = "dotnet run -c Release --project tests/LMIndexer.Benchmarks -- training",
            ["date"] = date.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["machine"] = machine,
            ["git"] = git,
            ["wall_seconds"] = Math.Round(summary.TotalTime.TotalSeconds),
            ["rows"] = new JsonArray([.. rows.Select(r => (JsonNode)new JsonObject { ["system"] = r.System, ["metric"] = r.Metric, ["value"] = Math.Round(r.Value, 4) })]),
        };
        Directory.CreateDirectory(Path.Combine(root, "docs", "bench"));
        File.WriteAllText(Path.Combine(root, "docs", "bench", $"{Name}.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");

        var section = new StringBuilder();
        section.AppendLine($"## {Name}");
        section.AppendLine();
        section.AppendLine("Forward + backward of the `small` model (d_model 256, 4+4 layers, vocab 8,000; batch 64, source 128, target 4 tokens) against a bare 1024×1024 matmul of the same dtype, in one BenchmarkDotNet run.");
        section.AppendLine();
        section.AppendLine("- command: `dotnet run -c Release --project tests/LMIndexer.Benchmarks -- training`");
        section.AppendLine(CultureInfo.InvariantCulture, $"- machine: {machine}; date: {date:yyyy-MM-dd}; git: {git}");
        section.AppendLine();
        section.Append(table);
        section.AppendLine();
        BenchmarkMarkdown.ReplaceSection(Path.Combine(root, "docs", "benchmarks.md"), Name, section.ToString());
        Console.WriteLine(section);
    }

    private static double? MeanNanoseconds(Summary summary, string description, string precision)
    {
        var report = summary.Reports.FirstOrDefault(r =>
            r.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo.Contains(description, StringComparison.Ordinal)
            && r.BenchmarkCase.Parameters.DisplayInfo.Contains(precision, StringComparison.Ordinal));
        return report?.ResultStatistics?.Mean;
    }

    internal static string Machine()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        return string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} cores ({cpu ?? "unknown CPU"}), {memory:F0} GiB, cpu");
    }

    internal static string Git()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("git", "rev-parse --short HEAD") { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }

    internal static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "LMIndexer.Orleans.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? Directory.GetCurrentDirectory();
    }
}

/// <summary>Keeps one section per benchmark in docs/benchmarks.md, replacing it on each run.</summary>
internal static class BenchmarkMarkdown
{
    public static void ReplaceSection(string path, string name, string section)
    {
        var header = $"## {name}";
        var text = File.Exists(path) ? File.ReadAllText(path) : "# Benchmarks\n\nMeasured figures only; each section is rewritten by the command it names. Machine-readable copies are in `docs/bench/`.\n\n";
        var start = text.IndexOf(header + "\n", StringComparison.Ordinal);
        if (start < 0)
        {
            text = text.TrimEnd() + "\n\n" + section;
        }
        else
        {
            var end = text.IndexOf("\n## ", start + header.Length, StringComparison.Ordinal);
            text = text[..start] + section + (end < 0 ? string.Empty : text[(end + 1)..]);
        }
        File.WriteAllText(path, text.TrimEnd() + "\n");
    }
}
