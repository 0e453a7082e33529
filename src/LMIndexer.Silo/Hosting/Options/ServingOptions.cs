using Microsoft.Extensions.Options;

namespace LMIndexer.Silo.Hosting.Options;

/// <summary>What to serve at start-up (section <c>Serving</c>); all empty: start with an empty cluster.</summary>
public sealed class ServingOptions
{
    public const string Section = "Serving";

    /// <summary>A serving bundle to publish and activate at start-up.</summary>
    public string BundlePath { get; set; } = "";

    /// <summary>A search serving bundle ('lmindexer search train') to publish and activate for <c>/api/search</c>.</summary>
    public string SearchBundlePath { get; set; } = "";

    /// <summary>A catalog directory (items.jsonl) to load into the item grains at start-up.</summary>
    public string CatalogPath { get; set; } = "";
}

/// <summary>Rejects start-up paths that do not exist, before the silo starts rather than after.</summary>
public sealed class ServingOptionsValidator : IValidateOptions<ServingOptions>
{
    public ValidateOptionsResult Validate(string? name, ServingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        foreach (var (key, path) in new[] { ("BundlePath", options.BundlePath), ("SearchBundlePath", options.SearchBundlePath), ("CatalogPath", options.CatalogPath) })
        {
            if (path.Length > 0 && !Directory.Exists(path))
                errors.Add($"Serving:{key} '{path}' is not a directory.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
