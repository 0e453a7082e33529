using System.Diagnostics;
using LMIndexer.Core.Data;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Generation;
using LMIndexer.Core.Runtime;
using TorchSharp;

namespace LMIndexer.Bench.Micro;

/// <summary>
/// Where one recommendation's time goes: single-request constrained beam search of a serving
/// bundle in fp32 and bf16, at 2 and 1 threads, back to back and paced 100 ms apart (as a host
/// sees requests at 10/s), and the encoder alone. A diagnostic, not a report:
/// <c>dotnet run -c Release --project tests/LMIndexer.Bench -- micro latency BUNDLE CATALOG</c>.
/// </summary>
internal static class LatencyProbe
{
    private const int Beams = 20;

    public static void Run(string bundleDirectory, string catalogDirectory)
    {
        BenchmarkRuntime.Initialize();
        var catalog = CatalogFiles.Load(catalogDirectory);
        using var serving = ServingBundle.Load(bundleDirectory, TorchRuntime.Device);
        var byId = catalog.Items.ToDictionary(i => i.ItemId, StringComparer.Ordinal);
        var source = new HistorySource(serving.Bundle.Tokenizer, byId, serving.Table, serving.Source);
        var sources = catalog.Users.Where(u => u.ItemIds.Count > 3).Take(64).Select(u => source.Encode([.. u.ItemIds.Take(u.ItemIds.Count - 1)])).ToList();
        Console.WriteLine($"source tokens: mean {sources.Average(s => s.Length):F0}, max {sources.Max(s => s.Length)}; {Beams} beams");
        foreach (var dtype in new[] { torch.ScalarType.Float32, torch.ScalarType.BFloat16 })
        {
            serving.Bundle.Model.to(dtype);
            foreach (var threads in new[] { 2, 1 })
            {
                torch.set_num_threads(threads);
                var label = $"{dtype}, {threads} thread(s)";
                ConstrainedBeamSearch.Search(serving.Bundle.Model, sources.Take(4).ToList(), serving.Tables, Beams);   // warm-up
                Report(label, "back to back", Time(sources, 0, s => ConstrainedBeamSearch.Search(serving.Bundle.Model, [s], serving.Tables, Beams)));
                // Between requests caches and sleeping OpenMP workers go cold.
                Report(label, "paced 100 ms apart", Time(sources.Take(32), 100, s => ConstrainedBeamSearch.Search(serving.Bundle.Model, [s], serving.Tables, Beams)));
                Report(label, "encoder alone", Time(sources, 0, s =>
                {
                    using var inference = torch.inference_mode();
                    using var scope = torch.NewDisposeScope();
                    using var ids = torch.tensor(s, [1, s.Length], device: TorchRuntime.Device);
                    using var mask = torch.ones([1, s.Length], dtype: torch.ScalarType.Bool, device: TorchRuntime.Device);
                    serving.Bundle.Model.Encode(ids, mask);
                }));
            }
        }
    }

    private static List<double> Time(IEnumerable<int[]> sources, int pauseMilliseconds, Action<int[]> run)
    {
        var times = new List<double>();
        foreach (var s in sources)
        {
            if (pauseMilliseconds > 0)
                Thread.Sleep(pauseMilliseconds);
            var clock = Stopwatch.StartNew();
            run(s);
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return times;
    }

    private static void Report(string label, string what, List<double> sorted) =>
        Console.WriteLine($"{label}: {what} p50 {sorted[sorted.Count / 2]:F1} ms, p90 {sorted[(int)(sorted.Count * 0.9)]:F1} ms");
}
