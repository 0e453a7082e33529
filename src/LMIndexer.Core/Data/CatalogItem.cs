namespace LMIndexer.Core.Data;

/// <summary>One product as the catalog knows it. Every field but the id may be missing.</summary>
public sealed record CatalogItem(
    string ItemId,
    string? Title,
    string? Description = null,
    string? Brand = null,
    decimal? Price = null,
    IReadOnlyList<IReadOnlyList<string>>? Categories = null)
{
    /// <summary>The first category path (the reference's AMI label), or empty.</summary>
    public IReadOnlyList<string> PrimaryCategoryPath => Categories is { Count: > 0 } c ? c[0] : [];

    /// <summary>The first <paramref name="levels"/> levels of the primary path joined by ", ".</summary>
    public string CategoryLabel(int levels = int.MaxValue) => string.Join(", ", PrimaryCategoryPath.Take(levels));
}

/// <summary>A user's interactions, oldest first.</summary>
public sealed record UserSequence(string UserId, IReadOnlyList<string> ItemIds);

/// <summary>Items and user sequences loaded together.</summary>
public sealed record Catalog(IReadOnlyList<CatalogItem> Items, IReadOnlyList<UserSequence> Users)
{
    public int InteractionCount => Users.Sum(u => u.ItemIds.Count);
}
