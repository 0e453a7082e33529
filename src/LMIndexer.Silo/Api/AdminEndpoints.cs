using System.Security.Cryptography;
using System.Text;
using LMIndexer.Abstractions;
using LMIndexer.Grains.Versions;
using LMIndexer.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace LMIndexer.Silo.Api;

/// <summary>Admin API (header <c>X-Api-Key</c>): index versions.</summary>
public static class AdminEndpoints
{
    public static RouteGroupBuilder MapAdmin(this RouteGroupBuilder api)
    {
        var admin = api.MapGroup("/admin").AddEndpointFilter(RequireApiKey);
        admin.MapGet("/versions", async (IGrainFactory grains) => await grains.GetGrain<IIndexVersionGrain>(0).GetAsync())
            .WithName("ListVersions").WithSummary("Registered index versions and the active one.");
        admin.MapPost("/versions", RegisterAsync)
            .WithName("RegisterVersion").WithSummary("Publish a serving bundle (on the server's disk) as an index version: item IDs, prefix trie, registry.")
            .ProducesValidationProblem();
        admin.MapPost("/versions/{version}/activate", async (string version, IGrainFactory grains) =>
            {
                await grains.GetGrain<IIndexVersionGrain>(0).ActivateAsync(version);
                return Results.NoContent();
            })
            .WithName("ActivateVersion").WithSummary("Serve this version from the next request on.");
        admin.MapPost("/rollback", async (IGrainFactory grains) => Results.Ok(new { active = await grains.GetGrain<IIndexVersionGrain>(0).RollbackAsync() }))
            .WithName("Rollback").WithSummary("Serve the previously active version again.");
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

    private static async ValueTask<object?> RequireApiKey(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var expected = context.HttpContext.RequestServices.GetRequiredService<IOptions<AdminSettings>>().Value.ApiKey;
        if (string.IsNullOrEmpty(expected))
            return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Admin API disabled", detail: "Set Admin:ApiKey to enable it.");
        var given = context.HttpContext.Request.Headers["X-Api-Key"].ToString();
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected)))
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: "A valid X-Api-Key header is required.");
        return await next(context);
    }
}
