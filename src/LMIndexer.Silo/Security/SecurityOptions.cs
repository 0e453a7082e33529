using Microsoft.Extensions.Options;

namespace LMIndexer.Silo.Security;

/// <summary>API keys, rate limits, request limits, CORS (section <c>Security</c>).</summary>
public sealed class SecurityOptions
{
    public const string Section = "Security";

    /// <summary>Keys by their SHA-256 (never the key itself): <c>lmindexer apikey new</c> prints a key and its hash.</summary>
    public List<ApiKeyOptions> ApiKeys { get; set; } = [];

    /// <summary>Requests per second per client address on the public endpoints (events, recommendations, search, reads); 0 turns limiting off.</summary>
    public int PermitsPerSecond { get; set; } = 200;

    /// <summary>Requests a client may send at once above the rate.</summary>
    public int Burst { get; set; } = 400;

    /// <summary>Largest request body accepted; larger ones get 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Origins allowed to call the API from browsers (the widget on shop pages); empty: same origin only.</summary>
    public List<string> CorsOrigins { get; set; } = [];
}

/// <summary>One API key: a name for logs, the hex SHA-256 of the key, what it may do.</summary>
public sealed class ApiKeyOptions
{
    public string Name { get; set; } = "";

    public string Sha256 { get; set; } = "";

    /// <summary><c>admin</c> (index versions, backfills) and/or <c>catalog</c> (item writes).</summary>
    public List<string> Scopes { get; set; } = [];
}

/// <summary>What an API key may do.</summary>
public static class ApiScopes
{
    public const string Admin = "admin";
    public const string Catalog = "catalog";
}

/// <summary>Rejects limits that cannot work, at start-up.</summary>
public sealed class SecurityOptionsValidator : IValidateOptions<SecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, SecurityOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.PermitsPerSecond < 0)
            errors.Add($"Security:PermitsPerSecond cannot be negative (got {options.PermitsPerSecond}; 0 turns limiting off).");
        if (options.Burst < 0)
            errors.Add($"Security:Burst cannot be negative (got {options.Burst}).");
        if (options.MaxRequestBodyBytes < 1024)
            errors.Add($"Security:MaxRequestBodyBytes must be at least 1024 (got {options.MaxRequestBodyBytes}).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
