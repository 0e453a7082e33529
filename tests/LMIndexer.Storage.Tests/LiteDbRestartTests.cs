using LMIndexer.Testing;
using LMIndexer.Abstractions;
using LMIndexer.Grains;
using LMIndexer.Storage.LiteDb;
using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;

namespace LMIndexer.Storage.Tests;

/// <summary>The embedded default keeps what it acknowledged across a restart of the host.</summary>
public sealed class LiteDbRestartTests
{
    [Fact]
    public async Task Acknowledged_events_and_items_survive_a_host_restart()
    {
        var file = Path.Combine(Path.GetTempPath(), "lmindexer-tests", $"restart-{Guid.NewGuid():N}.db");
        try
        {
            await using (var cluster = await StartAsync(file))
            {
                var user = cluster.Client.GetGrain<IUserGrain>("u1");
                for (var i = 0; i < 5; i++)
                    Assert.True((await user.RecordAsync(new UserEvent($"e{i}", "u1", $"item-{i}", EventType.View, DateTimeOffset.UtcNow))).Recorded);
                await cluster.Client.GetGrain<IItemGrain>("item-0").UpsertAsync(new ItemRecord("item-0", "Rose lip balm", Price: 4.5m));
            }
            SharedLiteDatabase.Close($"Filename={file}");   // the process lets go of the file: a cold start reads it from disk

            await using (var cluster = await StartAsync(file))
            {
                var user = cluster.Client.GetGrain<IUserGrain>("u1");
                Assert.Equal(["item-0", "item-1", "item-2", "item-3", "item-4"], (await user.GetHistoryAsync()).Select(h => h.ItemId));
                Assert.False((await user.RecordAsync(new UserEvent("e3", "u1", "item-3", EventType.View, DateTimeOffset.UtcNow))).Recorded);   // still known
                Assert.Equal(4.5m, (await cluster.Client.GetGrain<IItemGrain>("item-0").GetAsync())!.Price);

                // A restarted host loads its catalog again: the item's search shard wakes up inside the
                // item's own upsert and reads the items it indexed, this one included.
                await cluster.Client.GetGrain<IItemGrain>("item-0").UpsertAsync(new ItemRecord("item-0", "Peony lip balm", Price: 4.5m));
                var shard = cluster.Client.GetGrain<ICatalogSearchGrain>(LMIndexer.Grains.Search.CatalogSearchShards.Of("item-0"));
                Assert.Equal(["item-0"], (await shard.SearchAsync(new CatalogQuery(["peony"], null, 5))).Lexical.Select(h => h.ItemId));
                Assert.Empty((await shard.SearchAsync(new CatalogQuery(["rose"], null, 5))).Lexical);
            }
        }
        finally
        {
            TestEnvironment.DeleteLiteDb(file);
        }
    }

    private static async Task<InProcessTestCluster> StartAsync(string file)
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddLiteDbGrainStorage(StorageNames.Default, o => o.ConnectionString = $"Filename={file}");
            silo.UseLiteDbReminderService(o => o.ConnectionString = $"Filename={file}");
            var settings = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Search:Encoder"] = "none" }).Build();
            silo.AddLMIndexerGrains(settings, new Dictionary<string, string> { ["role"] = "cpu" });
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }
}
