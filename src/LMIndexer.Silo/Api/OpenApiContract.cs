using LMIndexer.Silo.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.RateLimiting;
using System.Text.Json.Nodes;
using Microsoft.OpenApi;

namespace LMIndexer.Silo.Api;

/// <summary>
/// The OpenAPI document describes the public API and nothing else: /api routes only (not the
/// dashboard's), the X-Api-Key scheme on the operations that need it, and every status an
/// operation can answer with, so that generated clients and linters see what the server does.
/// </summary>
public static class OpenApiContract
{
    public const string ApiKeyScheme = "ApiKey";
    private const string ProblemJson = "application/problem+json";

    private static readonly JsonNode[] EventTypes = [.. Enum.GetNames<LMIndexer.Abstractions.EventType>().Select(n => (JsonNode)n.ToLowerInvariant())];

    /// <summary>Only these fields are required, and they are not null; the others stay optional.</summary>
    private static void Require(OpenApiSchema schema, params string[] fields)
    {
        schema.Required = new HashSet<string>(fields, StringComparer.Ordinal);
        foreach (var field in fields)
        {
            if (schema.Properties?.TryGetValue(field, out var property) == true && property is OpenApiSchema concrete && concrete.Type is { } t)
                concrete.Type = t & ~JsonSchemaType.Null;
        }
    }

    public static OpenApiOptions DescribeLMIndexerApi(this OpenApiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ShouldInclude = description => description.RelativePath?.StartsWith("api/", StringComparison.Ordinal) == true;
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "LMIndexer.Orleans API",
                Version = "v1",
                Description = "User events in, recommendations and product search out; catalog items with their semantic IDs; index versions and backfills for operators.",
                License = new OpenApiLicense { Name = "MIT", Url = new Uri("https://opensource.org/license/mit") },
            };
            foreach (var server in document.Servers ?? [])
                server.Url = server.Url?.TrimEnd('/');
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[ApiKeyScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeys.Header,
                Description = "A key of the operation's scope (catalog or admin), from Security:ApiKeys.",
            };
            document.Tags = new HashSet<OpenApiTag> { new() { Name = "LMIndexer", Description = "Events, recommendations, search, catalog and operations." } };
            return Task.CompletedTask;
        });
        options.AddSchemaTransformer((schema, context, _) =>
        {
            var type = context.JsonTypeInfo.Type;
            if (type == typeof(EventDto))
            {
                Require(schema, "userId", "itemId");
                schema.Properties!["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [.. EventTypes], Description = "What the user did; view when left out." };   // no schema default: generated clients would make the field required
                schema.Examples = [new JsonObject { ["userId"] = "u42", ["itemId"] = "B000052YCO", ["type"] = "view" }];
            }
            else if (type == typeof(ItemDto))
            {
                Require(schema, "itemId");
                schema.Examples = [new JsonObject { ["itemId"] = "B000052YCO", ["title"] = "Rose night balm", ["brand"] = "Acme", ["price"] = 12.5, ["categories"] = new JsonArray(new JsonArray("Beauty", "Skin Care")) }];
            }
            else if (type == typeof(RegisterVersionDto) || type == typeof(StartBackfillDto))
            {
                Require(schema, "bundlePath");
            }
            else if (type == typeof(RecommendedItemDto))
            {
                schema.Properties!["source"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [.. new[] { "model", "popular", "search" }.Select(s => (JsonNode)s)] };
            }
            else if (type == typeof(LMIndexer.Abstractions.EventType))
            {
                schema.Type = JsonSchemaType.String;
            }
            return Task.CompletedTask;
        });
        options.AddOperationTransformer(async (operation, context, cancellationToken) =>
        {
            // count and limit are read as text to name them in errors, but they are whole numbers.
            foreach (var parameter in (operation.Parameters ?? []).OfType<OpenApiParameter>())
            {
                if (parameter.In == ParameterLocation.Query && parameter.Name is "count" or "limit")
                    parameter.Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Minimum = "1", Maximum = parameter.Name == "limit" ? "1000" : "100" };
            }
            // Events and items take one object or an array of up to 1000.
            if (context.Description.RelativePath is "api/events" or "api/items" && operation.RequestBody?.Content?.TryGetValue("application/json", out var body) == true
                && body.Schema is { Items: { } one })
            {
                body.Schema = new OpenApiSchema { OneOf = [one, new OpenApiSchema { Type = JsonSchemaType.Array, Items = one, MinItems = 1, MaxItems = InputValidation.MaxBatch }] };
            }
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            operation.Responses ??= new OpenApiResponses();
            var problem = await context.GetOrCreateSchemaAsync(typeof(ProblemDetails), cancellationToken: cancellationToken);
            void Declare(int status, string description)
            {
                var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (!operation.Responses.ContainsKey(key))
                    operation.Responses[key] = new OpenApiResponse { Description = description, Content = new Dictionary<string, OpenApiMediaType> { [ProblemJson] = new() { Schema = problem } } };
            }
            if (metadata.OfType<ApiKeyScope>().FirstOrDefault() is { } scope)
            {
                operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, context.Document)] = [] }];
                Declare(StatusCodes.Status401Unauthorized, $"No {ApiKeys.Header} header, or a key that matches none.");
                Declare(StatusCodes.Status403Forbidden, $"The key lacks the '{scope.Scope}' scope, or no key of that scope is configured.");
            }
            else
            {
                operation.Security = [];   // public: explicitly no scheme
            }
            if (!metadata.OfType<DisableRateLimitingAttribute>().Any())
                Declare(StatusCodes.Status429TooManyRequests, "Over this client's request rate; retry after the Retry-After header's seconds.");
            if (operation.RequestBody is not null || context.Description.HttpMethod is "POST" or "PUT")
            {
                Declare(StatusCodes.Status413PayloadTooLarge, "The body is over Security:MaxRequestBodyBytes.");
                Declare(StatusCodes.Status415UnsupportedMediaType, "The body is not sent as application/json.");
            }
            Declare(StatusCodes.Status400BadRequest, "Invalid input; errors lists each bad field.");
            Declare(StatusCodes.Status503ServiceUnavailable, "The cluster cannot answer now (starting, overloaded or a silo lost); retry.");
        });
        return options;
    }
}
