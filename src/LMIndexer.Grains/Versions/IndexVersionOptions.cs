using Microsoft.Extensions.Options;

namespace LMIndexer.Grains.Versions;

/// <summary>Version retention (section <c>Versions</c>).</summary>
public sealed class IndexVersionOptions
{
    public const string Section = "Versions";

    /// <summary>
    /// Registered versions kept at most; older ones are retired (their IDs, trie and loaded models
    /// cleaned up) on activation. The active, previous and active search versions are always kept.
    /// </summary>
    public int Retain { get; set; } = 3;
}

/// <summary>Rejects retention settings that would drop the rollback target.</summary>
public sealed class IndexVersionOptionsValidator : IValidateOptions<IndexVersionOptions>
{
    public ValidateOptionsResult Validate(string? name, IndexVersionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Retain < 2
            ? ValidateOptionsResult.Fail($"Versions:Retain must be at least 2 so that rollback has a version to go back to (got {options.Retain}).")
            : ValidateOptionsResult.Success;
    }
}
