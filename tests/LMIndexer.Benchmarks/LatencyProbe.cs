using System.Diagnostics;
using LMIndexer.Core.Data;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Generation;
using LMIndexer.Core.Runtime;
using TorchSharp;

namespace LMIndexer.Benchmarks;

/// <summary>
/// Where one recommendation's time goes: single-request constrained beam search of a serving
/// bundle at 1 and 2 threads, 10 and 20 beams, and the encoder alone. A diagnostic, not a report:
/// <c>dotnet run -c Release --project tests/LMIndexer.Benchmarks -- latency BUNDLE CATALOG</c>.
/// </summary>
internal static class LatencyProbe
{
    public static void Run(string bundleDirectory, string catalogDirectory)
    {
        BenchmarkRuntime.Initialize();
        var catalog = CatalogFiles.Load(catalogDirectory);
        using var serving = ServingBundle.Load(bundleDirectory, TorchRuntime.Device);
        var byId = catalog.Items.ToDictionary(i => i.ItemId, StringComparer.Ordinal);
        var source = new HistorySource(serving.Bundle.Tokenizer, byId, serving.Table, serving.Source);
        var sources = catalog.Users.Where(u => u.ItemIds.Count > 3).Take(64).Select(u => source.Encode([.. u.ItemIds.Take(u.ItemIds.Count - 1)])).ToList();
        Console.WriteLine($"source tokens: mean {sources.Average(s => s.Length):F0}, max {sources.Max(s => s.Length)}");
        foreach (var threads in new[] { 1, 2 })
        {
            torch.set_num_threads(threads);
            foreach (var beams in new[] { 20, 10 })
            {
                ConstrainedBeamSearch.Search(serving.Bundle.Model, sources.Take(4).ToList(), serving.Tables, beams);   // warm-up
                var times = new List<double>();
                foreach (var s in sources)
                {
                    var clock = Stopwatch.StartNew();
                    ConstrainedBeamSearch.Search(serving.Bundle.Model, [s], serving.Tables, beams);
                    times.Add(clock.Elapsed.TotalMilliseconds);
                }
                times.Sort();
                Console.WriteLine($"threads {threads}, beams {beams}: single request p50 {times[times.Count / 2]:F1} ms, p90 {times[(int)(times.Count * 0.9)]:F1} ms");
            }
            using (torch.inference_mode())
            {
                var encodeTimes = new List<double>();
                foreach (var s in sources)
                {
                    using var scope = torch.NewDisposeScope();
                    var clock = Stopwatch.StartNew();
                    using var ids = torch.tensor(s, [1, s.Length], device: TorchRuntime.Device);
                    using var mask = torch.ones([1, s.Length], dtype: torch.ScalarType.Bool, device: TorchRuntime.Device);
                    serving.Bundle.Model.Encode(ids, mask);
                    encodeTimes.Add(clock.Elapsed.TotalMilliseconds);
                }
                encodeTimes.Sort();
                Console.WriteLine($"threads {threads}: encoder alone p50 {encodeTimes[encodeTimes.Count / 2]:F1} ms");
            }
        }
    }
}
