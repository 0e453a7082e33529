using System.Globalization;
using System.Threading.RateLimiting;
using LMIndexer.Grains;
using Microsoft.AspNetCore.RateLimiting;

namespace LMIndexer.Silo.Security;

/// <summary>API keys, the public rate limit, request size limits and CORS from the <c>Security</c> section.</summary>
public static class SecurityComposition
{
    public const string PublicPolicy = "public";
    public const string CorsPolicy = "widget";

    public static WebApplicationBuilder AddLMIndexerSecurity(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var settings = builder.Services.AddAndReadValidatedOptions<SecurityOptions, SecurityOptionsValidator>(builder.Configuration, SecurityOptions.Section);
        builder.Services.AddSingleton<ApiKeys>();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = settings.MaxRequestBodyBytes);
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.AddPolicy(PublicPolicy, context => settings.PermitsPerSecond == 0
                ? RateLimitPartition.GetNoLimiter("all")
                : RateLimitPartition.GetTokenBucketLimiter(context.Connection.RemoteIpAddress?.ToString() ?? "unknown", _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = Math.Max(1, settings.Burst),
                    TokensPerPeriod = settings.PermitsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }));
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
                context.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                await Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests", type: Api.ProblemMapping.TypeOf(StatusCodes.Status429TooManyRequests),
                    detail: $"This client is over {settings.PermitsPerSecond} requests per second; retry after {retryAfter} s.").ExecuteAsync(context.HttpContext);
            };
        });
        builder.Services.AddCors(cors => cors.AddPolicy(CorsPolicy, policy =>
        {
            if (settings.CorsOrigins.Count > 0)
                policy.WithOrigins([.. settings.CorsOrigins]).WithMethods("GET", "POST").WithHeaders("Content-Type");
        }));
        return builder;
    }
}
