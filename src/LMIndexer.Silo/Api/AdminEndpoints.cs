using LMIndexer.Abstractions;
using LMIndexer.Silo.Security;
using LMIndexer.Core.Indexing;
using LMIndexer.Grains.Versions;
using LMIndexer.Silo.Hosting;

namespace LMIndexer.Silo.Api;

/// <summary>Admin API (header <c>X-Api-Key</c>): index versions.</summary>
public static class AdminEndpoints
{
    public static RouteGroupBuilder MapAdmin(this RouteGroupBuilder api)
    {
        var admin = api.MapGroup("/admin").RequireApiKey(Security.ApiScopes.Admin).DisableRateLimiting();
        admin.MapGet("/versions", async (IGrainFactory grains) => await grains.GetGrain<IIndexVersionGrain>(0).GetAsync())
            .WithName("ListVersions").WithSummary("Registered index versions and the active one.");
        admin.MapPost("/versions", RegisterAsync)
            .WithName("RegisterVersion").WithSummary("Publish a serving bundle (on the server's disk) as an index version: item IDs, prefix trie, registry.")
            .ProducesValidationProblem();
        admin.MapPost("/versions/{version}/activate", async (string version, IGrainFactory grains) => await grains.GetGrain<IIndexVersionGrain>(0).ActivateAsync(version))
            .WithName("ActivateVersion")
            .WithSummary("Serve this version from the next request on, once its backfill is complete (409 before) and its inference grains have warmed up; retires versions beyond the retention limit.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapGet("/versions/{version}/drift", DriftAsync)
            .WithName("VersionDrift").WithSummary("How IDs moved from another version (default: the active one) to this one: items that kept c1 / the full ID, the largest moved groups.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapPost("/backfills", StartBackfillAsync)
            .WithName("StartBackfill").WithSummary("Register a retrained serving bundle (on the server's disk) as a version and write its IDs into the live cluster in the background.")
            .Produces<BackfillProgress>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapGet("/backfills/{jobId}", async (string jobId, IGrainFactory grains) =>
                await grains.GetGrain<IBackfillGrain>(jobId).GetProgressAsync() ?? throw new KeyNotFoundException($"There is no backfill job '{jobId}'."))
            .WithName("BackfillProgress").WithSummary("Progress of a backfill job: items done, rate, time left, errors.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapPost("/backfills/{jobId}/cancel", async (string jobId, IGrainFactory grains) =>
                await grains.GetGrain<IBackfillGrain>(jobId).CancelAsync() ?? throw new KeyNotFoundException($"There is no backfill job '{jobId}'."))
            .WithName("CancelBackfill").WithSummary("Stop a backfill job after its current batch; starting it again resumes from its cursor.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapPost("/rollback", async (IGrainFactory grains) => new RollbackDto(await grains.GetGrain<IIndexVersionGrain>(0).RollbackAsync()))
            .WithName("Rollback").WithSummary("Serve the previously active version again.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        return api;
    }

    private static async Task<IndexVersionInfo> RegisterAsync(RegisterVersionDto body, IGrainFactory grains, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(body.BundlePath))
            errors["bundlePath"] = ["is required"];
        else if (!Directory.Exists(body.BundlePath))
            errors["bundlePath"] = ["does not exist on the server"];
        InputValidation.ThrowIfAny(errors);
        try
        {
            return await IndexPublisher.PublishAsync(grains, body.BundlePath!, cancellationToken: cancellationToken);
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException)
        {
            throw new ValidationException(new Dictionary<string, string[]> { ["bundlePath"] = [e.Message] });
        }
    }

    private static async Task<IResult> StartBackfillAsync(StartBackfillDto body, IGrainFactory grains)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(body.BundlePath))
            errors["bundlePath"] = ["is required"];
        else if (!Directory.Exists(body.BundlePath))
            errors["bundlePath"] = ["does not exist on the server"];
        if (body.JobId is { } id && (id.Length is 0 or > 128 || id.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))))
            errors["jobId"] = ["must be 1-128 letters, digits, '-', '_' or '.'"];
        InputValidation.ThrowIfAny(errors);
        string version;
        try
        {
            version = IndexPublisher.ReadServingIds(body.BundlePath!).Manifest.Version;
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException)
        {
            throw new ValidationException(new Dictionary<string, string[]> { ["bundlePath"] = [e.Message] });
        }
        var jobId = body.JobId ?? $"backfill-{version}";
        var progress = await grains.GetGrain<IBackfillGrain>(jobId).StartAsync(body.BundlePath!);
        return Results.Accepted($"/api/admin/backfills/{jobId}", progress);
    }

    private static async Task<IdDriftReport> DriftAsync(string version, string? from, IGrainFactory grains)
    {
        var registry = await grains.GetGrain<IIndexVersionGrain>(0).GetAsync();
        var baseline = from ?? registry.Active ?? throw new DomainConflictException("No version is active; name one with ?from=.");
        IndexVersionInfo Find(string name) => registry.Versions.FirstOrDefault(v => v.Version == name)
            ?? throw new KeyNotFoundException($"Index version '{name}' is not registered.");
        var (older, newer) = (Find(baseline), Find(version));
        return IdDriftReport.Compare(
            SemanticIdTable.Load(Path.Combine(older.BundlePath, SemanticIdTable.FileName)),
            SemanticIdTable.Load(Path.Combine(newer.BundlePath, SemanticIdTable.FileName)));
    }
}
