using System.Net;
using LMIndexer.Storage.MongoDB;
using LMIndexer.Testing;
using Orleans.Configuration;
using Orleans.Messaging;

namespace LMIndexer.Storage.Conformance.Tests;

/// <summary>
/// What Orleans' membership protocol needs from a membership table (the cases of Orleans'
/// MembershipTableTestsBase): every change is a compare-and-swap on the table version and the row
/// etag, heartbeats never move the version, only active silos with a gateway port are gateways,
/// and cleanup removes the rows of silos that are gone.
/// </summary>
public abstract class MembershipTableConformance
{
    private static int generation;

    private static CancellationToken Token => CancellationToken.None;

    /// <summary>A table of a cluster of its own, initialised as the first silo would.</summary>
    protected abstract Task<IMembershipTable> CreateTableAsync(string clusterId);

    protected abstract IGatewayListProvider CreateGatewayList(string clusterId);

    private static string NewCluster() => "c" + Guid.NewGuid().ToString("N")[..10];

    private static DateTime NowToTheSecond()
    {
        var now = DateTime.UtcNow;
        return new DateTime(now.Year, now.Month, now.Day, now.Hour, now.Minute, now.Second, DateTimeKind.Utc);
    }

    private static MembershipEntry NewEntry(SiloStatus status = SiloStatus.Joining, int? proxyPort = null)
    {
        var silo = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 12345), Interlocked.Increment(ref generation));
        return new MembershipEntry
        {
            SiloAddress = silo,
            HostName = "host-ä",
            SiloName = $"silo-{silo.Generation}",
            RoleName = "gpu",
            Status = status,
            ProxyPort = proxyPort ?? 30000,
            UpdateZone = 1,
            FaultZone = 2,
            StartTime = NowToTheSecond(),
            IAmAliveTime = NowToTheSecond(),
            SuspectTimes = [],
        };
    }

    /// <summary>The fields the protocol reads back, in a form that compares by value.</summary>
    private static object Canonical(MembershipEntry e) => (
        e.SiloAddress.ToParsableString(), e.Status, e.ProxyPort, e.HostName, e.SiloName, e.RoleName ?? "", e.UpdateZone, e.FaultZone, e.StartTime,
        string.Join(";", (e.SuspectTimes ?? []).Select(s => $"{s.Item1.ToParsableString()}@{s.Item2:O}").Order(StringComparer.Ordinal)));

    private static async Task<TableVersion> InsertAsync(IMembershipTable table, MembershipEntry entry)
    {
        var before = await table.ReadAllAsync(Token);
        Assert.True(await table.InsertRowAsync(entry, before.Version.Next(), Token), $"inserting {entry.SiloAddress} failed");
        return (await table.ReadAllAsync(Token)).Version;
    }

    [Fact]
    public async Task An_empty_table_reads_as_version_zero_with_an_etag_and_a_second_initialisation_changes_nothing()
    {
        var cluster = NewCluster();
        var table = await CreateTableAsync(cluster);
        var empty = await table.ReadAllAsync(Token);
        Assert.Empty(empty.Members);
        Assert.Equal(0, empty.Version.Version);
        Assert.False(string.IsNullOrEmpty(empty.Version.VersionEtag));

        await InsertAsync(table, NewEntry());
        var second = await CreateTableAsync(cluster);   // a second silo starting: no error, no reset
        Assert.Single((await second.ReadAllAsync(Token)).Members);
    }

    [Fact]
    public async Task A_row_is_inserted_once_against_the_current_version_and_reads_back_field_for_field()
    {
        var table = await CreateTableAsync(NewCluster());
        var empty = await table.ReadAllAsync(Token);
        var entry = NewEntry();
        entry.SuspectTimes = [Tuple.Create(NewEntry().SiloAddress, NowToTheSecond().AddSeconds(1))];
        Assert.True(await table.InsertRowAsync(entry, empty.Version.Next(), Token));
        Assert.False(await table.InsertRowAsync(entry, empty.Version.Next(), Token));            // same row, stale version
        Assert.False(await table.InsertRowAsync(NewEntry(), empty.Version.Next(), Token));       // new row, stale version

        var one = await table.ReadAllAsync(Token);
        Assert.Equal(1, one.Version.Version);
        Assert.NotEqual(empty.Version.VersionEtag, one.Version.VersionEtag);
        Assert.False(await table.InsertRowAsync(entry, one.Version.Next(), Token));              // duplicate row, current version

        var row = await table.ReadRowAsync(entry.SiloAddress, Token);
        var (read, etag) = Assert.Single(row.Members);
        Assert.Equal(one.Version, row.Version);
        Assert.False(string.IsNullOrEmpty(etag));
        Assert.Equal(Canonical(entry), Canonical(read));
        Assert.Empty((await table.ReadRowAsync(NewEntry().SiloAddress, Token)).Members);
    }

    [Fact]
    public async Task An_update_needs_both_the_current_row_etag_and_the_current_table_version()
    {
        var table = await CreateTableAsync(NewCluster());
        for (var i = 1; i <= 4; i++)
        {
            var entry = NewEntry();
            entry.SuspectTimes = [Tuple.Create(NewEntry().SiloAddress, NowToTheSecond().AddSeconds(i))];
            var inserted = await InsertAsync(table, entry);
            var etag = (await table.ReadRowAsync(entry.SiloAddress, Token)).Members[0].Item2;

            entry.Status = SiloStatus.Active;
            Assert.False(await table.UpdateRowAsync(entry, etag, inserted, Token));              // the version read, not the next one
            Assert.False(await table.UpdateRowAsync(entry, "not-the-etag", inserted.Next(), Token));
            Assert.Equal(SiloStatus.Joining, (await table.ReadRowAsync(entry.SiloAddress, Token)).Members[0].Item1.Status);
            Assert.True(await table.UpdateRowAsync(entry, etag, inserted.Next(), Token));

            var updated = await table.ReadAllAsync(Token);
            Assert.Equal(inserted.Version + 1, updated.Version.Version);
            var (read, newEtag) = updated.Members.Single(m => m.Item1.SiloAddress.Equals(entry.SiloAddress));
            Assert.Equal(Canonical(entry), Canonical(read));
            Assert.NotEqual(etag, newEtag);
            Assert.False(await table.UpdateRowAsync(entry, etag, updated.Version.Next(), Token));   // the row's old etag
            Assert.False(await table.UpdateRowAsync(entry, newEtag, inserted.Next(), Token));       // the table's old version
            Assert.Equal(updated.Version, (await table.ReadAllAsync(Token)).Version);
            Assert.Equal(i, updated.Members.Count);
        }

        var before = await table.ReadAllAsync(Token);
        Assert.False(await table.UpdateRowAsync(NewEntry(), before.Members[0].Item2, before.Version.Next(), Token));   // no such row
        Assert.Equal(before.Version, (await table.ReadAllAsync(Token)).Version);
    }

    [Fact]
    public async Task Of_twenty_parallel_inserts_one_wins_and_nineteen_racing_updaters_each_land_once()
    {
        var table = await CreateTableAsync(NewCluster());
        var entry = NewEntry();
        var next = (await table.ReadAllAsync(Token)).Version.Next();
        var inserted = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => table.InsertRowAsync(entry, next, Token)));
        Assert.Single(inserted, ok => ok);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await Task.WhenAll(Enumerable.Range(0, 19).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                timeout.Token.ThrowIfCancellationRequested();
                var all = await table.ReadAllAsync(Token);
                var row = all.Members.Single();
                if (await table.UpdateRowAsync(row.Item1, row.Item2, all.Version.Next(), Token))
                    return;
            }
        })));
        var final = await table.ReadAllAsync(Token);
        Assert.Equal(20, final.Version.Version);   // 1 insert + 19 updates, none lost, none doubled
        Assert.Single(final.Members);
    }

    [Fact]
    public async Task A_heartbeat_moves_only_the_alive_time_and_does_not_invalidate_a_pending_update()
    {
        var table = await CreateTableAsync(NewCluster());
        var entry = NewEntry();
        await InsertAsync(table, entry);
        var before = await table.ReadAllAsync(Token);
        var (original, etag) = Assert.Single(before.Members);

        var alive = NowToTheSecond().AddSeconds(5);
        await table.UpdateIAmAliveAsync(new MembershipEntry { SiloAddress = entry.SiloAddress, IAmAliveTime = alive }, Token);   // as the silo's heartbeat timer calls it
        var after = await table.ReadAllAsync(Token);
        Assert.Equal(before.Version, after.Version);
        Assert.Equal(Canonical(original), Canonical(after.Members[0].Item1));
        Assert.Equal(alive, after.Members[0].Item1.IAmAliveTime, TimeSpan.FromMilliseconds(1));

        entry.Status = SiloStatus.Active;
        Assert.True(await table.UpdateRowAsync(entry, etag, before.Version.Next(), Token));
        var updated = await table.ReadAllAsync(Token);
        Assert.Equal(before.Version.Version + 1, updated.Version.Version);
        Assert.Equal(Canonical(entry), Canonical(updated.Members[0].Item1));
    }

    [Fact]
    public async Task Gateways_are_the_active_silos_with_a_gateway_port()
    {
        var cluster = NewCluster();
        var table = await CreateTableAsync(cluster);
        var entries = Enumerable.Range(0, 8).Select(_ => NewEntry()).ToArray();
        entries[2].Status = SiloStatus.Active;
        entries[2].ProxyPort = 0;                      // active, but no gateway
        entries[4].Status = SiloStatus.Active;
        entries[6].Status = SiloStatus.Active;
        entries[7].Status = SiloStatus.ShuttingDown;
        foreach (var entry in entries)
            await InsertAsync(table, entry);

        var gateways = await CreateGatewayList(cluster).GetGateways();
        Assert.Equal(
            new[] { entries[4], entries[6] }.Select(e => SiloAddress.New(e.SiloAddress.Endpoint.Address, e.ProxyPort, e.SiloAddress.Generation).ToGatewayUri().ToString()).Order(StringComparer.Ordinal),
            gateways.Select(g => g.ToString()).Order(StringComparer.Ordinal));
    }

    /// <remarks>
    /// Orleans probes only active silos, so a silo that crashed while joining or shutting down is
    /// never declared dead: its row would stay for good unless cleanup takes every row that is not
    /// active and was last seen before the cutoff (as the ADO.NET and Azure providers do).
    /// </remarks>
    [Fact]
    public async Task Cleanup_removes_every_row_that_is_not_active_and_was_last_seen_before_the_cutoff()
    {
        var table = await CreateTableAsync(NewCluster());
        var fresh = NewEntry(SiloStatus.Active);
        var freshJoining = NewEntry(SiloStatus.Joining);
        await InsertAsync(table, fresh);
        await InsertAsync(table, freshJoining);
        var old = new Dictionary<SiloStatus, MembershipEntry>();
        foreach (var status in new[] { SiloStatus.Created, SiloStatus.Joining, SiloStatus.Active, SiloStatus.ShuttingDown, SiloStatus.Stopping, SiloStatus.Dead })
        {
            var entry = NewEntry(status);
            entry.IAmAliveTime = entry.IAmAliveTime.AddDays(-10);
            entry.StartTime = entry.StartTime.AddDays(-10);
            old[status] = entry;
            await InsertAsync(table, entry);
        }
        // A silo that crashed while joining long ago, but whose heartbeat document says it was seen recently, stays.
        var heartbeating = NewEntry(SiloStatus.Joining);
        heartbeating.IAmAliveTime = heartbeating.IAmAliveTime.AddDays(-10);
        await InsertAsync(table, heartbeating);
        await table.UpdateIAmAliveAsync(new MembershipEntry { SiloAddress = heartbeating.SiloAddress, IAmAliveTime = NowToTheSecond() }, Token);

        var before = await table.ReadAllAsync(Token);
        await table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddDays(-7), Token);
        var after = await table.ReadAllAsync(Token);
        Assert.Equal(
            new[] { fresh, freshJoining, old[SiloStatus.Active], heartbeating }.Select(e => e.SiloAddress.ToParsableString()).Order(StringComparer.Ordinal),
            after.Members.Select(m => m.Item1.SiloAddress.ToParsableString()).Order(StringComparer.Ordinal));
        foreach (var (kept, etag) in after.Members)
            Assert.Equal(before.Members.Single(m => m.Item1.SiloAddress.Equals(kept.SiloAddress)).Item2, etag);   // kept rows untouched
        // Cleanup may move the version (a pending update then rereads and retries), but a version it keeps keeps its etag.
        Assert.True(after.Version.Version >= before.Version.Version);
        if (after.Version.Version == before.Version.Version)
            Assert.Equal(before.Version.VersionEtag, after.Version.VersionEtag);

        await table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddDays(-7), Token);
        Assert.Equal(after.Version, (await table.ReadAllAsync(Token)).Version);   // nothing left to remove: nothing written
    }

    [Fact]
    public async Task Deleting_a_cluster_removes_its_rows_and_no_other_cluster_s()
    {
        var mine = NewCluster();
        var other = NewCluster();
        var table = await CreateTableAsync(mine);
        var otherTable = await CreateTableAsync(other);
        await InsertAsync(table, NewEntry());
        await InsertAsync(otherTable, NewEntry());

        await table.DeleteMembershipTableEntriesAsync(mine, Token);
        Assert.Empty((await table.ReadAllAsync(Token)).Members);
        Assert.Single((await otherTable.ReadAllAsync(Token)).Members);
    }
}

[Collection(nameof(MongoCollection))]
public sealed class MongoMembershipTableConformance(MongoServer server) : MembershipTableConformance
{
    private readonly MongoServer server = server;
    private readonly string database = MongoServer.NewDatabase();

    private MongoDBStorageOptions Options => new() { ConnectionString = server.ConnectionString, Database = database };

    private static Microsoft.Extensions.Options.IOptions<ClusterOptions> Cluster(string clusterId) =>
        Microsoft.Extensions.Options.Options.Create(new ClusterOptions { ClusterId = clusterId, ServiceId = "svc" });

    protected override async Task<IMembershipTable> CreateTableAsync(string clusterId)
    {
        IMembershipTable table = new MongoMembershipTable(Cluster(clusterId), Options);
        await table.InitializeMembershipTableAsync(true, CancellationToken.None);
        return table;
    }

    protected override IGatewayListProvider CreateGatewayList(string clusterId) =>
        new MongoGatewayListProvider(Cluster(clusterId), Microsoft.Extensions.Options.Options.Create(new GatewayOptions()), Options);

    /// <summary>Heartbeats live in documents of their own; a silo's goes with its row, whether by cleanup or by deleting the cluster.</summary>
    [Fact]
    public async Task A_removed_silo_leaves_no_heartbeat_document_behind()
    {
        var cluster = "c" + Guid.NewGuid().ToString("N")[..10];
        var table = await CreateTableAsync(cluster);
        var heartbeats = new global::MongoDB.Driver.MongoClient(server.ConnectionString).GetDatabase(database).GetCollection<global::MongoDB.Bson.BsonDocument>("MembershipAlive");
        async Task<long> HeartbeatsAsync() => await heartbeats.CountDocumentsAsync(global::MongoDB.Driver.Builders<global::MongoDB.Bson.BsonDocument>.Filter.Eq("cluster", cluster));
        var dead = new MembershipEntry
        {
            SiloAddress = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 40001), 1), Status = SiloStatus.Dead, HostName = "h", SiloName = "s",
            StartTime = DateTime.UtcNow.AddDays(-10), IAmAliveTime = DateTime.UtcNow.AddDays(-10), SuspectTimes = [],
        };
        var live = new MembershipEntry
        {
            SiloAddress = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 40002), 1), Status = SiloStatus.Active, HostName = "h", SiloName = "t",
            StartTime = DateTime.UtcNow, IAmAliveTime = DateTime.UtcNow, SuspectTimes = [],
        };
        Assert.True(await table.InsertRowAsync(dead, (await table.ReadAllAsync(CancellationToken.None)).Version.Next(), CancellationToken.None));
        Assert.True(await table.InsertRowAsync(live, (await table.ReadAllAsync(CancellationToken.None)).Version.Next(), CancellationToken.None));
        Assert.Equal(2, await HeartbeatsAsync());   // an inserted row starts beating at once

        await table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddDays(-7), CancellationToken.None);
        Assert.Equal(1, await HeartbeatsAsync());
        await table.DeleteMembershipTableEntriesAsync(cluster, CancellationToken.None);
        Assert.Equal(0, await HeartbeatsAsync());
    }
}
