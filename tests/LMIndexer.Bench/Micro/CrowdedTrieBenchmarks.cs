using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Reports;
using LMIndexer.Bench.Reporting;
using LMIndexer.Core.Generation;
using LMIndexer.Core.Model;
using TorchSharp;

namespace LMIndexer.Bench.Micro;

/// <summary>
/// Beam search over a crowded learned table, the shape <c>scale-learned-1m</c> met: 100,000 items
/// under 32 × 32 learned prefixes, one prefix holding 27 % of them (its counter runs to 27,044), the
/// rest spread evenly. The counter depth's next-node rows dense (one cell per prefix and counter:
/// the baseline) against sparse (the edges alone), same model, same sources, same run.
/// </summary>
public class CrowdedTrieBenchmarks
{
    public const int Requests = 64;
    public const int Beams = 20;
    public const int Items = 100_000;
    public const int Crowded = 27_044;
    private const int Codes = 32;

    private T5Model? model;
    private TrieTables? tables;
    private List<int[]> sources = [];

    [Params("dense", "sparse")]
    public string Rows { get; set; } = "dense";

    /// <summary>Native bytes of the next-node tables of each layout, filled by the setups.</summary>
    public static Dictionary<string, long> NativeBytes { get; } = [];

    [GlobalSetup]
    public void Setup()
    {
        BenchmarkRuntime.Initialize();
        var random = new Random(5);
        var others = Items - Crowded;
        var counters = new int[Codes * Codes];
        var ids = new List<int[]>(Items);
        const int first = 4, second = first + Codes, counter = second + Codes;
        for (var i = 0; i < Crowded; i++)
            ids.Add([first + 7, second + 11, counter + counters[7 * Codes + 11]++]);
        for (var i = 0; i < others; i++)
        {
            var prefix = random.Next(Codes * Codes);
            ids.Add([first + prefix / Codes, second + prefix % Codes, counter + counters[prefix]++]);
        }
        torch.manual_seed(5);
        model = new T5Model(T5Config.Tiny(counter + counters.Max()));
        model.eval();
        tables = new TrieTables(IdTrie.Build(ids), null, Rows == "dense" ? long.MaxValue : 0);
        NativeBytes[Rows] = tables.NativeBytes;
        sources = [.. Enumerable.Range(0, Requests).Select(_ => Enumerable.Range(0, 25).Select(_ => first + random.Next(2 * Codes)).ToArray())];
    }

    [Benchmark(Description = "beam-search")]
    public int Search() => ConstrainedBeamSearch.Search(model!, sources, tables!, Beams).Sum(r => r.Length);

    [GlobalCleanup]
    public void Cleanup()
    {
        model?.Dispose();
        tables?.Dispose();
    }

    /// <summary>Writes <c>results/crowded-trie.json</c> and its experiment-log section.</summary>
    public static void Write(Summary summary)
    {
        double? Mean(string rows) => summary.Reports.FirstOrDefault(r => r.BenchmarkCase.Parameters.DisplayInfo.Contains($"Rows={rows}", StringComparison.Ordinal))?.ResultStatistics?.Mean;
        if (Mean("dense") is not { } dense || Mean("sparse") is not { } sparse
            || !NativeBytes.TryGetValue("dense", out var denseBytes) || !NativeBytes.TryGetValue("sparse", out var sparseBytes))
        {
            Console.WriteLine("crowded-trie: a layout did not produce a result; nothing written.");
            return;
        }
        var rows = new List<BenchmarkRow>();
        var table = new StringBuilder("| next-node rows | batch time (ms) | requests/s | next-node tables, bytes/item |\n|---|---:|---:|---:|\n");
        foreach (var (layout, ns, bytes) in new[] { ("dense", dense, denseBytes), ("sparse", sparse, sparseBytes) })
        {
            var bytesPerItem = bytes / (double)Items;
            rows.Add(new BenchmarkRow(layout, "ms", ns / 1e6));
            rows.Add(new BenchmarkRow(layout, "requests_per_second", Requests / (ns / 1e9)));
            rows.Add(new BenchmarkRow(layout, "bytes_per_item", bytesPerItem));
            table.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {layout} | {ns / 1e6:F1} | {Requests / (ns / 1e9):F0} | {bytesPerItem:F1} |"));
        }
        rows.Add(new BenchmarkRow("sparse/dense", "time_ratio", sparse / dense));
        Reporting.BenchmarkReport.Write(
            Path.Combine(FoundationReport.RepositoryRoot(), "tests", "LMIndexer.Bench"),
            "crowded-trie",
            "dotnet run -c Release --project tests/LMIndexer.Bench -- micro crowded-trie",
            summary.TotalTime.TotalSeconds,
            rows,
            string.Create(CultureInfo.InvariantCulture,
                $"{Requests} requests × {Beams} beams through the `tiny` model over {Items:N0} IDs under 32 × 32 learned prefixes, one holding {Crowded:N0} (the crowding `scale-learned-1m` met), the counter depth's next-node rows dense against sparse (`TrieTables`), one BenchmarkDotNet run."),
            table.ToString(),
            string.Create(CultureInfo.InvariantCulture, $"Sparse rows take {sparse / dense:F2}× the dense rows' batch time and {(double)sparseBytes / denseBytes:P1} of their memory."));
        Console.WriteLine(table);
    }
}
