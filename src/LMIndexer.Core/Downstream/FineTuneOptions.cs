using LMIndexer.Core.Recipes;
using LMIndexer.Core.Training;

namespace LMIndexer.Core.Downstream;

/// <summary>Options of <see cref="GenerativeFineTuner"/>.</summary>
public sealed record FineTuneOptions
{
    public int Steps { get; init; } = 2000;

    public int BatchSize { get; init; } = 32;

    /// <summary>The reference: AdamW, lr 1e-3, no warm-up, linear decay.</summary>
    public OptimizerOptions Optimizer { get; init; } = new() { LearningRate = 1e-3, WarmupRatio = 0 };

    /// <summary>
    /// Label smoothing of the target tokens (0: none, the reference). It keeps the network from
    /// driving the memorised transitions' probabilities to 1, which is where long runs overfit.
    /// </summary>
    public double LabelSmoothing { get; init; }

    /// <summary>
    /// Decay of an exponential moving average of the weights, updated every step and validated, kept
    /// and returned in place of the last weights (0: off, the reference; 0.999 averages about the
    /// last thousand steps). See <see cref="Training.WeightAverage"/>.
    /// </summary>
    public double WeightAverage { get; init; }

    /// <summary>
    /// Recommendation with ID sources: the chance that each history item but the newest is left out
    /// of a training source (0: off, the reference). See <see cref="HistoryItemDropout"/>.
    /// </summary>
    public double HistoryDropout { get; init; }

    /// <summary>
    /// Recommendation with <c>ids+items</c> sources: the chance that each history item's own token
    /// (its item vector) is left out of a training source, its ID tokens kept (0: off). See
    /// <see cref="ItemVectorDropout"/>.
    /// </summary>
    public double ItemDropout { get; init; }

    /// <summary>
    /// Weight of the dense item head's loss (<see cref="Model.T5Config.DenseItemHead"/>): a
    /// full-softmax cross-entropy over every item, added to the ID tokens' loss (0: no head).
    /// </summary>
    public double DenseLoss { get; init; }

    /// <summary>
    /// Batch sources of similar length together (see <see cref="LengthGroupedOrder"/>; off: every
    /// batch a uniform draw, the reference). Long sources then pad short ones only in their own batches.
    /// </summary>
    public bool GroupByLength { get; init; }

    /// <summary>Validate (and keep the best weights) every this many steps; 0 validates only at the end.</summary>
    public int EvalEvery { get; init; } = 500;

    /// <summary>Validation examples used at each evaluation (a fixed prefix of the validation set).</summary>
    public int ValidationLimit { get; init; } = 512;

    public EvaluationOptions Evaluation { get; init; } = new();

    /// <summary>The validation metric that picks the kept checkpoint.</summary>
    public string SelectionMetric { get; init; } = "ndcg@10";

    /// <summary>Compute in bfloat16 with fp32 master weights (<see cref="Training.MixedPrecision"/>; faster matmuls on AVX-512 BF16 CPUs, loss and checkpoints in fp32).</summary>
    public bool BFloat16 { get; init; }

    public int Seed { get; init; } = 42;

    /// <summary>Where to keep the resumable checkpoint (weights, optimizer moments, progress); none when null.</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>Every invalid field (camelCase names, as in recipe files).</summary>
    public IEnumerable<OptionError> Errors()
    {
        if (Steps < 1)
            yield return new("steps", $"steps must be at least 1, got {Steps}");
        if (BatchSize < 1)
            yield return new("batchSize", $"batch size must be at least 1, got {BatchSize}");
        if (EvalEvery < 0)
            yield return new("evalEvery", $"the evaluation interval cannot be negative, got {EvalEvery}");
        if (ValidationLimit < 0)
            yield return new("validationLimit", $"the validation limit cannot be negative, got {ValidationLimit}");
        if (LabelSmoothing is < 0 or >= 1)
            yield return new("labelSmoothing", $"Label smoothing must be in [0, 1), got {LabelSmoothing}");
        if (WeightAverage is < 0 or >= 1)
            yield return new("weightAverage", $"The weight average's decay must be in [0, 1), got {WeightAverage}");
        if (HistoryDropout is < 0 or >= 1)
            yield return new("historyDropout", $"History dropout must be in [0, 1), got {HistoryDropout}");
        if (ItemDropout is < 0 or >= 1)
            yield return new("itemDropout", $"Item-vector dropout must be in [0, 1), got {ItemDropout}");
        if (DenseLoss < 0 || !double.IsFinite(DenseLoss))
            yield return new("denseLoss", $"The dense loss weight must be a finite number of at least 0, got {DenseLoss}");
        if (Optimizer.LearningRate < 0 || !double.IsFinite(Optimizer.LearningRate))
            yield return new("optimizer.learningRate", $"the learning rate must be a finite number of at least 0, got {Optimizer.LearningRate}");
        if (Optimizer.WeightDecay < 0)
            yield return new("optimizer.weightDecay", $"Weight decay cannot be negative, got {Optimizer.WeightDecay}");
        if (Optimizer.WarmupRatio is < 0 or > 1)
            yield return new("optimizer.warmupRatio", $"the warm-up ratio must be in [0, 1], got {Optimizer.WarmupRatio}");
        if (Evaluation.Beams < 1)
            yield return new("evaluation.beams", "At least one beam is needed");
        if (!Evaluation.Cutoffs.Any(c => SelectionMetric.EndsWith($"@{c}", StringComparison.Ordinal)))
            yield return new("selectionMetric", $"The selection metric '{SelectionMetric}' is not computed at cutoffs {string.Join(", ", Evaluation.Cutoffs)}");
    }

    /// <summary>Throws with every invalid field's message.</summary>
    public void Validate() => OptionErrors.ThrowIfAny(Errors());
}

/// <summary>One validation during fine-tuning.</summary>
public sealed record ValidationPoint(int Step, double TrainLoss, IReadOnlyDictionary<string, double> Metrics);

/// <summary>What a fine-tuning run did.</summary>
public sealed record FineTuneReport(
    int Steps,
    double FirstLoss,
    double FinalLoss,
    double Seconds,
    int BestStep,
    double BestMetric,
    IReadOnlyList<ValidationPoint> Validations,
    int ResumedAtStep);
