using Microsoft.Extensions.Options;
using MongoDB.Driver;

namespace LMIndexer.Storage.MongoDB;

/// <summary>Where a MongoDB provider keeps its data (section <c>MongoDB</c>).</summary>
public sealed class MongoDBStorageOptions
{
    public const string Section = "MongoDB";

    /// <summary>A MongoDB connection string (<c>mongodb://host:port/</c>; credentials belong in the environment, not in files).</summary>
    public string ConnectionString { get; set; } = "mongodb://127.0.0.1:27017";

    public string Database { get; set; } = "lmindexer";

    /// <summary>Prepended to every collection name (grain types, <c>Membership</c>, <c>Reminders</c>).</summary>
    public string CollectionPrefix { get; set; } = "";

    /// <summary>
    /// How many provider operations of this process use the server at once; more wait in the
    /// process, in order. 0 (the default) means the connection pool's size (the connection string's
    /// <c>maxPoolSize</c>, 100 unless set); a larger value is capped there.
    /// </summary>
    public int MaxConcurrentOperations { get; set; }

    internal MongoConnection Connect() => MongoConnection.For(this);
}

/// <summary>Rejects MongoDB settings that cannot work, at start-up.</summary>
public sealed class MongoDBStorageOptionsValidator : IValidateOptions<MongoDBStorageOptions>
{
    public ValidateOptionsResult Validate(string? name, MongoDBStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        try
        {
            _ = MongoUrl.Create(options.ConnectionString);
        }
        catch (Exception e) when (e is MongoConfigurationException or ArgumentException or FormatException)
        {
            // The message, not the string: it may hold credentials.
            errors.Add($"MongoDB:ConnectionString is not a MongoDB connection string ({e.GetType().Name}).");
        }
        if (string.IsNullOrWhiteSpace(options.Database) || options.Database.IndexOfAny(['/', '\\', '.', ' ', '"', '$']) >= 0)
            errors.Add($"MongoDB:Database '{options.Database}' is not a valid database name.");
        if (options.MaxConcurrentOperations < 0)
            errors.Add($"MongoDB:MaxConcurrentOperations must be 0 (the pool size) or more (got {options.MaxConcurrentOperations}).");
        if (options.CollectionPrefix.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '_')))
            errors.Add($"MongoDB:CollectionPrefix may hold only letters, digits and '_' (got '{options.CollectionPrefix}').");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
