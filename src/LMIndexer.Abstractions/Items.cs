namespace LMIndexer.Abstractions;

/// <summary>A catalog record: the fields the item text is built from, and the picture shops show.</summary>
[GenerateSerializer, Immutable]
public sealed record ItemRecord(
    [property: Id(0)] string ItemId,
    [property: Id(1)] string? Title,
    [property: Id(2)] string? Description = null,
    [property: Id(3)] string? Brand = null,
    [property: Id(4)] decimal? Price = null,
    [property: Id(5)] IReadOnlyList<IReadOnlyList<string>>? Categories = null,
    [property: Id(6)] string? ImageUrl = null);

/// <summary>An item's semantic ID in one index version: learned codes, then the collision counter.</summary>
[GenerateSerializer, Immutable]
public sealed record VersionedSemanticId([property: Id(0)] string Version, [property: Id(1)] long[] Codes)
{
    public override string ToString() => $"{Version}:{string.Join('-', Codes)}";
}

/// <summary>An item with its semantic IDs per version.</summary>
[GenerateSerializer, Immutable]
public sealed record ItemDetails(
    [property: Id(0)] ItemRecord Record,
    [property: Id(1)] IReadOnlyList<VersionedSemanticId> SemanticIds);

/// <summary>One leaf of the ID trie: full codes (c1 first) → item id.</summary>
[GenerateSerializer, Immutable]
public sealed record PrefixEntry([property: Id(0)] long[] Codes, [property: Id(1)] string ItemId);

/// <summary>An item and its popularity score.</summary>
[GenerateSerializer, Immutable]
public sealed record PopularItem([property: Id(0)] string ItemId, [property: Id(1)] double Score);

/// <summary>A silo's events for an item since its last popularity merge: their summed weight and how many there were.</summary>
[GenerateSerializer, Immutable]
public sealed record ItemEventCount([property: Id(0)] string ItemId, [property: Id(1)] double Weight, [property: Id(2)] int Events);

/// <summary>
/// The dense vector a version's model scores an item by: <see cref="Source"/> is <c>trained</c> (the
/// recommender learned it), <c>text</c> (an item added after training, projected from its text) or
/// <c>none</c> (the model has no dense item head, or the item has no vector there; <see cref="Values"/> is empty).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ItemVector([property: Id(0)] string Version, [property: Id(1)] string Source, [property: Id(2)] float[] Values)
{
    public const string Trained = "trained", Text = "text", None = "none";
}
