using LMIndexer.Abstractions;
using LMIndexer.Cli.Commands;
using LMIndexer.Core.Data;
using Microsoft.AspNetCore.Builder;

namespace LMIndexer.Bench.Load;

/// <summary>The embedded cluster as the load benchmarks run it, and the histories they replay into it.</summary>
public static class BenchCluster
{
    /// <summary>
    /// The embedded host on <paramref name="store"/> (LiteDB in <paramref name="databaseFile"/>, or
    /// Memory), with no per-client rate limit: all the benchmark's load comes from one address;
    /// <paramref name="settings"/> adds or overrides configuration keys.
    /// </summary>
    public static Task<(WebApplication App, string Address)> StartAsync(string bundleDir, string catalogDir, string store, string databaseFile, CancellationToken cancellation,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["Storage:Provider"] = store,
            ["Storage:LiteDb:ConnectionString"] = $"Filename={databaseFile}",
            ["Security:PermitsPerSecond"] = "0",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            all[key] = value;
        return EmbeddedHost.StartAsync(bundleDir, catalogDir, 0, cancellation, all);
    }

    /// <summary>Every user's history but its last item, as events, so each request the load sends runs the model.</summary>
    public static Task ReplayHistoriesAsync(IGrainFactory grains, IReadOnlyList<UserSequence> users, CancellationToken cancellation) =>
        Parallel.ForEachAsync(users, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellation }, async (u, _) =>
            await grains.GetGrain<IUserGrain>(u.UserId).RecordBatchAsync([.. u.ItemIds.Take(u.ItemIds.Count - 1).Select((item, i) => new UserEvent($"{u.UserId}-{i}", u.UserId, item, EventType.View, DateTimeOffset.UtcNow))]));
}
