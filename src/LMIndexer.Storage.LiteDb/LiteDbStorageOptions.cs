using Microsoft.Extensions.Options;

namespace LMIndexer.Storage.LiteDb;

/// <summary>Where a LiteDB provider keeps its data (section <c>LiteDb</c>).</summary>
public sealed class LiteDbStorageOptions
{
    public const string Section = "LiteDb";

    /// <summary>A LiteDB connection string; the directory of its file is created when missing.</summary>
    public string ConnectionString { get; set; } = "Filename=data/lmindexer.db";

    /// <summary>Prepended to every grain type's collection name.</summary>
    public string CollectionPrefix { get; set; } = "";
}

/// <summary>Rejects LiteDB settings that cannot work, at start-up.</summary>
public sealed class LiteDbStorageOptionsValidator : IValidateOptions<LiteDbStorageOptions>
{
    public ValidateOptionsResult Validate(string? name, LiteDbStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
            return ValidateOptionsResult.Fail("LiteDb:ConnectionString is required.");
        try
        {
            _ = new LiteDB.ConnectionString(options.ConnectionString);
        }
        catch (Exception e) when (e is ArgumentException or LiteDB.LiteException)
        {
            return ValidateOptionsResult.Fail($"LiteDb:ConnectionString is not valid: {e.Message}");
        }
        if (options.CollectionPrefix.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '_')))
            return ValidateOptionsResult.Fail($"LiteDb:CollectionPrefix may hold only letters, digits and '_' (got '{options.CollectionPrefix}').");
        return ValidateOptionsResult.Success;
    }
}
