using LMIndexer.Abstractions;
using LMIndexer.Grains.Inference;
using LMIndexer.Grains.Items;
using Microsoft.Extensions.Options;

namespace LMIndexer.Silo.Api;

/// <summary><c>GET /api/search?q=…</c>: generative product search with the active search version.</summary>
public static class SearchEndpoints
{
    public const int MaxQueryLength = 256;

    public static RouteGroupBuilder MapSearch(this RouteGroupBuilder api)
    {
        api.MapGet("/search", SearchAsync)
            .WithName("Search")
            .WithSummary("Products for a text query, generated as semantic IDs by the active search version's model.")
            .Produces<RecommendationsDto>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict);
        return api;
    }

    private static async Task<RecommendationsDto> SearchAsync(string? q, int? count, IGrainFactory grains, IOptions<InferenceOptions> inference)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(q))
            errors["q"] = ["is required"];
        else if (q.Length > MaxQueryLength)
            errors["q"] = [$"is longer than {MaxQueryLength} characters"];
        var take = count ?? 10;
        InputValidation.Count(errors, take, 100);
        InputValidation.ThrowIfAny(errors);
        var version = await grains.GetGrain<IIndexVersionGrain>(0).GetActiveSearchAsync()
            ?? throw new DomainConflictException("No search version is active: publish a search serving bundle ('lmindexer search train') and activate it.");
        var generated = await grains.GetGrain<IIndexerInferenceGrain>($"{version}/0").SearchAsync(q!, Math.Max(take, inference.Value.Beams));
        var resolved = await IdResolution.ResolveAsync(grains, generated);
        var hits = generated.Ids.Zip(resolved).Where(p => p.Second is not null).DistinctBy(p => p.Second).Take(take).ToList();
        var records = await Task.WhenAll(hits.Select(h => grains.GetGrain<IItemGrain>(h.Second!).GetAsync()));
        return new RecommendationsDto("", generated.Version,
            [.. hits.Select((h, i) => new RecommendedItemDto(h.Second!, Math.Round(h.First.Score, 4), "model", records[i]?.Title, records[i]?.Brand, records[i]?.Price))], Degraded: false);
    }
}
