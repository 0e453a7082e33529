using System.Globalization;
using System.Text;

namespace LMIndexer.Bench.Reporting;

/// <summary>A run's rows as the result file records them, and the same rows as the experiment log's table.</summary>
public sealed class BenchmarkTable(bool stageColumn = false)
{
    private readonly List<BenchmarkRow> rows = [];
    private readonly StringBuilder markdown = new(stageColumn ? "| stage | measurement | value |\n|---|---|---:|\n" : "| measurement | value |\n|---|---:|\n");

    public IReadOnlyList<BenchmarkRow> Rows => rows;

    public string Markdown => markdown.ToString();

    /// <summary>Adds a row; returns the value as the table shows it.</summary>
    public string Add(string system, string metric, double value, string label, string format)
    {
        rows.Add(new BenchmarkRow(system, metric, value));
        var shown = value.ToString(format, CultureInfo.InvariantCulture);
        markdown.Append(stageColumn ? $"| {system} | {label} | {shown} |\n" : $"| {label} | {shown} |\n");
        return shown;
    }
}
