using LMIndexer.Core.Recipes;

namespace LMIndexer.Core.Indexing.ResidualQuantization;

/// <summary>Sizes and schedule of the rq-VAE (TIGER: 3 levels of 256 codes, 32-dim latent, MLP 512-256-128).</summary>
public sealed record RqVaeOptions
{
    public int LatentDim { get; init; } = 32;
    public int[] HiddenDims { get; init; } = [512, 256, 128];

    /// <summary>Weight of the commitment term β‖r − sg(e)‖².</summary>
    public double Beta { get; init; } = 0.25;

    public int Epochs { get; init; } = 200;
    public int BatchSize { get; init; } = 256;
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Every invalid field (camelCase names, as in recipe files).</summary>
    public IEnumerable<OptionError> Errors()
    {
        if (LatentDim < 1)
            yield return new("latentDim", $"the latent needs at least one dimension, got {LatentDim}");
        if (HiddenDims.Any(d => d < 1))
            yield return new("hiddenDims", $"hidden layer widths must be at least 1, got [{string.Join(", ", HiddenDims)}]");
        if (Beta < 0)
            yield return new("beta", $"the commitment weight cannot be negative, got {Beta}");
        if (Epochs < 1)
            yield return new("epochs", $"at least one epoch is needed, got {Epochs}");
        if (BatchSize < 2)
            yield return new("batchSize", $"batch size ≥ 2 is required, got {BatchSize}");
        if (LearningRate is <= 0 or > 1)
            yield return new("learningRate", $"the learning rate must be in (0, 1], got {LearningRate}");
    }
}
