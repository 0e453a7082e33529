using System.IO.Hashing;
using System.Text;
using LMIndexer.Abstractions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LMIndexer.Grains.Inference;

/// <summary>
/// The one way requests reach a version's model, for recommendations and search alike: the replica
/// picked by a routing key (a user's requests go to one replica and share its source cache), the
/// time left before the caller's deadline as the call's timeout, and one retry, on the next replica,
/// when a call fails fast (a silo lost, a replica that cannot load) with time left. A call that runs
/// out of time is not retried: the model is busy, and a second request would only add to its queue.
/// </summary>
public sealed class InferenceRoute(IGrainFactory grains, IOptions<InferenceOptions> options, ILogger<InferenceRoute> logger)
{
    /// <summary>Generates for a user's history (oldest first) with <paramref name="version"/>'s model.</summary>
    public Task<GenerationResult> RecommendAsync(IndexVersionInfo version, string routingKey, IReadOnlyList<ItemRecord> history, int beams, DateTime deadline, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(history);
        // A model that reads only IDs gets item ids: no titles and descriptions cross the wire.
        IReadOnlyList<string>? itemIds = version.ItemText ? null : [.. history.Select(h => h.ItemId)];
        return CallAsync(version.Version, routingKey, deadline, model => itemIds is null ? model.GenerateAsync(history, beams) : model.GenerateFromItemIdsAsync(itemIds, beams), cancellationToken);
    }

    /// <summary>Generates for a search query with <paramref name="version"/>'s model.</summary>
    public Task<GenerationResult> SearchAsync(string version, string query, int beams, DateTime deadline, CancellationToken cancellationToken = default) =>
        CallAsync(version, query, deadline, model => model.SearchAsync(query, beams), cancellationToken);

    /// <summary>The dense vector <paramref name="version"/>'s model scores an item by.</summary>
    public Task<ItemVector> ItemVectorAsync(string version, string itemId, DateTime deadline, CancellationToken cancellationToken = default) =>
        CallAsync(version, itemId, deadline, model => model.GetItemVectorAsync(itemId), cancellationToken);

    private async Task<T> CallAsync<T>(string version, string routingKey, DateTime deadline, Func<IIndexerInferenceGrain, Task<T>> call, CancellationToken cancellationToken)
    {
        var replicas = options.Value.Replicas;
        var first = Replica(routingKey, replicas);
        try
        {
            return await AttemptAsync(version, first, deadline, call, cancellationToken);
        }
        catch (Exception e) when (e is not (TimeoutException or OperationCanceledException or ArgumentException) && DateTime.UtcNow < deadline)
        {
            var next = (first + 1) % replicas;
            logger.LogWarning("Inference replica {Version}/{Replica} failed ({Message}); retrying on replica {Next}", version, first, e.Message, next);
            return await AttemptAsync(version, next, deadline, call, cancellationToken);
        }
    }

    private Task<T> AttemptAsync<T>(string version, int replica, DateTime deadline, Func<IIndexerInferenceGrain, Task<T>> call, CancellationToken cancellationToken)
    {
        return call(grains.GetGrain<IIndexerInferenceGrain>($"{version}/{replica}")).WaitAsync(Deadline.Left(deadline), cancellationToken);
    }

    /// <summary>The replica a key's requests go to.</summary>
    public static int Replica(string routingKey, int replicas) =>
        replicas <= 1 ? 0 : (int)(XxHash32.HashToUInt32(Encoding.UTF8.GetBytes(routingKey)) % (uint)replicas);
}
