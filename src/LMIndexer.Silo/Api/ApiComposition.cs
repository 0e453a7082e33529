using LMIndexer.Silo.Hosting.Options;
using System.Text.Json;
using System.Text.Json.Serialization;
using LMIndexer.Silo.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orleans.Dashboard;
using Scalar.AspNetCore;

namespace LMIndexer.Silo.Api;

/// <summary>Services and routes of the HTTP surface (design §5).</summary>
public static class ApiComposition
{
    public static IServiceCollection AddLMIndexerApi(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var telemetry = configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
            // Numbers are JSON numbers, in and out (the web default also takes "9.5" and documents number | string).
            json.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
        });
        // Problems the framework writes itself (routing's 415 for a body that is not JSON, unknown
        // routes, wrong methods) carry no detail; say what to do instead.
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context => context.ProblemDetails.Detail ??= context.ProblemDetails.Status switch
        {
            StatusCodes.Status415UnsupportedMediaType => "Send JSON, with Content-Type: application/json.",
            StatusCodes.Status404NotFound => "There is no such resource; the API is described at /openapi/v1.json.",
            StatusCodes.Status405MethodNotAllowed => "This resource does not take that method; the API is described at /openapi/v1.json.",
            _ => null,
        });
        services.AddExceptionHandler<ProblemMapping>();
        services.AddOpenApi(options => options.DescribeLMIndexerApi());
        services.AddSingleton(TimeProvider.System);
        services.AddHealthChecks().AddCheck<ServingHealthCheck>("serving");
        // Metrics in Prometheus text format at /metrics (inference queue and batches, recommendations by
        // answer, backfill progress, storage retries, Orleans, HTTP); with Telemetry:OtlpEndpoint also
        // metrics and traces (HTTP → grain calls) to an OpenTelemetry collector.
        var otel = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("lmindexer-silo"))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(Grains.Inference.InferenceEngine.MeterName, Grains.Users.UserGrain.MeterName, Grains.Popularity.PopularityGrain.MeterName, Grains.Backfill.BackfillGrain.MeterName,
                        Grains.Storage.StateWriter.MeterName, Storage.LiteDb.SharedLiteDatabase.MeterName, "Microsoft.Orleans", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
                    .AddPrometheusExporter();
                if (telemetry.OtlpEndpoint is { Length: > 0 } endpoint)
                    metrics.AddOtlpExporter(o => o.Endpoint = new Uri(endpoint));
            });
        if (telemetry.OtlpEndpoint is { Length: > 0 } traces)
        {
            otel.WithTracing(tracing => tracing
                .AddSource("Microsoft.AspNetCore", "Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application")
                .AddOtlpExporter(o => o.Endpoint = new Uri(traces)));
        }
        return services;
    }

    public static WebApplication MapLMIndexer(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseCors();
        app.UseRateLimiter();
        // Public endpoints are rate-limited per client and callable from the configured shop origins;
        // catalog writes and the admin API also need an API key of their scope.
        var api = app.MapGroup("/api").WithTags("LMIndexer")
            .RequireRateLimiting(Security.SecurityComposition.PublicPolicy)
            .RequireCors(Security.SecurityComposition.CorsPolicy);
        api.MapEvents();
        api.MapItems();
        api.MapRecommendations();
        api.MapSearch();
        api.MapAdmin();
        app.MapOpenApi();
        app.MapScalarApiReference("/docs");
        app.MapOrleansDashboard("/dashboard");
        app.MapHealthChecks("/health");
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapGet("/widget", (HttpRequest request) => Results.Redirect("/widget/index.html" + request.QueryString)).ExcludeFromDescription();
        return app;
    }
}

/// <summary>Healthy once the configured catalog and bundle are served.</summary>
public sealed class ServingHealthCheck(ServingBootstrap bootstrap) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(bootstrap.Ready.Status switch
        {
            TaskStatus.RanToCompletion => HealthCheckResult.Healthy("serving"),
            TaskStatus.Faulted => HealthCheckResult.Unhealthy("the configured catalog or bundle could not be loaded", bootstrap.Ready.Exception),
            _ => HealthCheckResult.Degraded("loading the catalog and index"),
        });
}
