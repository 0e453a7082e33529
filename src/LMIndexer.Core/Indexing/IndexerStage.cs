namespace LMIndexer.Core.Indexing;

/// <summary>The reference's training stages for one ID position.</summary>
public enum IndexerStage
{
    /// <summary>Stage 0: only the reconstructor learns, from a frozen indexer and a random frozen codebook.</summary>
    Warmup,

    /// <summary>The continuous h replaces z (fix for posterior collapse); no codebook yet.</summary>
    Continuous,

    /// <summary>After k-means initialisation: the quantised z with the straight-through gradient.</summary>
    Codebook,
}

/// <summary>One training batch for position t.</summary>
/// <param name="Tokens">Per item: text tokens + &lt;/s&gt;.</param>
/// <param name="Prefix">Per item: its t−1 earlier codes.</param>
/// <param name="Negatives">Per item: tokens of its same-prefix hard negatives (empty when it has none); positions ≥ 2 only.</param>
internal sealed record IndexerBatch(IReadOnlyList<int[]> Tokens, long[][] Prefix, IReadOnlyList<int[][]>? Negatives);
