using LMIndexer.Abstractions;
using LMIndexer.Grains.Inference;
using LMIndexer.Grains.Versions;
using LMIndexer.Silo.Security;

namespace LMIndexer.Silo.Api;

/// <summary>Catalog upserts, item details and the ID-prefix browser.</summary>
public static class ItemsEndpoints
{
    public static RouteGroupBuilder MapItems(this RouteGroupBuilder api)
    {
        api.MapPut("/items", UpsertAsync)
            .RequireApiKey(Security.ApiScopes.Catalog)
            .WithName("UpsertItems")
            .WithSummary("Create or update catalog items (one object or an array of up to 1000); needs an X-Api-Key with the catalog scope.")
            .Accepts<ItemDto[]>("application/json")
            .Produces<ItemsAccepted>()
            .ProducesValidationProblem();
        api.MapGet("/items/{itemId}", GetAsync)
            .WithName("GetItem")
            .WithSummary("An item with its semantic ID in every index version, and its dense vector in the active version's model.")
            .Produces<ItemDetailsDto>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        // Two routes, not one with an optional c2: OpenAPI path parameters are always required.
        api.MapGet("/ids/{c1:long}", (long c1, string? version, string? limit, IGrainFactory grains) => PrefixAsync(c1, null, version, limit, grains))
            .WithName("ListIdFirstCode")
            .WithSummary("Items whose semantic ID starts with c1, in the active version or ?version=.")
            .Produces<PrefixItemDto[]>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/ids/{c1:long}/{c2:long}", PrefixAsync)
            .WithName("ListIdPrefix")
            .WithSummary("Items whose semantic ID starts with c1 and c2, in the active version or ?version=.")
            .Produces<PrefixItemDto[]>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    private static async Task<IResult> UpsertAsync(HttpRequest request, IGrainFactory grains, LMIndexer.Grains.Items.CatalogIdAssignment ids, CancellationToken cancellationToken)
    {
        var items = await EventsEndpoints.ReadOneOrManyAsync<ItemDto>(request, cancellationToken);
        var errors = new Dictionary<string, string[]>();
        var records = items.Select((item, i) => InputValidation.Item(item, items.Count == 1 ? "" : $"[{i}].", errors)).ToList();
        InputValidation.ThrowIfAny(errors);
        await Task.WhenAll(records.Select(r => grains.GetGrain<IItemGrain>(r.ItemId).UpsertAsync(r)));
        // New items get IDs in every version now, so they can be recommended before the next retraining.
        var given = await ids.AssignAsync(records);
        return Results.Ok(new ItemsAccepted(records.Count, given.ToDictionary(v => v.Key, v => v.Value.Count)));
    }

    /// <summary>How long the item view waits for the model's vector; a model still loading answers <c>unavailable</c> rather than holding the view.</summary>
    private static readonly TimeSpan VectorWait = TimeSpan.FromSeconds(2);

    private static async Task<ItemDetailsDto> GetAsync(string itemId, IGrainFactory grains, ServedVersions versions, InferenceRoute inference, ILoggerFactory logs, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        InputValidation.Id(errors, "itemId", itemId);
        InputValidation.ThrowIfAny(errors);
        var details = await grains.GetGrain<IItemGrain>(itemId).GetDetailsAsync()
            ?? throw new KeyNotFoundException($"Item '{itemId}' is not in the catalog.");
        var r = details.Record;
        return new ItemDetailsDto(new ItemDto(r.ItemId, r.Title, r.Description, r.Brand, r.Price, r.Categories, r.ImageUrl),
            details.SemanticIds.ToDictionary(s => s.Version, s => s.Codes, StringComparer.Ordinal),
            await DenseVectorAsync(itemId, versions, inference, logs, cancellationToken));
    }

    private static async Task<DenseVectorDto?> DenseVectorAsync(string itemId, ServedVersions versions, InferenceRoute inference, ILoggerFactory logs, CancellationToken cancellationToken)
    {
        if (await versions.ActiveAsync() is not { } active)
            return null;
        try
        {
            var vector = await inference.ItemVectorAsync(active.Version, itemId, DateTime.UtcNow + VectorWait, cancellationToken);
            return new DenseVectorDto(vector.Version, vector.Source, vector.Values);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logs.CreateLogger(typeof(ItemsEndpoints)).LogWarning("The dense vector of item {ItemId} in version {Version} is unavailable: {Message}", itemId, active.Version, e.Message);
            return new DenseVectorDto(active.Version, DenseVectorDto.Unavailable, []);
        }
    }

    private static async Task<PrefixItemDto[]> PrefixAsync(long c1, long? c2, string? version, string? limit, IGrainFactory grains)
    {
        var errors = new Dictionary<string, string[]>();
        if (c1 < 0)
            errors["c1"] = ["cannot be negative"];
        if (c2 < 0)
            errors["c2"] = ["cannot be negative"];
        var take = InputValidation.Count(errors, "limit", limit, 100, 1000);
        if (version is not null)
            InputValidation.Id(errors, "version", version);
        InputValidation.ThrowIfAny(errors);
        var versions = grains.GetGrain<IIndexVersionGrain>(0);
        // An unknown version is a 404 here as in the admin API, not an empty list.
        if (version is not null && (await versions.GetAsync()).Versions.All(v => v.Version != version))
            throw new KeyNotFoundException($"Index version '{version}' is not registered.");
        var resolvedVersion = version ?? await versions.GetActiveAsync()
            ?? throw new KeyNotFoundException("No index version is active yet.");
        long[] prefix = c2 is null ? [c1] : [c1, c2.Value];
        var entries = await grains.GetGrain<IIdPrefixGrain>($"{resolvedVersion}/{c1}").ListAsync(prefix, take);
        return [.. entries.Select(e => new PrefixItemDto(e.ItemId, e.Codes))];
    }
}
