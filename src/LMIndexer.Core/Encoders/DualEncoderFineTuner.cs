using System.Diagnostics;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Runtime;
using LMIndexer.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Encoders;

/// <summary>
/// Fine-tuning of a packaged sentence encoder on (query, item text) pairs with in-batch negatives
/// (the paper's dual-encoder baseline; sentence-transformers' MultipleNegativesRankingLoss): each
/// query's item is its positive and the batch's other items its negatives.
/// </summary>
/// <param name="Steps">Optimizer steps (batches).</param>
/// <param name="BatchSize">Pairs per batch, each item at most once (a repeated item would be its own negative).</param>
/// <param name="LearningRate">Peak learning rate: linear warm-up over the first tenth, linear decay to 0.</param>
/// <param name="Scale">Inverse temperature on the cosine similarities (20: sentence-transformers' default).</param>
/// <param name="EvalEvery">Steps between validations; the best validated weights (step 0 included: the encoder as it is) are kept.</param>
/// <param name="MaxTokens">Longest query or item text, in WordPiece tokens with [CLS] and [SEP].</param>
public sealed record DualEncoderTuning(int Steps = 600, int BatchSize = 32, double LearningRate = 2e-5, double Scale = 20, int EvalEvery = 150, int MaxTokens = 64, int Seed = 1)
{
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(Steps);
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(LearningRate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Scale);
        ArgumentOutOfRangeException.ThrowIfLessThan(EvalEvery, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxTokens, 4);
    }
}

/// <summary>One validation of the fine-tuning: its step, the mean training loss since the last one, and the validation score.</summary>
public sealed record DualEncoderValidation(int Step, double TrainLoss, double Score);

/// <summary>What fine-tuning chose: the step whose weights the encoder now holds (0: the packaged weights) and every validation.</summary>
public sealed record DualEncoderOutcome(int BestStep, double BestScore, IReadOnlyList<DualEncoderValidation> Validations, double Seconds);

public static class DualEncoderFineTuner
{
    /// <summary>
    /// Fine-tunes <paramref name="encoder"/> in place on <paramref name="pairs"/> (item ids mapped to
    /// their texts by <paramref name="texts"/>; queries get the package's query prefix). Every
    /// <see cref="DualEncoderTuning.EvalEvery"/> steps <paramref name="validate"/> scores the
    /// encoder (higher is better, validation data only); at the end the encoder holds the best
    /// scored weights, which may be the packaged ones.
    /// </summary>
    public static DualEncoderOutcome Run(TrainableSentenceEncoder encoder, IReadOnlyList<QueryPair> pairs, IReadOnlyDictionary<string, string> texts,
        Func<TrainableSentenceEncoder, double> validate, DualEncoderTuning options, IProgress<(int Step, double Loss)>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(validate);
        options.Validate();
        var usable = pairs.Where(p => texts.ContainsKey(p.ItemId)).ToList();
        if (usable.Select(p => p.ItemId).Distinct(StringComparer.Ordinal).Count() < options.BatchSize)
            throw new ArgumentException($"In-batch negatives need at least {options.BatchSize} distinct items among the training pairs.", nameof(pairs));
        var clock = Stopwatch.StartNew();
        var model = encoder.Model;
        var prefix = encoder.Package.QueryPrefix;
        var validations = new List<DualEncoderValidation> { new(0, double.NaN, validate(encoder)) };
        var best = validations[0];
        var bestWeights = Snapshot(model);
        using var optimizer = new DecoupledAdamW(model.parameters().Select(p => (p, NoDecay(p) ? 0.0 : 0.01)), 0.9, 0.999, 1e-6);
        var random = new Random(options.Seed);
        var batches = Batches(usable, options.BatchSize, random).GetEnumerator();
        var warmup = Math.Max(1, options.Steps / 10);
        double lossSum = 0;
        var lossCount = 0;
        for (var step = 1; step <= options.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!batches.MoveNext())
            {
                batches = Batches(usable, options.BatchSize, random).GetEnumerator();
                batches.MoveNext();
            }
            var batch = batches.Current;
            model.train();
            using (var scope = NewDisposeScope())
            {
                var queries = encoder.Forward([.. batch.Select(p => prefix + p.Query)]);            // [batch, hidden]
                var items = encoder.Forward([.. batch.Select(p => texts[p.ItemId])]);             // [batch, hidden]
                var logits = queries.matmul(items.t()).Times(options.Scale);                       // [batch, batch]
                var labels = tensor(Enumerable.Range(0, batch.Count).Select(i => (long)i).ToArray());  // [batch]: the diagonal
                var loss = nn.functional.cross_entropy(logits, labels);
                optimizer.ZeroGrad();
                loss.backward();
                nn.utils.clip_grad_norm_(model.parameters(), 1.0);
                var rate = options.LearningRate * (step <= warmup ? step / (double)warmup : Math.Max(0, (options.Steps - step) / (double)Math.Max(1, options.Steps - warmup)));
                optimizer.Step(rate);
                var value = loss.item<float>();
                lossSum += value;
                lossCount++;
                progress?.Report((step, value));
            }
            if (step % options.EvalEvery == 0 || step == options.Steps)
            {
                var validation = new DualEncoderValidation(step, lossSum / lossCount, validate(encoder));
                validations.Add(validation);
                (lossSum, lossCount) = (0, 0);
                if (validation.Score > best.Score)
                {
                    best = validation;
                    DisposeAll(bestWeights);
                    bestWeights = Snapshot(model);
                }
            }
        }
        Restore(model, bestWeights);
        DisposeAll(bestWeights);
        model.eval();
        return new DualEncoderOutcome(best.Step, best.Score, validations, clock.Elapsed.TotalSeconds);
    }

    // Biases and LayerNorm weights take no decay, as in BERT's own fine-tuning.
    private static bool NoDecay(TorchSharp.Modules.Parameter p) => p.dim() == 1;

    /// <summary>Shuffled pairs cut into batches in which no item appears twice (a repeat waits for a later batch).</summary>
    private static IEnumerable<List<QueryPair>> Batches(List<QueryPair> pairs, int batchSize, Random random)
    {
        var order = pairs.ToArray();
        random.Shuffle(order);
        var waiting = new Queue<QueryPair>(order);
        while (waiting.Count >= batchSize)
        {
            var batch = new List<QueryPair>(batchSize);
            var items = new HashSet<string>(StringComparer.Ordinal);
            var deferred = new List<QueryPair>();
            while (batch.Count < batchSize && waiting.Count > 0)
            {
                var pair = waiting.Dequeue();
                if (items.Add(pair.ItemId))
                    batch.Add(pair);
                else
                    deferred.Add(pair);
            }
            foreach (var pair in deferred)
                waiting.Enqueue(pair);
            if (batch.Count < batchSize)
                yield break;
            yield return batch;
        }
    }

    private static Dictionary<string, Tensor> Snapshot(nn.Module model)
    {
        using var noGrad = no_grad();
        return model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
    }

    private static void Restore(nn.Module model, Dictionary<string, Tensor> weights)
    {
        using var noGrad = no_grad();
        foreach (var (name, value) in model.state_dict())
            value.copy_(weights[name]);
    }

    private static void DisposeAll(Dictionary<string, Tensor> weights)
    {
        foreach (var tensor in weights.Values)
            tensor.Dispose();
    }
}
