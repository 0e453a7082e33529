using Microsoft.Extensions.Options;
using MongoDB.Bson;
using MongoDB.Driver;
using Orleans.Configuration;

namespace LMIndexer.Storage.MongoDB;

/// <summary>
/// Orleans cluster membership on MongoDB. One document per cluster holds the table version, its
/// etag and the member rows (each with its own etag); every change to it is a replace conditional
/// on the etag read, which is the compare-and-swap the membership protocol needs. I-am-alive
/// heartbeats, written by every silo every few seconds, live in their own small documents so that
/// they never race the table's version.
/// </summary>
public sealed class MongoMembershipTable(IOptions<ClusterOptions> cluster, MongoDBStorageOptions options) : IMembershipTable
{
    private readonly MongoConnection connection = options.Connect();
    private IMongoDatabase Database => connection.Client.GetDatabase(options.Database);
    private readonly string clusterId = cluster.Value.ClusterId;

    private IMongoCollection<BsonDocument> Tables => Database.GetCollection<BsonDocument>(options.CollectionPrefix + "Membership");
    private IMongoCollection<BsonDocument> Heartbeats => Database.GetCollection<BsonDocument>(options.CollectionPrefix + "MembershipAlive");

    public async Task InitializeMembershipTable(bool tryInitTableVersion)
    {
        using var lease = await connection.EnterAsync();
        if (!tryInitTableVersion)
            return;
        try
        {
            await Tables.InsertOneAsync(new BsonDocument { { "_id", clusterId }, { "version", 0 }, { "etag", GrainStorageKeys.NewETag() }, { "members", new BsonArray() } });
        }
        catch (Exception e) when (MongoDuplicateKey.Is(e))
        {
            // another silo created it first
        }
    }

    public async Task DeleteMembershipTableEntries(string clusterId)
    {
        using var lease = await connection.EnterAsync();
        await Tables.DeleteOneAsync(Builders<BsonDocument>.Filter.Eq("_id", clusterId));
        await Heartbeats.DeleteManyAsync(Builders<BsonDocument>.Filter.Eq("cluster", clusterId));
    }

    public async Task CleanupDefunctSiloEntries(DateTimeOffset beforeDate)
    {
        using var lease = await connection.EnterAsync();
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var table = await ReadTableAsync();
            if (table is null)
                return;
            var alive = await HeartbeatsAsync();
            // Orleans probes only active silos, so one that crashed while joining or shutting down is
            // never declared dead: every row that is not active counts, as in the ADO.NET provider.
            var defunct = table.Members.Where(m => m.Entry.Status != SiloStatus.Active && LastSeen(m.Entry, alive) < beforeDate.UtcDateTime).ToList();
            if (defunct.Count == 0)
                return;
            var members = table.Members.Except(defunct).ToList();
            // The version moves with the etag: a writer that read the table before the cleanup then
            // fails its compare-and-swap and rereads, instead of writing the removed rows back.
            if (await ReplaceAsync(table.ETag, table.Version + 1, members))
            {
                foreach (var member in defunct)
                    await Heartbeats.DeleteOneAsync(Builders<BsonDocument>.Filter.Eq("_id", HeartbeatId(member.Entry.SiloAddress)));
                return;
            }
        }
    }

    public async Task<MembershipTableData> ReadRow(SiloAddress key)
    {
        var all = await ReadAll();
        return new MembershipTableData([.. all.Members.Where(m => m.Item1.SiloAddress.Equals(key))], all.Version);
    }

    public async Task<MembershipTableData> ReadAll()
    {
        using var lease = await connection.EnterAsync();
        var table = await ReadTableAsync();
        if (table is null)
            return new MembershipTableData(new TableVersion(0, ""));
        var alive = await HeartbeatsAsync();
        foreach (var member in table.Members)
            member.Entry.IAmAliveTime = LastSeen(member.Entry, alive);
        return new MembershipTableData([.. table.Members.Select(m => Tuple.Create(m.Entry, m.ETag))], new TableVersion(table.Version, table.ETag));
    }

    public async Task<bool> InsertRow(MembershipEntry entry, TableVersion tableVersion)
    {
        using var lease = await connection.EnterAsync();
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(tableVersion);
        var table = await ReadTableAsync();
        if (table is null || !table.IsNext(tableVersion) || table.Members.Any(m => m.Entry.SiloAddress.Equals(entry.SiloAddress)))
            return false;
        var inserted = await ReplaceAsync(table.ETag, tableVersion.Version, [.. table.Members, new Member(entry, GrainStorageKeys.NewETag())]);
        if (inserted)
            await WriteHeartbeatAsync(entry);
        return inserted;
    }

    public async Task<bool> UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion)
    {
        using var lease = await connection.EnterAsync();
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(tableVersion);
        var table = await ReadTableAsync();
        if (table is null || !table.IsNext(tableVersion))
            return false;
        var index = table.Members.FindIndex(m => m.Entry.SiloAddress.Equals(entry.SiloAddress));
        if (index < 0 || table.Members[index].ETag != etag)
            return false;
        var members = table.Members.ToList();
        members[index] = new Member(entry, GrainStorageKeys.NewETag());
        return await ReplaceAsync(table.ETag, tableVersion.Version, members);
    }

    public async Task UpdateIAmAlive(MembershipEntry entry)
    {
        using var lease = await connection.EnterAsync();
        ArgumentNullException.ThrowIfNull(entry);
        await WriteHeartbeatAsync(entry);
    }

    private Task WriteHeartbeatAsync(MembershipEntry entry) =>
        Heartbeats.ReplaceOneAsync(Builders<BsonDocument>.Filter.Eq("_id", HeartbeatId(entry.SiloAddress)),
            new BsonDocument { { "_id", HeartbeatId(entry.SiloAddress) }, { "cluster", clusterId }, { "time", entry.IAmAliveTime.ToUniversalTime() } },
            new ReplaceOptions { IsUpsert = true });

    private string HeartbeatId(SiloAddress silo) => $"{clusterId}|{silo.ToParsableString()}";

    private async Task<Dictionary<string, DateTime>> HeartbeatsAsync()
    {
        var documents = await Heartbeats.Find(Builders<BsonDocument>.Filter.Eq("cluster", clusterId)).ToListAsync();
        return documents.ToDictionary(d => d["_id"].AsString, d => d["time"].ToUniversalTime(), StringComparer.Ordinal);
    }

    private DateTime LastSeen(MembershipEntry entry, Dictionary<string, DateTime> alive)
    {
        var heartbeat = alive.GetValueOrDefault(HeartbeatId(entry.SiloAddress));
        return heartbeat > entry.IAmAliveTime ? heartbeat : entry.IAmAliveTime;
    }

    private async Task<Table?> ReadTableAsync()
    {
        var document = await Tables.Find(Builders<BsonDocument>.Filter.Eq("_id", clusterId)).FirstOrDefaultAsync();
        return document is null
            ? null
            : new Table(document["version"].ToInt32(), document["etag"].AsString, [.. document["members"].AsBsonArray.Select(m => MembershipDocuments.ToMember(m.AsBsonDocument))]);
    }

    /// <summary>Writes the table if nobody changed it since it was read (its etag still matches).</summary>
    private async Task<bool> ReplaceAsync(string readETag, int version, IReadOnlyList<Member> members)
    {
        var document = new BsonDocument
        {
            { "_id", clusterId },
            { "version", version },
            { "etag", GrainStorageKeys.NewETag() },
            { "members", new BsonArray(members.Select(MembershipDocuments.ToDocument)) },
        };
        var filter = Builders<BsonDocument>.Filter.And(Builders<BsonDocument>.Filter.Eq("_id", clusterId), Builders<BsonDocument>.Filter.Eq("etag", readETag));
        var result = await Tables.ReplaceOneAsync(filter, document);
        return result.MatchedCount == 1;
    }

    private sealed record Table(int Version, string ETag, List<Member> Members)
    {
        /// <summary>
        /// A change must carry the etag of the version it read and that version's successor, as
        /// Orleans' membership protocol and the ADO.NET provider expect; the same etag with the old
        /// number would rewrite the table without moving its version.
        /// </summary>
        public bool IsNext(TableVersion proposed) => proposed.VersionEtag == ETag && proposed.Version == Version + 1;
    }
}

/// <summary>A membership row and its etag.</summary>
internal sealed record Member(MembershipEntry Entry, string ETag);

/// <summary>Membership rows as BSON.</summary>
internal static class MembershipDocuments
{
    public static BsonDocument ToDocument(Member member)
    {
        var e = member.Entry;
        return new BsonDocument
        {
            { "silo", e.SiloAddress.ToParsableString() },
            { "status", (int)e.Status },
            { "suspectTimes", new BsonArray((e.SuspectTimes ?? []).Select(s => new BsonDocument { { "silo", s.Item1.ToParsableString() }, { "time", s.Item2.ToUniversalTime() } })) },
            { "proxyPort", e.ProxyPort },
            { "hostName", e.HostName ?? "" },
            { "siloName", e.SiloName ?? "" },
            { "roleName", e.RoleName ?? "" },
            { "updateZone", e.UpdateZone },
            { "faultZone", e.FaultZone },
            { "startTime", e.StartTime.ToUniversalTime() },
            { "iAmAliveTime", e.IAmAliveTime.ToUniversalTime() },
            { "etag", member.ETag },
        };
    }

    public static Member ToMember(BsonDocument d) => new(new MembershipEntry
    {
        SiloAddress = SiloAddress.FromParsableString(d["silo"].AsString),
        Status = (SiloStatus)d["status"].ToInt32(),
        SuspectTimes = [.. d["suspectTimes"].AsBsonArray.Select(s => Tuple.Create(SiloAddress.FromParsableString(s["silo"].AsString), s["time"].ToUniversalTime()))],
        ProxyPort = d["proxyPort"].ToInt32(),
        HostName = d["hostName"].AsString,
        SiloName = d["siloName"].AsString,
        RoleName = d["roleName"].AsString,
        UpdateZone = d["updateZone"].ToInt32(),
        FaultZone = d["faultZone"].ToInt32(),
        StartTime = d["startTime"].ToUniversalTime(),
        IAmAliveTime = d["iAmAliveTime"].ToUniversalTime(),
    }, d["etag"].AsString);
}
