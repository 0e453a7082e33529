using Microsoft.Extensions.Options;
using MongoDB.Bson;
using MongoDB.Driver;
using Orleans.Configuration;

namespace LMIndexer.Storage.MongoDB;

/// <summary>Durable Orleans reminders on MongoDB (the backfill job's restart after a crash depends on them).</summary>
public sealed class MongoReminderTable(IOptions<ClusterOptions> cluster, MongoDBStorageOptions options) : IReminderTable
{
    private readonly MongoConnection connection = options.Connect();
    private IMongoCollection<BsonDocument> Reminders => connection.Client.GetDatabase(options.Database).GetCollection<BsonDocument>(options.CollectionPrefix + "Reminders");
    private readonly string serviceId = cluster.Value.ServiceId;

    private static FilterDefinitionBuilder<BsonDocument> Filter => Builders<BsonDocument>.Filter;

    public async Task Init()
    {
        using var lease = await connection.EnterAsync();
        await Reminders.Indexes.CreateOneAsync(new CreateIndexModel<BsonDocument>(Builders<BsonDocument>.IndexKeys.Ascending("service").Ascending("hash")));
        await Reminders.Indexes.CreateOneAsync(new CreateIndexModel<BsonDocument>(Builders<BsonDocument>.IndexKeys.Ascending("service").Ascending("grain")));
    }

    public async Task<ReminderTableData> ReadRows(GrainId grainId)
    {
        using var lease = await connection.EnterAsync();
        return new((await Reminders.Find(Filter.And(Filter.Eq("service", serviceId), Filter.Eq("grain", grainId.ToString()))).ToListAsync()).Select(ToEntry));
    }

    public async Task<ReminderTableData> ReadRows(uint begin, uint end)
    {
        using var lease = await connection.EnterAsync();
        // The range is (begin, end] on the hash ring; begin ≥ end wraps around zero.
        var range = begin < end
            ? Filter.And(Filter.Gt("hash", (long)begin), Filter.Lte("hash", (long)end))
            : Filter.Or(Filter.Gt("hash", (long)begin), Filter.Lte("hash", (long)end));
        return new((await Reminders.Find(Filter.And(Filter.Eq("service", serviceId), range)).ToListAsync()).Select(ToEntry));
    }

    public async Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName)
    {
        using var lease = await connection.EnterAsync();
        return await Reminders.Find(Filter.Eq("_id", Key(grainId, reminderName))).FirstOrDefaultAsync() is { } document ? ToEntry(document) : null;
    }

    public async Task<string?> UpsertRow(ReminderEntry entry)
    {
        using var lease = await connection.EnterAsync();
        ArgumentNullException.ThrowIfNull(entry);
        var etag = GrainStorageKeys.NewETag();
        var key = Key(entry.GrainId, entry.ReminderName);
        await Reminders.ReplaceOneAsync(Filter.Eq("_id", key), new BsonDocument
        {
            { "_id", key },
            { "service", serviceId },
            { "grain", entry.GrainId.ToString() },
            { "name", entry.ReminderName },
            { "hash", (long)entry.GrainId.GetUniformHashCode() },
            { "startAt", entry.StartAt.ToUniversalTime() },
            { "periodTicks", entry.Period.Ticks },
            { "etag", etag },
        }, new ReplaceOptions { IsUpsert = true });
        return etag;
    }

    public async Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag)
    {
        using var lease = await connection.EnterAsync();
        return (await Reminders.DeleteOneAsync(Filter.And(Filter.Eq("_id", Key(grainId, reminderName)), Filter.Eq("etag", eTag)))).DeletedCount == 1;
    }

    public async Task TestOnlyClearTable()
    {
        using var lease = await connection.EnterAsync();
        await Reminders.DeleteManyAsync(Filter.Eq("service", serviceId));
    }

    private string Key(GrainId grainId, string reminderName) => $"{serviceId}|{grainId}|{reminderName}";

    private static ReminderEntry ToEntry(BsonDocument document) => new()
    {
        GrainId = GrainId.Parse(document["grain"].AsString),
        ReminderName = document["name"].AsString,
        StartAt = document["startAt"].ToUniversalTime(),
        Period = TimeSpan.FromTicks(document["periodTicks"].ToInt64()),
        ETag = document["etag"].AsString,
    };
}
