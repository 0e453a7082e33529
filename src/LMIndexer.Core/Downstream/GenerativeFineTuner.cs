using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Generation;
using LMIndexer.Core.Model;
using LMIndexer.Core.Text;
using LMIndexer.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Downstream;

/// <summary>
/// Seq2seq fine-tuning for generative recommendation / search / retrieval: source tokens → the
/// target item's ID tokens + <c>&lt;/s&gt;</c>, cross-entropy on the target, AdamW with the
/// configured schedule and clipping. Validates with constrained beam search every N steps and keeps
/// the best weights; with <see cref="FineTuneOptions.WeightAverage"/> on, the moving average of the
/// weights is what is validated, kept and returned. With a checkpoint directory an interrupted run
/// resumes where it stopped: the batch order is replayed and torch is reseeded at every validation
/// boundary, so the resumed run continues as the uninterrupted one would have.
/// </summary>
public static class GenerativeFineTuner
{
    public static FineTuneReport Train(
        T5Model model,
        IReadOnlyList<int[]> itemIdTokens,
        IReadOnlyList<GenerativeExample> train,
        IReadOnlyList<GenerativeExample> validation,
        TrieTables trie,
        FineTuneOptions options,
        Func<int, bool>? sourceItemStart = null,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.HistoryDropout > 0 && sourceItemStart is null)
            throw new ArgumentException("History dropout needs to know where the source's items start.", nameof(sourceItemStart));
        var historyDropout = options.HistoryDropout > 0 ? new HistoryItemDropout(options.HistoryDropout, sourceItemStart!) : null;
        if (options.ItemDropout > 0 && model.Config.SourceItemCount == 0)
            throw new ArgumentException("Item-vector dropout needs a network with item vectors (source ids+items).", nameof(options));
        var itemDropout = options.ItemDropout > 0 ? new ItemVectorDropout(options.ItemDropout, model.Config.VocabSize) : null;
        if ((options.DenseLoss > 0) != model.Config.DenseItemHead)
            throw new ArgumentException(model.Config.DenseItemHead
                ? "The network has a dense item head; it needs a dense loss weight above 0 to train it."
                : "A dense loss needs a network with a dense item head (T5Config.DenseItemHead).", nameof(options));
        var rows = train.SelectMany(e => e.Targets.Select(t => (e.Source, Target: t))).ToArray();
        if (rows.Length == 0)
            throw new ArgumentException("There are no training examples.", nameof(train));
        var validationSet = validation.Take(options.ValidationLimit).ToList();
        var evalEvery = options.EvalEvery == 0 ? options.Steps : options.EvalEvery;
        var checkpoint = options.CheckpointDirectory is null ? null : new FineTuneCheckpoint(options.CheckpointDirectory, Fingerprint(model, options, rows, itemIdTokens));
        // Resumed weights go into the fp32 model before any bf16 cast, so the masters start from them.
        var resumed = checkpoint?.TryResumeWeights(model, averaged: options.WeightAverage > 0);
        // Disposed early in the finally below (the best weights load into the fp32 model); `using`
        // covers a throw before the loop, and a second Dispose does nothing.
        using var precision = options.BFloat16 ? MixedPrecision.BFloat16(model) : null;
        model.train();
        using var optimizer = new ModelOptimizer(model.parameters().Where(p => p.requires_grad), options.Optimizer, options.Steps, precision);
        if (resumed is not null)
            checkpoint!.LoadOptimizer(optimizer, resumed.Step);
        var state = resumed ?? new FineTuneProgress("", 0, double.NaN, 0, double.NegativeInfinity, []);
        var resumedAt = state.Step;
        var best = state.Step > 0 && checkpoint is not null ? checkpoint.LoadBest() : null;
        IReadOnlyDictionary<string, Tensor> FullPrecisionWeights() => precision?.MasterWeights() ?? model.state_dict();
        // The dictionary's tensors are the live weights the optimizer updates in place.
        var liveWeights = FullPrecisionWeights();
        using var average = options.WeightAverage == 0 ? null
            : resumed is not null ? checkpoint!.LoadAverage(options.WeightAverage, resumed.Step)
            : new WeightAverage(liveWeights, options.WeightAverage);

        var random = new Random(options.Seed);
        var order = Enumerable.Range(0, rows.Length).ToArray();
        var cursor = order.Length;
        int Next()
        {
            if (cursor >= order.Length)
            {
                random.Shuffle(order);
                if (options.GroupByLength)
                    LengthGroupedOrder.Arrange(order, row => rows[row].Source.Length, options.BatchSize);
                cursor = 0;
            }
            return order[cursor++];
        }
        for (var i = 0; i < state.Step * options.BatchSize; i++)
            Next();   // replay the sampler up to the resumed step

        var clock = Stopwatch.StartNew();
        var first = state.FirstLoss;
        var validations = new List<ValidationPoint>(state.Validations);
        double windowLoss = 0, lastLoss = double.NaN;
        var windowCount = 0;
        try
        {
            for (var step = state.Step; step < options.Steps; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (step % evalEvery == 0)
                    torch.manual_seed(options.Seed + step);
                var sources = new List<int[]>(options.BatchSize);
                var targets = new List<int[]>(options.BatchSize);
                var items = new List<int>(options.BatchSize);
                // Seeded by step, so a resumed run drops the same items as the uninterrupted one.
                var dropping = historyDropout is null && itemDropout is null ? null : new Random(unchecked((options.Seed * 1_000_003) + step));
                for (var b = 0; b < options.BatchSize; b++)
                {
                    var (source, target) = rows[Next()];
                    if (historyDropout is not null)
                        source = historyDropout.Apply(source, dropping!);
                    if (itemDropout is not null)
                        source = itemDropout.Apply(source, dropping!);
                    sources.Add(source);
                    targets.Add([.. itemIdTokens[target], CatalogTokenizer.EosId]);
                    items.Add(target);
                }
                // targets: ID tokens + </s>; items: the same targets as rows of the item-vector table
                lastLoss = optimizer.TrainSeq2SeqStep(model, sources, targets, options.LabelSmoothing,
                    options.DenseLoss > 0 ? new DenseItemTargets(items, options.DenseLoss) : null);
                average?.Update(liveWeights);
                if (double.IsNaN(first))
                    first = lastLoss;
                windowLoss += lastLoss;
                windowCount++;
                var done = step + 1;
                IReadOnlyDictionary<string, double>? parts = validations.Count > 0
                    ? new Dictionary<string, double> { [$"val {options.SelectionMetric}"] = validations[^1].Metrics.GetValueOrDefault(options.SelectionMetric) }
                    : null;
                progress?.Report(new TrainingProgress("finetune", done, options.Steps, lastLoss, optimizer.CurrentLearningRate,
                    (done - resumedAt) * options.BatchSize / clock.Elapsed.TotalSeconds, parts));

                if (done % evalEvery != 0 && done != options.Steps)
                    continue;
                var meanLoss = windowLoss / windowCount;
                windowLoss = 0;
                windowCount = 0;
                if (validationSet.Count > 0)
                {
                    var result = average is null
                        ? GenerativeEvaluator.Evaluate(model, validationSet, trie, options.Evaluation, cancellationToken: cancellationToken)
                        : WithWeights(model, average.Weights, () => GenerativeEvaluator.Evaluate(model, validationSet, trie, options.Evaluation, cancellationToken: cancellationToken));
                    validations.Add(new ValidationPoint(done, meanLoss, result.Metrics));
                    var metric = result.Metrics[options.SelectionMetric];
                    if (metric > state.BestMetric)
                    {
                        best?.Dispose();
                        best = Snapshot(average?.Weights ?? FullPrecisionWeights());
                        state = state with { BestStep = done, BestMetric = metric };
                        checkpoint?.SaveBest(best);
                    }
                }
                else
                {
                    validations.Add(new ValidationPoint(done, meanLoss, new Dictionary<string, double>()));
                }
                state = state with { Step = done, FirstLoss = first, Validations = validations };
                checkpoint?.Save(FullPrecisionWeights(), optimizer, state, average?.Weights);
            }
        }
        catch
        {
            best?.Dispose();
            throw;
        }
        finally
        {
            precision?.Dispose();   // the model back to fp32, from the masters
            model.eval();
        }
        if (best is null)
        {
            state = state with { BestStep = options.Steps };
            if (average is not null)
                LoadWeights(model, average.Weights);
        }
        else
        {
            using (best)
                best.LoadInto(model);
        }
        return new FineTuneReport(options.Steps, first, validations.Count > 0 ? validations[^1].TrainLoss : lastLoss, clock.Elapsed.TotalSeconds,
            state.BestStep, state.BestMetric, validations, resumedAt);
    }

    /// <summary>Removes a run's checkpoint once its outputs are saved.</summary>
    public static void DeleteCheckpoint(string directory) => new FineTuneCheckpoint(directory, "").Delete();

    /// <summary>Runs <paramref name="action"/> with <paramref name="weights"/> loaded into the model, then puts its own back.</summary>
    private static T WithWeights<T>(T5Model model, IReadOnlyDictionary<string, Tensor> weights, Func<T> action)
    {
        using var own = Snapshot(model.state_dict());
        LoadWeights(model, weights);
        try
        {
            return action();
        }
        finally
        {
            own.LoadInto(model);
        }
    }

    /// <summary>Copies weights into the model's own tensors (casting to a bf16 model's dtype).</summary>
    internal static void LoadWeights(T5Model model, IReadOnlyDictionary<string, Tensor> weights)
    {
        using var noGrad = torch.no_grad();
        foreach (var (name, tensor) in model.state_dict())
            tensor.copy_(weights[name]);
    }

    private static WeightSnapshot Snapshot(IEnumerable<KeyValuePair<string, Tensor>> weights)
    {
        var copy = new Dictionary<string, Tensor>();
        foreach (var (name, tensor) in weights)
            copy[name] = tensor.detach().clone().DetachFromDisposeScope();
        return new WeightSnapshot(copy);
    }

    private static string Fingerprint(T5Model model, FineTuneOptions options, (int[] Source, int Target)[] rows, IReadOnlyList<int[]> itemIdTokens)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes((options with { CheckpointDirectory = null }).ToString()));
        sha.AppendData(Encoding.UTF8.GetBytes(model.Config.ToString()));
        sha.AppendData(Encoding.UTF8.GetBytes(DecoupledAdamW.StateFormat));   // a checkpoint of another optimizer layout restarts
        foreach (var (source, target) in rows)
            sha.AppendData(Encoding.UTF8.GetBytes($"{string.Join(',', source)}>{target}\n"));
        foreach (var tokens in itemIdTokens)
            sha.AppendData(Encoding.UTF8.GetBytes(string.Join(',', tokens) + "\n"));
        // Item vectors may start other than the seed draws them (ItemVectorInit): a checkpoint
        // trained from other starting vectors restarts.
        if (model.SourceItems?.weight is { } items)
        {
            using var cpu = items.detach().to(ScalarType.Float32).cpu();
            sha.AppendData(MemoryMarshal.AsBytes(cpu.data<float>().ToArray().AsSpan()));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}

/// <summary>Weights kept in memory (the best validation checkpoint).</summary>
internal sealed class WeightSnapshot(Dictionary<string, Tensor> tensors) : IDisposable
{
    public IReadOnlyDictionary<string, Tensor> Tensors => tensors;

    public void LoadInto(T5Model model) => GenerativeFineTuner.LoadWeights(model, tensors);

    public void Dispose()
    {
        foreach (var t in tensors.Values)
            t.Dispose();
    }
}

/// <summary>Where a fine-tuning run stands.</summary>
internal sealed record FineTuneProgress(string Fingerprint, int Step, double FirstLoss, int BestStep, double BestMetric, IReadOnlyList<ValidationPoint> Validations);

/// <summary>Weights, optimizer moments, best weights and progress of a resumable fine-tuning run.</summary>
internal sealed class FineTuneCheckpoint(string directory, string fingerprint)
{
    private string WeightsPath => Path.Combine(directory, "weights.safetensors");
    private string BestPath => Path.Combine(directory, "best.safetensors");
    private string OptimizerPath => Path.Combine(directory, "optimizer.bin");
    private string ProgressPath => Path.Combine(directory, "progress.json");
    private string AveragePath => Path.Combine(directory, "average.safetensors");

    public void Save(IReadOnlyDictionary<string, Tensor> weights, ModelOptimizer optimizer, FineTuneProgress progress, IReadOnlyDictionary<string, Tensor>? average)
    {
        Directory.CreateDirectory(directory);
        SafeTensors.Save(WeightsPath, weights.ToDictionary(kv => kv.Key, kv => kv.Value));
        if (average is not null)
            SafeTensors.Save(AveragePath, average.ToDictionary(kv => kv.Key, kv => kv.Value));
        optimizer.SaveState(OptimizerPath);
        var temp = ProgressPath + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(progress with { Fingerprint = fingerprint }, FineTuneJson.Default.FineTuneProgress));
        File.Move(temp, ProgressPath, overwrite: true);   // the progress file commits the checkpoint
    }

    public void SaveBest(WeightSnapshot best)
    {
        Directory.CreateDirectory(directory);
        SafeTensors.Save(BestPath, best.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value));
    }

    /// <summary>Progress and weights of a matching checkpoint; the optimizer follows with <see cref="LoadOptimizer"/>.</summary>
    public FineTuneProgress? TryResumeWeights(T5Model model, bool averaged)
    {
        if (!File.Exists(ProgressPath) || !File.Exists(WeightsPath) || !File.Exists(OptimizerPath) || (averaged && !File.Exists(AveragePath)))
            return null;
        FineTuneProgress? progress;
        try
        {
            progress = JsonSerializer.Deserialize(File.ReadAllText(ProgressPath), FineTuneJson.Default.FineTuneProgress);
        }
        catch (JsonException)
        {
            return null;
        }
        if (progress is null || progress.Fingerprint != fingerprint)
            return null;
        using (var weights = Load(WeightsPath))
            weights.LoadInto(model);
        return progress;
    }

    public void LoadOptimizer(ModelOptimizer optimizer, int step) => optimizer.LoadState(OptimizerPath, step);

    /// <summary>The moving average saved with the resumed step; it has folded in one update per step.</summary>
    public WeightAverage LoadAverage(double decay, int step)
    {
        using var saved = Load(AveragePath);
        return new WeightAverage(saved.Tensors, decay, updates: step);   // the average keeps copies
    }

    public WeightSnapshot? LoadBest() => File.Exists(BestPath) ? Load(BestPath) : null;

    private static WeightSnapshot Load(string path) => new(SafeTensors.Load(path).Tensors);

    public void Delete()
    {
        if (Directory.Exists(directory))
            Directory.Delete(directory, recursive: true);
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(FineTuneProgress))]
internal sealed partial class FineTuneJson : JsonSerializerContext;
