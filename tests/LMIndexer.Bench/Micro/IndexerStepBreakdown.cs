using System.Diagnostics;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Model;
using LMIndexer.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Bench.Micro;

/// <summary>
/// Where an indexer training step's time goes, per stage (loss forward, backward, optimiser), on a
/// pretrained bundle's network with random text of the indexer's default length: a stopwatch
/// diagnostic beside the benchmarks. `dotnet run -c Release --project tests/LMIndexer.Bench -- micro indexer-breakdown &lt;bundle&gt; [fp32|bf16]`
/// </summary>
internal static class IndexerStepBreakdown
{
    public static void Run(string bundleDirectory, string precision)
    {
        BenchmarkRuntime.Initialize();
        var options = new SemanticIndexerOptions();
        var dtype = precision == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32;
        using var bundle = ModelBundle.Load(bundleDirectory);
        var (t5, tokenizer) = VocabularyResizer.WithIdPositions(bundle.Model, bundle.Tokenizer, options.IdPositionSizes());
        using var model = new SemanticIndexerModel(t5, tokenizer, options.Positions, options.CodebookSize, options.ReconstructorLayers);
        var random = new Random(1);
        var textTokens = tokenizer.FirstIdToken;
        int[] Text() => [.. Enumerable.Range(0, options.MaxTokens - 1).Select(_ => random.Next(4, textTokens)), 1];
        var tokens = Enumerable.Range(0, options.BatchSize).Select(_ => Text()).ToArray();
        var prefix = tokens.Select(_ => new long[] { random.Next(options.CodebookSize), 0 }).ToArray();
        var negatives = tokens.Select(_ => Enumerable.Range(0, options.HardNegatives).Select(_ => Text()).ToArray()).ToArray();
        Console.WriteLine($"{dtype}: vocabulary {tokenizer.VocabSize}, d_model {t5.Config.DModel}, batch {options.BatchSize} × {options.MaxTokens} tokens");
        foreach (var (stage, position) in new[] { (IndexerStage.Warmup, 1), (IndexerStage.Continuous, 1), (IndexerStage.Codebook, 1), (IndexerStage.Continuous, 2), (IndexerStage.Codebook, 2) })
        {
            model.train();
            model.SetTrainable(backbone: stage != IndexerStage.Warmup, codebook: stage == IndexerStage.Codebook, reconstructorToo: true);
            // As the trainer does it: bf16 compute, AdamW on fp32 masters.
            using var mixed = dtype == ScalarType.BFloat16 ? MixedPrecision.BFloat16(model) : null;
            using var optimizer = new ModelOptimizer(model.TrainableParameters(), options.Optimizer, 100, mixed);
            var batch = new IndexerBatch(tokens, prefix, position > 1 ? negatives : null);
            double forward = 0, backward = 0, update = 0;
            const int steps = 4;
            for (var step = 0; step <= steps; step++)
            {
                using var scope = NewDisposeScope();
                optimizer.ZeroGrad();
                var clock = Stopwatch.StartNew();
                var (total, _) = IndexerLoss.Compute(model, stage, position, batch, options, random);
                _ = total.item<float>();
                var f = clock.Elapsed.TotalMilliseconds;
                total.backward();
                var b = clock.Elapsed.TotalMilliseconds - f;
                optimizer.Update();
                var u = clock.Elapsed.TotalMilliseconds - f - b;
                if (step == 0)
                    continue; // warm-up
                forward += f;
                backward += b;
                update += u;
            }
            Console.WriteLine($"{stage,-10} p{position}: forward {forward / steps,6:F0} ms, backward {backward / steps,6:F0} ms, update {update / steps,5:F0} ms → {options.BatchSize * 1000.0 * steps / (forward + backward + update),5:F0} items/s");
        }
    }
}
