using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LMIndexer.Core.Runtime;

namespace LMIndexer.Bench.Reporting;

/// <summary>
/// One measured value of a benchmark (system × metric): a mean over <see cref="N"/> seeds with its
/// <see cref="Sd"/>, or a paired difference (<c>A-minus-B</c>) with its 95 % interval.
/// </summary>
public sealed record BenchmarkRow(string System, string Metric, double Value)
{
    public double? Sd { get; init; }

    public int? N { get; init; }

    public double? CiLow { get; init; }

    public double? CiHigh { get; init; }

    /// <summary>A row of a figure over seeds.</summary>
    public static BenchmarkRow OverSeeds(string system, string metric, Research.Protocol.SeedSummary summary) =>
        new(system, metric, summary.Mean) { Sd = summary.Sd, N = summary.N };

    /// <summary>A paired difference row, <c>a-minus-b</c>.</summary>
    public static BenchmarkRow Difference(string a, string b, string metric, Research.Protocol.PairedInterval interval) =>
        new($"{a}-minus-{b}", metric, interval.Difference) { CiLow = interval.Low, CiHigh = interval.High };
}

/// <summary>
/// Writes a benchmark the way the project records them: <c>results/&lt;name&gt;.json</c>
/// (overwritten by a run of the same name) and one dated section of the experiment log
/// <c>experiments.md</c> (replaced by a run of the same name). The current-best tables in
/// <c>docs/benchmarks.md</c> are chosen by hand from these, never written by a run.
/// </summary>
public static class BenchmarkReport
{
    public const string ResultsFolder = "results";
    public const string ExperimentLog = "experiments.md";

    /// <summary>The bench project's folder, where <c>results/</c> and the experiment log live.</summary>
    public static Option<DirectoryInfo> DirectoryOption() => new("--results")
    {
        Description = "Folder holding results/ (one JSON per run) and experiments.md.",
        DefaultValueFactory = _ => new DirectoryInfo("tests/LMIndexer.Bench"),
    };

    /// <param name="perUser">Each test user's metrics per system (<see cref="PerUserMetrics"/>), saved beside the JSON when given.</param>
    public static void Write(string benchDirectory, string name, string command, double wallSeconds, IReadOnlyList<BenchmarkRow> rows, string description, string markdownTable, string interpretation,
        Research.Protocol.ProtocolRecord? protocol = null, IReadOnlyDictionary<string, IReadOnlyDictionary<string, double[]>>? perUser = null)
    {
        var date = DateTimeOffset.UtcNow;
        var machine = Machine();
        var git = GitRevision();
        var json = new JsonObject
        {
            ["benchmark"] = name,
            ["command"] = command,
            ["date"] = date.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["machine"] = machine,
            ["git"] = git,
            ["wall_seconds"] = Math.Round(wallSeconds),
            ["rows"] = new JsonArray([.. rows.Where(r => double.IsFinite(r.Value)).Select(RowJson)]),
        };
        if (protocol is not null)
            json["protocol"] = ProtocolJson(protocol);
        Directory.CreateDirectory(Path.Combine(benchDirectory, ResultsFolder));
        var resultPath = Path.Combine(benchDirectory, ResultsFolder, $"{name}.json");
        File.WriteAllText(resultPath, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        if (perUser is { Count: > 0 })
            PerUserMetrics.Write(PerUserMetrics.PathFor(resultPath), perUser);

        var section = new StringBuilder();
        section.Append("## ").AppendLine(name).AppendLine();
        section.AppendLine(description).AppendLine();
        section.Append("- command: `").Append(command).AppendLine("`");
        section.AppendLine(CultureInfo.InvariantCulture, $"- machine: {machine}; date: {date:yyyy-MM-dd}; git: {git}; wall time: {wallSeconds:F0} s");
        section.AppendLine();
        section.AppendLine(markdownTable.TrimEnd()).AppendLine();
        section.AppendLine(interpretation);
        ReplaceSection(Path.Combine(benchDirectory, ExperimentLog), name, section.ToString());
    }

    private static JsonNode RowJson(BenchmarkRow row)
    {
        var json = new JsonObject { ["system"] = row.System, ["metric"] = row.Metric, ["value"] = Math.Round(row.Value, 4) };
        if (row.Sd is { } sd)
            json["sd"] = Math.Round(sd, 4);
        if (row.N is { } n)
            json["n"] = n;
        if (row.CiLow is { } low)
            json["ci_low"] = Math.Round(low, 4);
        if (row.CiHigh is { } high)
            json["ci_high"] = Math.Round(high, 4);
        return json;
    }

    /// <summary>The format's <c>protocol</c> block, with what was chosen and the validation figures behind it.</summary>
    public static JsonObject ProtocolJson(Research.Protocol.ProtocolRecord protocol) => new()
    {
        ["selected_on"] = protocol.SelectedOn,
        ["test_decodes"] = protocol.TestDecodes,
        ["seeds"] = new JsonArray([.. protocol.Seeds.Select(s => (JsonNode)s)]),
        ["metric"] = protocol.Metric,
        ["choice"] = protocol.Choice,
        ["validation"] = new JsonObject([.. protocol.Candidates.Select(c => KeyValuePair.Create(c.Candidate, (JsonNode?)Math.Round(c.Validation, 4)))]),
    };

    /// <summary>Keeps one section per benchmark, replacing it on each run.</summary>
    public static void ReplaceSection(string path, string name, string section)
    {
        var header = $"## {name}";
        var text = File.Exists(path)
            ? File.ReadAllText(path)
            : "# Experiment log\n\nWhat was run and what it gave, one section per run name, rewritten by the command it names. Machine-readable copies are in `results/`.\n";
        var start = text.IndexOf(header + "\n", StringComparison.Ordinal);
        if (start < 0)
        {
            text = text.TrimEnd() + "\n\n" + section;
        }
        else
        {
            var end = text.IndexOf("\n## ", start + header.Length, StringComparison.Ordinal);
            text = text[..start] + section.TrimEnd() + "\n" + (end < 0 ? string.Empty : text[end..]);
        }
        File.WriteAllText(path, text.TrimEnd() + "\n");
    }

    public static string Machine() => MachineDescription.Current();

    /// <summary>
    /// The commit the running code was built from: the SDK stamps it into the informational version
    /// (<c>1.0.0+&lt;sha&gt;</c>), so a binary copied out of the checkout still names its source. The
    /// working directory's HEAD only when the stamp is missing.
    /// </summary>
    public static string GitRevision()
    {
        var stamped = typeof(BenchmarkReport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        var plus = stamped?.IndexOf('+', StringComparison.Ordinal) ?? -1;
        if (stamped is not null && plus >= 0 && stamped.Length - plus > 7)
            return stamped.Substring(plus + 1, 7);
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
}
