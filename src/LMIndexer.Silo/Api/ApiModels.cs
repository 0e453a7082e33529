using System.ComponentModel;
using LMIndexer.Abstractions;

namespace LMIndexer.Silo.Api;

/// <summary>An event as clients send it. Without <c>eventId</c> the server assigns one (no de-duplication then).</summary>
public sealed record EventDto(string? UserId, string? ItemId, string? Type, string? EventId, DateTimeOffset? Time);

/// <summary>How an event batch was taken.</summary>
public sealed record EventsAccepted(int Recorded, int Duplicates);

/// <summary>A catalog record as clients send it.</summary>
public sealed record ItemDto(
    string? ItemId,
    string? Title,
    string? Description,
    string? Brand,
    decimal? Price,
    [property: Description("Category paths, most specific last, e.g. [[\"Beauty\", \"Skin Care\", \"Serums\"]].")] IReadOnlyList<IReadOnlyList<string>>? Categories,
    [property: Description("An absolute http(s) URL of the item's picture, shown by the widget.")] string? ImageUrl = null);

/// <summary>How many items were upserted, and how many got a new semantic ID, per index version.</summary>
public sealed record ItemsAccepted(int Upserted, IReadOnlyDictionary<string, int> IdsAssigned);

/// <summary>A recommended item as the API returns it.</summary>
public sealed record RecommendedItemDto(
    string ItemId,
    double Score,
    string Source,
    string? Title,
    string? Brand,
    decimal? Price,
    string? ImageUrl = null,
    [property: Description("The item's most specific category.")] string? Category = null,
    [property: Description("Why it is shown, in words for the shopper, e.g. \"Like Rose night balm, which you viewed\".")] string? Reason = null)
{
    public static RecommendedItemDto From(string itemId, double score, string source, ItemRecord? item, string? reason = null) =>
        new(itemId, score, source, item?.Title, item?.Brand, item?.Price, item?.ImageUrl, MostSpecific(item?.Categories), reason);

    private static string? MostSpecific(IReadOnlyList<IReadOnlyList<string>>? paths) => paths is [{ Count: > 0 } first, ..] ? first[^1] : null;
}

/// <summary>Recommendations and the index version that produced them (null: popularity only).</summary>
public sealed record RecommendationsDto(string UserId, string? Version, IReadOnlyList<RecommendedItemDto> Items, bool Degraded)
{
    public static RecommendationsDto From(RecommendationResult result) => new(result.UserId, result.Version,
        [.. result.Items.Select(i => RecommendedItemDto.From(i.ItemId, Math.Round(i.Score, 4), i.Source == RecommendationSource.Model ? "model" : "popular", i.Item, i.Reason))],
        result.Degraded);
}

/// <summary>An item with its semantic IDs, and the dense vector the active version's model scores it by (null: no version is active).</summary>
public sealed record ItemDetailsDto(ItemDto Item, IReadOnlyDictionary<string, long[]> SemanticIds, DenseVectorDto? DenseVector = null);

/// <summary>
/// An item's dense vector in a version's model. <c>source</c>: <c>trained</c> (learned by the
/// recommender), <c>text</c> (added after training, projected from its text), <c>none</c> (the model
/// has no dense item head, or no vector for the item), or <c>unavailable</c> (the model did not
/// answer in time, e.g. while it loads); <c>values</c> is empty unless trained or text.
/// </summary>
public sealed record DenseVectorDto(string Version, string Source, float[] Values)
{
    public const string Unavailable = "unavailable";
}

/// <summary>An item under an ID prefix.</summary>
public sealed record PrefixItemDto(string ItemId, long[] SemanticId);

/// <summary>A version registration request: a serving bundle on the server's disk.</summary>
public sealed record RegisterVersionDto(string? BundlePath);

/// <summary>A backfill request: a serving bundle on the server's disk, and optionally the job id (default <c>backfill-{version}</c>).</summary>
public sealed record StartBackfillDto(string? BundlePath, string? JobId);

/// <summary>The version served after a rollback.</summary>
public sealed record RollbackDto(string Active);
