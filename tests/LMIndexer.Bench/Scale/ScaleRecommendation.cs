using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using LMIndexer.Bench.Load;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Data;
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
    RankingMode Mode, bool Approximate, int Items, double LoadSeconds, double EngineStartSeconds, double WeightsMiB, int Requests, int Failed, double MeanAnswerItems,
    double P50, double P99, double MeanBatch, double BatchMilliseconds, double PeakMiB, SavedIndexRestart? Restart);

/// <summary>A second start of the engine on the same bundle, reading the approximate index its first start built and saved.</summary>
public sealed record SavedIndexRestart(double RestartSeconds, double IndexFileMiB);

/// <summary>How far approximate dense ranking strays from exact ranking on the same requests.</summary>
/// <param name="DenseRecall">Share of the exact dense top-k that the approximate dense top-k holds (recall@k).</param>
/// <param name="HybridAgreement">Share of the exact hybrid answer's items that the approximate hybrid answer holds.</param>
public sealed record ApproximateRankingAgreement(int Requests, int DenseK, double DenseRecall, int Beams, double HybridAgreement, double IndexSeconds);

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
    /// Loads the bundle into an inference engine with the silo's default options (dense ranking
    /// exact or through the approximate index, as <paramref name="approximate"/> says, whatever the
    /// catalog's size) and sends it <paramref name="rate"/> requests a second for
    /// <paramref name="seconds"/> seconds, each the history of the next user in
    /// <paramref name="histories"/>, after a short warm-up.
    /// </summary>
    /// <param name="savedIndexes">With <paramref name="approximate"/>: an empty folder the engine saves its index in; a second start then reads it back (timed).</param>
    public static async Task<ScaleRecommendationResult> RunAsync(string bundleDir, IReadOnlyList<IReadOnlyList<string>> histories, int rate, int seconds, bool approximate, CancellationToken cancellation,
        string? savedIndexes = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(histories.Count, 1);
        using var meter = StageMeter.Start();
        var loading = Stopwatch.StartNew();
        var bundle = ServingBundle.Load(bundleDir, TorchRuntime.Device);
        var loadSeconds = loading.Elapsed.TotalSeconds;
        var weightsMiB = new FileInfo(Path.Combine(bundleDir, ModelBundle.WeightsFile)).Length / (1024.0 * 1024);
        var mode = bundle.Ranking.Mode;   // as the engine ranks it
        var starting = Stopwatch.StartNew();
        var options = new InferenceOptions
        {
            Beams = Beams,
            ApproximateDenseAbove = approximate ? 1 : 0,
            SaveApproximateIndex = savedIndexes is not null,
            ApproximateIndexDirectory = savedIndexes ?? "",
        };
        using var engine = new InferenceEngine(bundle, options, NullLogger.Instance);
        var engineStartSeconds = starting.Elapsed.TotalSeconds;
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
        SavedIndexRestart? restart = null;
        if (engine.ApproximateIndexOrigin is { } origin)
        {
            var restarting = Stopwatch.StartNew();
            using var again = new InferenceEngine(ServingBundle.Load(bundleDir, TorchRuntime.Device), options, NullLogger.Instance);
            var restartSeconds = restarting.Elapsed.TotalSeconds;
            if (again.ApproximateIndexOrigin is not { Loaded: true })
                throw new InvalidOperationException($"The second start did not read the saved index back: {again.ApproximateIndexOrigin?.Problem ?? origin.Problem}");
            restart = new SavedIndexRestart(restartSeconds, new FileInfo(origin.Path).Length / (1024.0 * 1024));
        }
        return new ScaleRecommendationResult(mode, engine.RanksApproximately, bundle.Table.Count, loadSeconds, engineStartSeconds, weightsMiB, requests, failed, latencies.IsEmpty ? 0 : (double)answered / latencies.Count,
            RecommendationLoad.Percentile(latencies, 0.5), RecommendationLoad.Percentile(latencies, 0.99), batches == 0 ? 0 : served / batches, batchMilliseconds, meter.PeakMiB, restart);
    }

    /// <summary>
    /// Ranks the first <paramref name="requests"/> histories with a dense-head bundle both exactly
    /// and through the approximate index (the engine's defaults), in batches as the engine makes
    /// them: the approximate dense top <paramref name="denseK"/>'s recall of the exact one, and how
    /// many of the exact hybrid answer's items the approximate answer keeps.
    /// </summary>
    public static ApproximateRankingAgreement CompareApproximate(string bundleDir, IReadOnlyList<IReadOnlyList<string>> histories, int requests, int denseK = 100, int batchSize = 20)
    {
        using var bundle = ServingBundle.Load(bundleDir, TorchRuntime.Device);
        var model = bundle.Bundle.Model;
        var defaults = new InferenceOptions();
        var building = Stopwatch.StartNew();
        using var approximate = ApproximateDenseItems.Build([model], candidates: defaults.ApproximateDenseCandidates);
        var indexSeconds = building.Elapsed.TotalSeconds;
        var source = new HistorySource(bundle.Bundle.Tokenizer, new Dictionary<string, CatalogItem>(), bundle.Table, bundle.Source);
        var sources = histories.Take(requests).Select(h => source.Encode(h)).ToList();
        double denseFound = 0, hybridKept = 0, hybridTotal = 0;
        foreach (var batch in sources.Chunk(batchSize))
        {
            var exactDense = ItemRanker.Rank([model], batch, bundle.Tables, denseK, RankingMode.Dense);
            var approximateDense = ItemRanker.Rank([model], batch, bundle.Tables, denseK, RankingMode.Dense, approximate: approximate);
            var exactHybrid = ItemRanker.Rank([model], batch, bundle.Tables, Beams, RankingMode.Hybrid);
            var approximateHybrid = ItemRanker.Rank([model], batch, bundle.Tables, Beams, RankingMode.Hybrid, approximate: approximate);
            for (var r = 0; r < batch.Length; r++)
            {
                denseFound += approximateDense[r].Select(x => x.Item).Intersect(exactDense[r].Select(x => x.Item)).Count() / (double)exactDense[r].Length;
                hybridKept += approximateHybrid[r].Select(x => x.Item).Intersect(exactHybrid[r].Select(x => x.Item)).Count();
                hybridTotal += exactHybrid[r].Length;
            }
        }
        return new ApproximateRankingAgreement(sources.Count, denseK, denseFound / sources.Count, Beams, hybridKept / hybridTotal, indexSeconds);
    }
}
