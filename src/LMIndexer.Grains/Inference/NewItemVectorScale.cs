namespace LMIndexer.Grains.Inference;

/// <summary>
/// The length of a new item's dense vector projected from its text. A ridge projection fitted on
/// noisy targets shrinks its outputs toward the mean item, whose dot product with any query is
/// middling, so a shrunk vector rarely reaches the dense head's best candidates.
/// </summary>
public enum NewItemVectorScale
{
    /// <summary>The projection's output as it is.</summary>
    Projected,

    /// <summary>The projection's direction at the mean length of the trained item vectors.</summary>
    TrainedNorm,
}
