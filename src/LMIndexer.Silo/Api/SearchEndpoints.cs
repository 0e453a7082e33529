using LMIndexer.Abstractions;
using LMIndexer.Grains.Search;

namespace LMIndexer.Silo.Api;

/// <summary><c>GET /api/search?q=…</c>: products for a text query (<see cref="CatalogSearch"/>).</summary>
public static class SearchEndpoints
{
    public const int MaxQueryLength = 256;

    public static RouteGroupBuilder MapSearch(this RouteGroupBuilder api)
    {
        api.MapGet("/search", SearchAsync)
            .WithName("Search")
            .WithSummary("Products for a text query: BM25 and dense rankings of the catalog, fused with the search version's generated IDs when configured.")
            .Produces<RecommendationsDto>()
            .ProducesValidationProblem();
        return api;
    }

    private static async Task<RecommendationsDto> SearchAsync(string? q, string? count, IGrainFactory grains, CatalogSearch search, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(q))
            errors["q"] = ["is required"];
        else if (q.Length > MaxQueryLength)
            errors["q"] = [$"is longer than {MaxQueryLength} characters"];
        else if (q.Any(char.IsControl))
            errors["q"] = ["contains control characters"];
        var take = InputValidation.Count(errors, "count", count, 10, 100);
        InputValidation.ThrowIfAny(errors);
        var result = await search.SearchAsync(q!, take, cancellationToken);
        var records = await Task.WhenAll(result.Items.Select(f => grains.GetGrain<IItemGrain>(f.ItemId).GetAsync()));
        return new RecommendationsDto("", result.Version,
            [.. result.Items.Select((f, i) => RecommendedItemDto.From(f.ItemId, Math.Round(f.Score, 6), "search", records[i]))], result.Degraded);
    }
}
