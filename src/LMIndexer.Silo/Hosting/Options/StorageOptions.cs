using Microsoft.Extensions.Options;

namespace LMIndexer.Silo.Hosting.Options;

/// <summary>Where grain state and reminders live.</summary>
public enum StorageProvider
{
    /// <summary>The embedded default: a file that survives restarts.</summary>
    LiteDb,
    MongoDB,
    Memory,
}

/// <summary>Where grain state and reminders live (section <c>Storage</c>; both always in the same store).</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    public StorageProvider Provider { get; set; } = StorageProvider.LiteDb;
}

/// <summary>Rejects a storage provider that does not exist, at start-up.</summary>
public sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Enum.IsDefined(options.Provider)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Storage:Provider must be LiteDb, MongoDB or Memory (got {options.Provider}).");
    }
}
