using LMIndexer.Silo.Hosting.Options;
using System.Security.Cryptography;
using System.Text;
using LMIndexer.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace LMIndexer.Silo.Security;

/// <summary>How a request's key fared.</summary>
public enum ApiKeyCheck
{
    Allowed,

    /// <summary>No key configured for the scope: the feature is off.</summary>
    Disabled,

    /// <summary>No key, or a key that matches none (401).</summary>
    Unauthenticated,

    /// <summary>A valid key without the scope (403).</summary>
    Forbidden,
}

/// <summary>
/// Checks <c>X-Api-Key</c> headers against the configured keys. Keys are held only as SHA-256
/// hashes and compared in constant time, so neither the configuration nor a timing side channel
/// gives a key away; keys never reach a log.
/// </summary>
public sealed class ApiKeys
{
    public const string Header = "X-Api-Key";

    private readonly List<(string Name, byte[] Hash, HashSet<string> Scopes)> keys = [];

    public ApiKeys(IOptions<SecurityOptions> security, IOptions<AdminOptions> admin)
    {
        ArgumentNullException.ThrowIfNull(security);
        ArgumentNullException.ThrowIfNull(admin);
        foreach (var key in security.Value.ApiKeys)
        {
            if (key.Sha256.Length != 64 || !key.Sha256.All(char.IsAsciiHexDigit))
                throw new InvalidOperationException($"Security:ApiKeys '{key.Name}': Sha256 must be 64 hex digits (lmindexer apikey new prints one).");
            var unknown = key.Scopes.Except([ApiScopes.Admin, ApiScopes.Catalog], StringComparer.Ordinal).ToList();
            if (unknown.Count > 0)
                throw new InvalidOperationException($"Security:ApiKeys '{key.Name}': unknown scope(s) {string.Join(", ", unknown)}; use admin and/or catalog.");
            keys.Add((key.Name, Convert.FromHexString(key.Sha256), new HashSet<string>(key.Scopes, StringComparer.Ordinal)));
        }
        // Admin:ApiKey, a plain key for development: hashed here, held as its hash like the others.
        if (!string.IsNullOrEmpty(admin.Value.ApiKey))
            keys.Add(("Admin:ApiKey", Hash(admin.Value.ApiKey), [ApiScopes.Admin, ApiScopes.Catalog]));
    }

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>A new random key (256 bits, URL-safe) and the hex SHA-256 to configure.</summary>
    public static (string Key, string Sha256) NewKey()
    {
        var key = "lmi_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return (key, Convert.ToHexStringLower(Hash(key)));
    }

    public ApiKeyCheck Check(string? given, string scope)
    {
        if (!keys.Any(k => k.Scopes.Contains(scope)))
            return ApiKeyCheck.Disabled;
        if (string.IsNullOrEmpty(given))
            return ApiKeyCheck.Unauthenticated;
        var hash = Hash(given);
        var match = false;
        var allowed = false;
        // Every key is compared, so the time taken does not say which one matched.
        foreach (var key in keys)
        {
            var equal = CryptographicOperations.FixedTimeEquals(hash, key.Hash);
            match |= equal;
            allowed |= equal && key.Scopes.Contains(scope);
        }
        return allowed ? ApiKeyCheck.Allowed : match ? ApiKeyCheck.Forbidden : ApiKeyCheck.Unauthenticated;
    }

    /// <summary>An endpoint filter that lets a request through only with a key of <paramref name="scope"/>.</summary>
    public static Func<EndpointFilterInvocationContext, EndpointFilterDelegate, ValueTask<object?>> Require(string scope) => async (context, next) =>
    {
        var check = context.HttpContext.RequestServices.GetRequiredService<ApiKeys>().Check(context.HttpContext.Request.Headers[Header].ToString(), scope);
        if (check == ApiKeyCheck.Unauthenticated)
            context.HttpContext.Response.Headers.WWWAuthenticate = $"ApiKey header=\"{Header}\"";   // RFC 9110: a 401 names its scheme
        return check switch
        {
            ApiKeyCheck.Allowed => await next(context),
            ApiKeyCheck.Disabled => Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Disabled",
                detail: $"No API key with the '{scope}' scope is configured (Security:ApiKeys), so this endpoint is off."),
            ApiKeyCheck.Forbidden => Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: $"This key does not have the '{scope}' scope."),
            _ => Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: $"A valid {Header} header is required."),
        };
    };
}

/// <summary>Endpoint metadata: the API key scope a request needs.</summary>
public sealed record ApiKeyScope(string Scope);

/// <summary><c>RequireApiKey</c> on endpoints and groups.</summary>
public static class ApiKeyEndpoints
{
    /// <summary>Lets requests through only with a key of <paramref name="scope"/>, and says so in the endpoint's metadata (for the OpenAPI document).</summary>
    public static TBuilder RequireApiKey<TBuilder>(this TBuilder builder, string scope) where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddEndpointFilter(ApiKeys.Require(scope));
        builder.WithMetadata(new ApiKeyScope(scope));
        return builder;
    }
}
