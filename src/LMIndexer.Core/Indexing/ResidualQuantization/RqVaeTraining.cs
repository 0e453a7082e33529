using System.Diagnostics;
using LMIndexer.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Indexing.ResidualQuantization;

/// <summary>Trains an rq-VAE on item embeddings: k-means codebook initialisation, then Adam over shuffled mini-batches.</summary>
public static class RqVaeTraining
{
    public const string Stage = "rqvae";

    /// <summary>Optimiser steps of a run over <paramref name="items"/> embeddings.</summary>
    public static int PlannedSteps(RqVaeOptions options, int items) => options.Epochs * ((items + options.BatchSize - 1) / options.BatchSize);

    /// <summary>The trained model (standardisation fitted) in eval mode. // embeddings: [items, input]</summary>
    public static ResidualQuantizerVae Train(Tensor embeddings, int levels, int codebookSize, RqVaeOptions options, KMeansOptions kmeans, int seed,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        torch.manual_seed(seed);
        var model = new ResidualQuantizerVae((int)embeddings.shape[1], levels, codebookSize, options);
        try
        {
            model.FitStandardization(embeddings);
            using var x = model.Standardize(embeddings);
            model.InitializeCodebooks(x, kmeans);
            using var optimizer = torch.optim.Adam(model.parameters(), options.LearningRate);
            var n = (int)x.shape[0];
            var random = new Random(seed);
            var order = Enumerable.Range(0, n).ToArray();
            var total = PlannedSteps(options, n);
            var step = 0;
            var clock = Stopwatch.StartNew();
            model.train();
            for (var epoch = 0; epoch < options.Epochs; epoch++)
            {
                random.Shuffle(order);
                for (var start = 0; start < order.Length; start += options.BatchSize)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    var index = tensor(order.Skip(start).Take(options.BatchSize).Select(i => (long)i).ToArray());
                    var (loss, _) = model.Forward(x.index_select(0, index));
                    optimizer.zero_grad();
                    loss.backward();
                    optimizer.step();
                    step++;
                    progress?.Report(new TrainingProgress(Stage, step, total, loss.item<float>(), options.LearningRate,
                        step * (double)options.BatchSize / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), Epoch: epoch + 1, Epochs: options.Epochs));
                }
            }
            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
