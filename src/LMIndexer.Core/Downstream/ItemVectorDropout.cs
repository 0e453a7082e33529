namespace LMIndexer.Core.Downstream;

/// <summary>
/// Training-time augmentation of <c>ids+items</c> sources: each history item's own token (its
/// learned item vector, <see cref="SourceMode.IdsAndItems"/>) is left out with a fixed probability,
/// drawn afresh each time the example is batched, while the item's ID tokens stay. Item vectors let
/// the network memorise item-to-item transitions item by item and overfit; dropping the vector makes
/// it predict from the shared ID tokens as well, so what it learns carries to items it has seen
/// rarely (docs/decisions/004-source-dropouts.md). The newest item's vector may be dropped too: it is the one most easily
/// memorised. Validation and test sources are never augmented.
/// </summary>
public sealed class ItemVectorDropout
{
    private readonly double probability;
    private readonly int firstItemToken;

    /// <param name="probability">Chance that each item token is left out, in [0, 1).</param>
    /// <param name="firstItemToken">The lowest item token: the model's vocabulary size (item tokens are numbered above it).</param>
    public ItemVectorDropout(double probability, int firstItemToken)
    {
        if (probability is < 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "Item-vector dropout must be in [0, 1).");
        ArgumentOutOfRangeException.ThrowIfNegative(firstItemToken);
        this.probability = probability;
        this.firstItemToken = firstItemToken;
    }

    /// <summary><paramref name="source"/> with some item tokens removed; the same array when none is.</summary>
    public int[] Apply(int[] source, Random random)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(random);
        List<int>? kept = null;
        for (var i = 0; i < source.Length; i++)
        {
            var token = source[i];
            var dropped = token >= firstItemToken && random.NextDouble() < probability;
            if (dropped && kept is null)
                kept = [.. source.AsSpan(0, i)];
            if (!dropped)
                kept?.Add(token);
        }
        return kept is null ? source : [.. kept];
    }
}
