namespace LMIndexer.Core.Data.Synthetic;

/// <summary>Size and shape of a generated catalog. The same options and seed give the same catalog.</summary>
public sealed record SyntheticCatalogOptions
{
    public int Items { get; init; } = 2000;
    public int Users { get; init; } = 3000;
    public int Seed { get; init; } = 42;
    public int BrandsPerDepartment { get; init; } = 8;
    public int MinSequenceLength { get; init; } = 5;
    public int MaxSequenceLength { get; init; } = 20;

    /// <summary>Probability that the next item is a co-purchase partner of the previous one.</summary>
    public double CoPurchaseProbability { get; init; } = 0.45;

    /// <summary>Probability that the next item comes from the previous item's leaf category.</summary>
    public double SameLeafProbability { get; init; } = 0.3;

    /// <summary>Probability that the next item is a catalog-wide popular item (noise).</summary>
    public double PopularProbability { get; init; } = 0.1;

    public void Validate()
    {
        if (Items < 10)
            throw new ArgumentException($"At least 10 items are needed, got {Items}.");
        if (Users < 1)
            throw new ArgumentException($"At least one user is needed, got {Users}.");
        if (MinSequenceLength < 3 || MaxSequenceLength < MinSequenceLength)
            throw new ArgumentException($"Sequence lengths must satisfy 3 ≤ min ≤ max, got {MinSequenceLength}..{MaxSequenceLength}.");
        if (BrandsPerDepartment < 1)
            throw new ArgumentException("At least one brand per department is needed.");
        var sum = CoPurchaseProbability + SameLeafProbability + PopularProbability;
        if (CoPurchaseProbability < 0 || SameLeafProbability < 0 || PopularProbability < 0 || sum > 1)
            throw new ArgumentException("Transition probabilities must be non-negative and sum to at most 1.");
    }
}
