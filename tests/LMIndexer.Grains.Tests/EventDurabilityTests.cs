using LMIndexer.Testing;
using System.Collections.Concurrent;
using System.Diagnostics;
using LMIndexer.Abstractions;
using LMIndexer.Grains.Placement;
using LMIndexer.Storage.LiteDb;
using Xunit.Abstractions;

namespace LMIndexer.Grains.Tests;

/// <summary>A silo killed under a bounded event load: nothing acknowledged is lost, and the cluster keeps answering.</summary>
public sealed class EventDurabilityTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Every_acknowledged_event_survives_a_silo_kill_during_the_load()
    {
        var file = Path.Combine(Path.GetTempPath(), "lmindexer-tests", $"durability-{Guid.NewGuid():N}.db");
        var store = $"Filename={file}";
        try
        {
            await using var cluster = ClusterFixture.Build(2, _ => SiloRoles.Gpu, fallback: true,
                storage: silo => silo.AddLiteDbGrainStorage(StorageNames.Default, o => o.ConnectionString = store).UseLiteDbReminderService(o => o.ConnectionString = store),
                settings: new Dictionary<string, string?> { ["Recommendations:HistoryLength"] = "1000", ["Recommendations:EventIdMemory"] = "1000" });
            await cluster.DeployAsync();
            var grains = cluster.Client;
            const int users = 64;
            const int eventsPerUser = 40;
            // The first four users' items are in the catalog: only catalog items are recommended.
            await Task.WhenAll(Enumerable.Range(0, 4).SelectMany(u => Enumerable.Range(0, eventsPerUser).Select(e => $"item-{u}-{e}"))
                .Select(id => grains.GetGrain<IItemGrain>(id).UpsertAsync(new ItemRecord(id, $"Durable item {id}"))));
            var acknowledged = new ConcurrentDictionary<string, ConcurrentBag<string>>();
            var failures = 0;
            var sent = 0;
            var clock = Stopwatch.StartNew();
            TimeSpan? killedAt = null;
            var lastFailure = TimeSpan.Zero;

            // Each user's events go in order from one worker; an event whose call failed is retried
            // (same event id) as a client would, so the load is "at least once" from the client's side.
            var load = Task.WhenAll(Enumerable.Range(0, users).Select(u => Task.Run(async () =>
            {
                var userId = $"durable-{u}";
                for (var e = 0; e < eventsPerUser && clock.Elapsed < TimeSpan.FromSeconds(60); e++)
                {
                    var userEvent = new UserEvent($"{userId}-e{e}", userId, $"item-{u}-{e}", EventType.View, DateTimeOffset.UtcNow);
                    for (var attempt = 0; attempt < 20; attempt++)
                    {
                        Interlocked.Increment(ref sent);
                        try
                        {
                            await grains.GetGrain<IUserGrain>(userId).RecordAsync(userEvent);
                            acknowledged.GetOrAdd(userId, _ => []).Add(userEvent.ItemId);
                            break;
                        }
                        catch (Exception)
                        {
                            Interlocked.Increment(ref failures);
                            lastFailure = clock.Elapsed;
                            await Task.Delay(100);
                        }
                    }
                    await Task.Delay(5);
                }
            })));
            await Task.Delay(400);
            var victim = cluster.Silos[1];
            killedAt = clock.Elapsed;
            await cluster.KillSiloAsync(victim);
            await load;

            var lost = 0;
            foreach (var (userId, items) in acknowledged)
            {
                var history = (await grains.GetGrain<IUserGrain>(userId).GetHistoryAsync()).Select(h => h.ItemId).ToHashSet(StringComparer.Ordinal);
                lost += items.Count(i => !history.Contains(i));
            }
            var total = acknowledged.Values.Sum(v => v.Count);
            var recovery = lastFailure > killedAt.Value ? lastFailure - killedAt.Value : TimeSpan.Zero;
            output.WriteLine($"requests sent {sent}, failed {failures}, acknowledged events {total}, lost {lost}, last failure {recovery.TotalSeconds:F1} s after the kill");
            Assert.Equal(users * eventsPerUser, total);   // every event was eventually acknowledged
            Assert.Equal(0, lost);
            // The surviving silo answers from the recovered history: every item counts once, ties
            // go by id, so durable-0's own items come first among the catalog's and the seen filter must drop them.
            var after = await grains.GetGrain<IUserGrain>("durable-0").RecommendAsync(3);
            Assert.False(after.Degraded);
            Assert.Equal(3, after.Items.Count);
            Assert.All(after.Items, i => Assert.DoesNotContain(i.ItemId, acknowledged["durable-0"]));
        }
        finally
        {
            TestEnvironment.DeleteLiteDb(file);
        }
    }
}
