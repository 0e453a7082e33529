using LMIndexer.Core.Recipes;
using LMIndexer.Core.Training;

namespace LMIndexer.Core.Indexing;

/// <summary>
/// Everything the progressive LMIndexer training takes. Defaults follow the reference (§1.6, §9
/// of the reference notes) except where the CPU budget forces smaller numbers (epochs, batch).
/// </summary>
public sealed record SemanticIndexerOptions
{
    /// <summary>Learned ID positions (the reference learns 2; a collision counter follows).</summary>
    public int Positions { get; init; } = 2;

    /// <summary>Codes per learned position (K). The reference's Amazon runs use 512, its scripts 128.</summary>
    public int CodebookSize { get; init; } = 128;

    /// <summary>Initial size of the collision-counter range; grown automatically when a group is larger.</summary>
    public int CounterSize { get; init; } = 128;

    /// <summary>Text tokens per item including &lt;/s&gt; (the reference trains with 128).</summary>
    public int MaxTokens { get; init; } = 64;

    public int ReconstructorLayers { get; init; } = 1;
    public int BatchSize { get; init; } = 32;

    /// <summary>Stage 0, the reconstructor warm-up (fix for reconstructor collapse).</summary>
    public bool Warmup { get; init; } = true;

    public bool Contrastive { get; init; } = true;
    public bool Commitment { get; init; } = true;

    /// <summary>Mask probability of the reconstructor context at position 1 (reference 0.5) and later (0.7).</summary>
    public double MaskRatioFirst { get; init; } = 0.5;
    public double MaskRatioLater { get; init; } = 0.7;

    /// <summary>Same-prefix hard negatives per item at positions ≥ 2 (reference 4).</summary>
    public int HardNegatives { get; init; } = 4;

    /// <summary>
    /// Scale logits by d_model^-0.5 in the reconstructor head and the contrastive scores. The reference
    /// uses raw dot products, which suit t5-base's pretrained embedding scale; with our from-scratch
    /// N(0, 1) tied embeddings raw logits start with std √d and both losses blow up (docs/method.md,
    /// "Logit scale"). <c>false</c> restores the reference's raw scores.
    /// </summary>
    public bool ScaleLogits { get; init; } = true;

    public double ReconstructionWeight { get; init; } = 1;
    public double ContrastiveWeight { get; init; } = 1;
    public double CommitmentWeight { get; init; } = 1;

    /// <summary>
    /// Replicates the reference's position-2 bug: the second reconstructor query stream gets the
    /// continuous h instead of the quantised z, letting reconstruction bypass the bottleneck.
    /// </summary>
    public bool ReplicateReferenceLeak { get; init; }

    /// <summary>
    /// Train the stages in bf16 with fp32 master weights (<see cref="MixedPrecision"/>); about 2×
    /// faster from d_model 256 up on CPUs with bf16 matmuls. Off by default, as in the reference (fp32).
    /// </summary>
    public bool BFloat16 { get; init; }

    public int WarmupEpochs { get; init; } = 3;
    public int ContinuousEpochs { get; init; } = 3;
    public int CodebookEpochs { get; init; } = 3;

    /// <summary>
    /// Epochs of the continuous stage at positions ≥ 2; null means <see cref="ContinuousEpochs"/>.
    /// The reference trains that stage for 5 epochs against 30 for every other stage (§9): position 2
    /// starts from a trained backbone, and its steps are the most expensive (six encodes per item).
    /// </summary>
    public int? LaterContinuousEpochs { get; init; }

    /// <summary>Continuous-stage epochs at <paramref name="position"/> (1-based).</summary>
    public int ContinuousEpochsAt(int position) => position > 1 ? LaterContinuousEpochs ?? ContinuousEpochs : ContinuousEpochs;

    public OptimizerOptions Optimizer { get; init; } = new() { LearningRate = 1e-3, WarmupRatio = 0.1 };

    /// <summary>
    /// Peak learning rate of the warm-up stage, where only the fresh reconstructor trains. Higher than
    /// the backbone's: the reconstructor's relative-position table starts near zero and must grow
    /// by several units before rows can tell positions apart. Null uses <see cref="Optimizer"/>'s.
    /// </summary>
    public double? WarmupLearningRate { get; init; }
    public KMeansOptions KMeans { get; init; } = new();
    public int Seed { get; init; } = 42;

    /// <summary>
    /// The text encoder the IDs are learned on: <c>t5-scratch</c> (the backbone's own encoder) or a
    /// packaged pretrained one (<c>minilm</c>, <c>arctic-xs</c>) under the same decoder, codebooks and
    /// reconstructor.
    /// </summary>
    public string Encoder { get; init; } = Encoders.TextEncoders.T5Scratch;

    /// <summary>Top layers of a pretrained encoder that fine-tune; 0 keeps it frozen (its states are then computed once per item).</summary>
    public int EncoderTrainableLayers { get; init; }

    /// <summary>
    /// How the codes are learned: <c>lmindexer</c> (the decoder and reconstructor above, on
    /// <see cref="Encoder"/>'s states) or <c>rqvae</c> (TIGER's rq-VAE on its sentence vectors, sized by
    /// <see cref="RqVae"/>). Either way the codes get the same collision counter and bundle.
    /// </summary>
    public string Method { get; init; } = IdMethods.LMIndexer;

    public ResidualQuantization.RqVaeOptions RqVae { get; init; } = new();

    /// <summary>Every invalid field (camelCase names, as in recipe files).</summary>
    public IEnumerable<OptionError> Errors()
    {
        if (Positions < 1)
            yield return new("positions", $"at least one learned ID position is needed, got {Positions}");
        if (CodebookSize < 2)
            yield return new("codebookSize", $"codebook size must be at least 2, got {CodebookSize}");
        if (CounterSize < 1)
            yield return new("counterSize", $"the counter size must be at least 1, got {CounterSize}");
        if (MaxTokens < 4)
            yield return new("maxTokens", $"max tokens ≥ 4 is required, got {MaxTokens}");
        if (BatchSize < 2)
            yield return new("batchSize", $"batch size ≥ 2 is required, got {BatchSize}");
        if (ReconstructorLayers < 1)
            yield return new("reconstructorLayers", $"reconstructor layers ≥ 1 is required, got {ReconstructorLayers}");
        if (HardNegatives < 0)
            yield return new("hardNegatives", $"hard negatives ≥ 0 is required, got {HardNegatives}");
        if (MaskRatioFirst is < 0 or >= 1)
            yield return new("maskRatioFirst", $"mask ratios must be in [0, 1), got {MaskRatioFirst}");
        if (MaskRatioLater is < 0 or >= 1)
            yield return new("maskRatioLater", $"mask ratios must be in [0, 1), got {MaskRatioLater}");
        if (!Encoders.TextEncoders.IsKnown(Encoder))
            yield return new("encoder", $"unknown encoder '{Encoder}'; expected {Encoders.TextEncoders.NamesText}");
        else if (Encoders.TextEncoders.Package(Encoder) is { } package && EncoderTrainableLayers > package.Config.NumHiddenLayers)
            yield return new("encoderTrainableLayers", $"{Encoder} has {package.Config.NumHiddenLayers} layers, got {EncoderTrainableLayers} to train");
        if (EncoderTrainableLayers < 0)
            yield return new("encoderTrainableLayers", $"trainable encoder layers cannot be negative, got {EncoderTrainableLayers}");
        if (!IdMethods.IsKnown(Method))
            yield return new("method", $"unknown ID method '{Method}'; expected {string.Join(" or ", IdMethods.Names)}");
        foreach (var error in RqVae.Errors())
            yield return error with { Field = $"rqVae.{error.Field}" };
        foreach (var (name, epochs) in new[] { ("warmupEpochs", WarmupEpochs), ("continuousEpochs", ContinuousEpochs), ("codebookEpochs", CodebookEpochs), ("laterContinuousEpochs", LaterContinuousEpochs) })
        {
            if (epochs < 0)
                yield return new(name, $"Stage epochs cannot be negative, got {epochs}");
        }
    }

    /// <summary>Throws with every invalid field's message.</summary>
    public void Validate() => OptionErrors.ThrowIfAny(Errors());

    /// <summary>Vocabulary ranges the tokenizer must reserve: K per learned position, then the counter.</summary>
    public int[] IdPositionSizes() => [.. Enumerable.Repeat(CodebookSize, Positions), CounterSize];
}
