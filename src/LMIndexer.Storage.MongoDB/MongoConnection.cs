using MongoDB.Driver;

namespace LMIndexer.Storage.MongoDB;

/// <summary>
/// One MongoDB client per connection string in the process (clients pool connections and are meant
/// to be shared) and a gate that bounds how many provider operations use it at once.
/// </summary>
/// <remarks>
/// The driver fails an operation outright (<see cref="MongoWaitQueueFullException"/>) when more
/// than a few times its pool size wait for a connection, which a silo taking over a share of the
/// reminder ring, or a burst of grain activations, reaches easily. Operations beyond the gate's
/// width wait here instead, in order, and none fails for want of a connection.
/// </remarks>
internal sealed class MongoConnection
{
    private static readonly Dictionary<string, MongoConnection> Open = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim gate;

    private MongoConnection(MongoClient client, int width)
    {
        Client = client;
        Width = width;
        gate = new SemaphoreSlim(width, width);
    }

    public MongoClient Client { get; }

    /// <summary>How many operations may use the client at once.</summary>
    public int Width { get; }

    /// <summary>The shared connection for these options: the first caller's gate width wins for a connection string.</summary>
    public static MongoConnection For(MongoDBStorageOptions options)
    {
        lock (Open)
        {
            if (!Open.TryGetValue(options.ConnectionString, out var connection))
            {
                var settings = MongoClientSettings.FromConnectionString(options.ConnectionString);
                var width = options.MaxConcurrentOperations > 0 ? Math.Min(options.MaxConcurrentOperations, settings.MaxConnectionPoolSize) : settings.MaxConnectionPoolSize;
                connection = new MongoConnection(new MongoClient(settings), width);
                Open[options.ConnectionString] = connection;
            }
            return connection;
        }
    }

    /// <summary>Waits for a place at the gate; disposing the lease gives it back.</summary>
    public async Task<Lease> EnterAsync()
    {
        await gate.WaitAsync();
        return new Lease(gate);
    }

    public readonly struct Lease(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }
}
