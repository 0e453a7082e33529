using LMIndexer.Grains;
using LMIndexer.Testing;
using System.Net;
using LMIndexer.Storage.MongoDB;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LMIndexer.Storage.Tests;

/// <summary>A real two-silo cluster on the MongoDB membership table (the table's own contract: LMIndexer.Storage.Conformance.Tests).</summary>
[Collection(nameof(MongoCollection))]
public sealed class MongoClusteringTests(MongoServer server)
{
    private MongoDBStorageOptions Options(string database) => new() { ConnectionString = server.ConnectionString, Database = database };

    [Fact]
    public async Task A_stopped_silo_is_declared_dead_in_the_MongoDB_table_and_the_other_serves_on()
    {
        var database = MongoServer.NewDatabase();
        var clusterId = "it-" + database;
        void Mongo(MongoDBStorageOptions o) => (o.ConnectionString, o.Database) = (server.ConnectionString, database);
        IHost Silo(int siloPort, int gatewayPort)
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            builder.UseOrleans(silo =>
            {
                silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, "lmindexer-tests"));
                silo.ConfigureEndpoints(IPAddress.Loopback, siloPort, gatewayPort);
                silo.UseMongoDBClustering(Mongo);
                silo.AddMemoryGrainStorage("lmindexer");
                silo.AddLMIndexerGrains(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build(), new Dictionary<string, string> { ["role"] = "cpu" });
                silo.Configure<ClusterMembershipOptions>(o => o.ProbeTimeout = TimeSpan.FromSeconds(2));
            });
            return builder.Build();
        }
        using var first = Silo(TestEnvironment.FreePort(), TestEnvironment.FreePort());
        using var second = Silo(TestEnvironment.FreePort(), TestEnvironment.FreePort());
        await first.StartAsync();
        await second.StartAsync();
        var clientBuilder = Host.CreateApplicationBuilder();
        clientBuilder.Logging.ClearProviders();
        clientBuilder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, "lmindexer-tests"));
            client.UseMongoDBClustering(Mongo);
        });
        using var client = clientBuilder.Build();
        await client.StartAsync();

        var table = new MongoMembershipTable(Microsoft.Extensions.Options.Options.Create(new ClusterOptions { ClusterId = clusterId }), Options(database));
        Assert.Equal(2, (await table.ReadAll()).Members.Count(m => m.Item1.Status == SiloStatus.Active));
        var grains = client.Services.GetRequiredService<IGrainFactory>();
        var management = grains.GetGrain<IManagementGrain>(0);
        Assert.Equal(2, (await management.GetHosts(onlyActive: true)).Count);

        await second.StopAsync();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await management.GetHosts(onlyActive: true)).Count != 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the surviving silo did not see the other one leave within a minute");
            await Task.Delay(250);
        }
        var rows = (await table.ReadAll()).Members.Select(m => m.Item1).ToList();
        Assert.Equal([SiloStatus.Active, SiloStatus.Dead], rows.OrderBy(r => r.Status == SiloStatus.Dead).Select(r => r.Status));
        var item = grains.GetGrain<LMIndexer.Abstractions.IItemGrain>("after-the-stop");
        await item.UpsertAsync(new LMIndexer.Abstractions.ItemRecord("after-the-stop", "still serving"));
        Assert.Equal("still serving", (await item.GetAsync())!.Title);
        await client.StopAsync();
        await first.StopAsync();
    }
}
