using System.Diagnostics;
using LMIndexer.Core.Model;
using LMIndexer.Core.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Training;

/// <summary>Options of <see cref="DenoisingPretrainer"/>.</summary>
public sealed record DenoisingOptions
{
    public int Steps { get; init; } = 300;
    public int BatchSize { get; init; } = 32;
    public int MaxTokens { get; init; } = 64;

    /// <summary>Fraction of tokens removed (BART uses 0.3).</summary>
    public double MaskRatio { get; init; } = 0.3;

    /// <summary>Mean span length (Poisson λ, as BART).</summary>
    public double MeanSpanLength { get; init; } = 3;

    public int Seed { get; init; } = 42;

    /// <summary>Train in bf16 with fp32 master weights (<see cref="MixedPrecision"/>).</summary>
    public bool BFloat16 { get; init; }

    public OptimizerOptions Optimizer { get; init; } = new() { LearningRate = 1e-3 };
}

/// <summary>
/// Self-supervised pretraining of a from-scratch T5 on catalog text by BART-style text infilling:
/// spans are replaced by one <c>&lt;mask&gt;</c> each and the decoder rewrites the whole text.
/// The reference starts from pretrained t5-base; no weights can be downloaded here, so this gives
/// the small model a language prior over the catalog before semantic-ID training.
/// </summary>
public static class DenoisingPretrainer
{
    public static TrainingReport Train(T5Model model, IReadOnlyList<int[]> texts, DenoisingOptions options, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (texts.Count == 0)
            throw new ArgumentException("No texts to pretrain on.", nameof(texts));
        var random = new Random(options.Seed);
        torch.manual_seed(options.Seed);
        model.train();
        using var precision = options.BFloat16 ? MixedPrecision.BFloat16(model) : null;
        using var optimizer = new ModelOptimizer(model.parameters().Where(p => p.requires_grad), options.Optimizer, options.Steps, precision);
        var order = Enumerable.Range(0, texts.Count).ToArray();
        var cursor = order.Length;
        var clock = Stopwatch.StartNew();
        double first = double.NaN, recent = 0;
        var recentCount = 0;
        for (var step = 0; step < options.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var sources = new List<int[]>(options.BatchSize);
            var targets = new List<int[]>(options.BatchSize);
            for (var b = 0; b < options.BatchSize; b++)
            {
                if (cursor >= order.Length)
                {
                    random.Shuffle(order);
                    cursor = 0;
                }
                var text = texts[order[cursor++]];
                var body = text.Length >= options.MaxTokens ? text[..(options.MaxTokens - 1)] : text;
                sources.Add([.. Corrupt(body, options, random), CatalogTokenizer.EosId]);
                targets.Add([.. body, CatalogTokenizer.EosId]);
            }

            double loss = optimizer.TrainSeq2SeqStep(model, sources, targets);
            if (double.IsNaN(first))
                first = loss;
            if (step >= options.Steps - Math.Max(1, options.Steps / 10))
            {
                recent += loss;
                recentCount++;
            }
            progress?.Report(new TrainingProgress("pretrain", step + 1, options.Steps, loss, optimizer.CurrentLearningRate,
                (step + 1) * options.BatchSize / clock.Elapsed.TotalSeconds));
        }
        model.eval();
        var seconds = clock.Elapsed.TotalSeconds;
        return new TrainingReport("pretrain", options.Steps, first, recent / Math.Max(1, recentCount), seconds, options.Steps * options.BatchSize / seconds);
    }

    /// <summary>Text infilling: Poisson-length spans replaced by one mask token each, about <c>MaskRatio</c> of tokens in all.</summary>
    internal static List<int> Corrupt(int[] tokens, DenoisingOptions options, Random random)
    {
        var budget = (int)Math.Round(tokens.Length * options.MaskRatio);
        var masked = new bool[tokens.Length];
        var guard = 0;
        while (budget > 0 && guard++ < 100)
        {
            var span = Math.Clamp(SamplePoisson(options.MeanSpanLength, random), 1, budget);
            var start = random.Next(tokens.Length);
            for (var i = start; i < Math.Min(tokens.Length, start + span); i++)
            {
                if (!masked[i])
                {
                    masked[i] = true;
                    budget--;
                }
            }
        }
        var result = new List<int>(tokens.Length);
        for (var i = 0; i < tokens.Length; i++)
        {
            if (!masked[i])
                result.Add(tokens[i]);
            else if (i == 0 || !masked[i - 1])
                result.Add(CatalogTokenizer.MaskId);
        }
        return result;
    }

    private static int SamplePoisson(double lambda, Random random)
    {
        var limit = Math.Exp(-lambda);
        var k = 0;
        var p = 1.0;
        do
        {
            k++;
            p *= random.NextDouble();
        }
        while (p > limit);
        return k - 1;
    }
}
