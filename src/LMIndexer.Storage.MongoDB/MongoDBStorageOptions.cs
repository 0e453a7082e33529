using System.Collections.Concurrent;
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

    /// <summary>One client per connection string in the process: clients pool connections and are meant to be shared.</summary>
    internal IMongoDatabase OpenDatabase() => Clients.GetOrAdd(ConnectionString, c => new MongoClient(c)).GetDatabase(Database);

    private static readonly ConcurrentDictionary<string, MongoClient> Clients = new(StringComparer.Ordinal);
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
        if (options.CollectionPrefix.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '_')))
            errors.Add($"MongoDB:CollectionPrefix may hold only letters, digits and '_' (got '{options.CollectionPrefix}').");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
