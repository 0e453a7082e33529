namespace LMIndexer.Core.Training;

/// <summary>AdamW with linear warm-up and decay, as the reference's HF Trainer defaults.</summary>
public sealed record OptimizerOptions
{
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>
    /// Decoupled (AdamW) weight decay of the weight matrices and embeddings; 1-D parameters (T5's
    /// layer-norm scales) never decay, as in HF Trainer. 0, the default, decays nothing.
    /// </summary>
    public double WeightDecay { get; init; }
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Fraction of the steps spent warming up linearly from 0.</summary>
    public double WarmupRatio { get; init; } = 0.1;

    /// <summary>Global gradient-norm clip; 0 disables clipping.</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    public LearningRateDecay Decay { get; init; } = LearningRateDecay.Linear;
}

public enum LearningRateDecay
{
    Linear,
    Cosine,
    Constant,
}
