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

/// <summary>Membership and gateway list on MongoDB, and a real cluster that uses them (reminders: <see cref="ReminderTableConformance"/>).</summary>
[Collection(nameof(MongoCollection))]
public sealed class MongoClusteringTests(MongoServer server)
{
    private MongoDBStorageOptions Options(string database) => new() { ConnectionString = server.ConnectionString, Database = database };

    private static MembershipEntry Entry(int port, SiloStatus status) => new()
    {
        SiloAddress = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), 7),
        Status = status,
        ProxyPort = port + 1000,
        HostName = "host",
        SiloName = $"silo-{port}",
        RoleName = "gpu",
        StartTime = DateTime.UtcNow,
        IAmAliveTime = DateTime.UtcNow,
        SuspectTimes = [],
    };

    [Fact]
    public async Task The_membership_table_is_a_compare_and_swap_table()
    {
        var cluster = Microsoft.Extensions.Options.Options.Create(new ClusterOptions { ClusterId = "c1", ServiceId = "s1" });
        var database = MongoServer.NewDatabase();
        var table = new MongoMembershipTable(cluster, Options(database));
        await table.InitializeMembershipTable(true);
        await table.InitializeMembershipTable(true);   // a second silo starting: no error, no reset
        var empty = await table.ReadAll();
        Assert.Empty(empty.Members);

        var a = Entry(11111, SiloStatus.Joining);
        Assert.True(await table.InsertRow(a, empty.Version.Next()));
        Assert.False(await table.InsertRow(Entry(22222, SiloStatus.Joining), empty.Version.Next()));   // stale table version
        var afterInsert = await table.ReadAll();
        Assert.Equal(1, afterInsert.Version.Version);
        var (row, etag) = Assert.Single(afterInsert.Members);
        Assert.Equal((a.SiloAddress, "silo-11111", 12111), (row.SiloAddress, row.SiloName, row.ProxyPort));

        // Each half of the compare-and-swap alone refuses the update: a stale row etag with the
        // current table version, and the current row etag with a stale table version.
        row.Status = SiloStatus.Active;
        Assert.False(await table.UpdateRow(row, "wrong-etag", afterInsert.Version.Next()));
        Assert.False(await table.UpdateRow(row, etag, empty.Version.Next()));
        Assert.Equal(SiloStatus.Joining, Assert.Single((await table.ReadAll()).Members).Item1.Status);
        Assert.True(await table.UpdateRow(row, etag, afterInsert.Version.Next()));
        var updated = await table.ReadAll();
        Assert.NotEqual(etag, Assert.Single(updated.Members).Item2);
        Assert.False(await table.UpdateRow(row, etag, updated.Version.Next()));       // the row's old etag against the current table
        var active = await table.ReadRow(a.SiloAddress);
        Assert.Equal(SiloStatus.Active, Assert.Single(active.Members).Item1.Status);

        var later = DateTime.UtcNow.AddMinutes(5);
        row.IAmAliveTime = later;
        await table.UpdateIAmAlive(row);
        var seen = await table.ReadAll();
        Assert.Equal(2, seen.Version.Version);                                        // heartbeats do not bump the version
        Assert.Equal(later, seen.Members[0].Item1.IAmAliveTime, TimeSpan.FromMilliseconds(1));

        var gateways = new MongoGatewayListProvider(cluster, Microsoft.Extensions.Options.Options.Create(new GatewayOptions()), Options(database));
        Assert.Equal([SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 12111), 7).ToGatewayUri()], await gateways.GetGateways());

        // A dead silo that stopped beating long ago is cleaned up; nothing else is.
        var dead = Entry(33333, SiloStatus.Dead);
        dead.IAmAliveTime = DateTime.UtcNow.AddDays(-2);
        Assert.True(await table.InsertRow(dead, seen.Version.Next()));
        await table.CleanupDefunctSiloEntries(DateTimeOffset.UtcNow.AddDays(-1));
        Assert.Equal([a.SiloAddress], (await table.ReadAll()).Members.Select(m => m.Item1.SiloAddress));
    }

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
