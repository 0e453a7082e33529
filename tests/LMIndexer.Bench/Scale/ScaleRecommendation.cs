using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using LMIndexer.Bench.Load;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Generation;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Model;
using LMIndexer.Core.Runtime;
using LMIndexer.Core.Text;
using LMIndexer.Grains.Inference;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;

namespace LMIndexer.Bench.Scale;

/// <summary>What the inference silo's engine did at a fixed request rate over a catalog-sized ID table.</summary>
public sealed record ScaleRecommendationResult(
    RankingMode Mode, int Items, double LoadSeconds, double WeightsMiB, int Requests, int Failed, double MeanAnswerItems,
    double P50, double P99, double MeanBatch, double BatchMilliseconds, double PeakMiB);

/// <summary>
/// Recommendation latency with every item of a large catalog generatable: a serving bundle of the
/// default recipe's shape (tiny network reading IDs, K codes per position) whose trie holds the
/// whole ID table, ranked by beam search alone or, with a dense item head over every item, hybrid.
/// Its weights are drawn, not trained: the work per request (encoder, constrained beam steps, the
/// dense head's product with every item vector and its top-k) has the same shapes either way. The
/// load goes to the engine the inference grain wraps (its batcher and worker threads), open loop.
/// </summary>
public static class ScaleRecommendation
{
    /// <summary>The default recipe's source: each history item's ID tokens, and its vector when the network has them.</summary>
    public const int MaxSourceTokens = 25;

    /// <summary>Beams per request, as <c>Inference:Beams</c> defaults.</summary>
    public const int Beams = 20;

    /// <summary>Writes a serving bundle over <paramref name="ids"/> (codes below <paramref name="codebook"/>) into <paramref name="directory"/>.</summary>
    public static void WriteBundle(string directory, SemanticIdTable ids, int codebook, bool denseHead, int seed)
    {
        var counterWidth = (int)ids.Ids.Max(id => id[^1]) + 1;
        var tokenizer = CatalogTokenizer.Build([], [codebook, codebook, counterWidth]);
        torch.manual_seed(seed);
        var config = T5Config.Tiny(tokenizer.VocabSize) with
        {
            DropoutRate = 0,
            SourceItemCount = denseHead ? ids.Count : 0,
            DenseItemHead = denseHead,
        };
        using var model = new T5Model(config);
        var manifest = new BundleManifest
        {
            Version = $"scale-{(denseHead ? "hybrid" : "generative")}-{ids.Count}",
            Kind = ServingBundle.Kind,
            Config = config,
            Properties = new Dictionary<string, string>
            {
                ["task"] = "recommendation",
                ["source"] = HistorySourceOptions.ModeName(denseHead ? SourceMode.IdsAndItems : SourceMode.Ids),
                ["maxSourceTokens"] = MaxSourceTokens.ToString(CultureInfo.InvariantCulture),
                ["maxItemTokens"] = "32",
                ["weights"] = "drawn at random by the scale benchmark (latency does not depend on their values)",
            },
        };
        if (Directory.Exists(directory))
            Directory.Delete(directory, recursive: true);
        ServingBundle.Save(directory, new ModelBundle(model, tokenizer, manifest), ids, IdTrie.FromTable(ids, tokenizer));
    }

    /// <summary>
    /// Loads the bundle into an inference engine with the silo's default options and sends it
    /// <paramref name="rate"/> requests a second for <paramref name="seconds"/> seconds, each the
    /// history of the next user in <paramref name="histories"/>, after a short warm-up.
    /// </summary>
    public static async Task<ScaleRecommendationResult> RunAsync(string bundleDir, IReadOnlyList<IReadOnlyList<string>> histories, int rate, int seconds, CancellationToken cancellation)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(histories.Count, 1);
        using var meter = StageMeter.Start();
        var loading = Stopwatch.StartNew();
        var bundle = ServingBundle.Load(bundleDir, TorchRuntime.Device);
        var loadSeconds = loading.Elapsed.TotalSeconds;
        var weightsMiB = new FileInfo(Path.Combine(bundleDir, ModelBundle.WeightsFile)).Length / (1024.0 * 1024);
        var mode = RankingModes.DefaultFor([bundle.Bundle.Model]);
        using var engine = new InferenceEngine(bundle, new InferenceOptions { Beams = Beams }, NullLogger.Instance);
        for (var i = 0; i < 8; i++)
            await engine.GenerateAsync(histories[i % histories.Count], Beams);   // warm-up: first-call allocations

        var before = engine.Stats("bench");
        var latencies = new ConcurrentBag<double>();
        var failed = 0;
        long answered = 0;
        var requests = rate * seconds;
        await OpenLoop.RunAsync(rate, requests, TimeSpan.MaxValue, async (i, _) =>
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                var answer = await engine.GenerateAsync(histories[(i + 8) % histories.Count], Beams);
                Interlocked.Add(ref answered, answer.Ids.Count);
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            catch (Exception) when (!cancellation.IsCancellationRequested)
            {
                Interlocked.Increment(ref failed);
            }
        }, cancellation);
        var after = engine.Stats("bench");
        var batches = after.Batches - before.Batches;
        var served = (after.MeanBatchSize * after.Batches) - (before.MeanBatchSize * before.Batches);
        var batchMilliseconds = batches == 0 ? 0 : ((after.MeanBatchMilliseconds * after.Batches) - (before.MeanBatchMilliseconds * before.Batches)) / batches;
        return new ScaleRecommendationResult(mode, bundle.Table.Count, loadSeconds, weightsMiB, requests, failed, latencies.IsEmpty ? 0 : (double)answered / latencies.Count,
            RecommendationLoad.Percentile(latencies, 0.5), RecommendationLoad.Percentile(latencies, 0.99), batches == 0 ? 0 : served / batches, batchMilliseconds, meter.PeakMiB);
    }
}
