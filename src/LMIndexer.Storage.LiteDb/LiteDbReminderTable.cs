using System.Globalization;
using LiteDB;

namespace LMIndexer.Storage.LiteDb;

/// <summary>
/// Durable Orleans reminders in a LiteDB collection, so that a reminder registered by a job (the
/// backfill) fires again after the host restarts.
/// </summary>
public sealed class LiteDbReminderTable(LiteDbStorageOptions options) : IReminderTable, IDisposable
{
    private readonly SharedLiteDatabase shared = SharedLiteDatabase.Acquire(options.ConnectionString);

    public Task Init() => shared.RunAsync(db =>
    {
        var reminders = Reminders(db);
        return reminders.EnsureIndex("grain") && reminders.EnsureIndex("hash");
    });

    public Task<ReminderTableData> ReadRows(GrainId grainId)
        => shared.RunAsync(db => new ReminderTableData(Reminders(db).Find(Query.EQ("grain", grainId.ToString())).Select(ToEntry).ToList()));

    public Task<ReminderTableData> ReadRows(uint begin, uint end)
    {
        // The range is (begin, end] on the hash ring; begin ≥ end wraps around zero.
        var query = begin < end
            ? Query.And(Query.GT("hash", (long)begin), Query.LTE("hash", (long)end))
            : Query.Or(Query.GT("hash", (long)begin), Query.LTE("hash", (long)end));
        return shared.RunAsync(db => new ReminderTableData(Reminders(db).Find(query).Select(ToEntry).ToList()));
    }

    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName)
        => shared.RunAsync(db => Reminders(db).FindById(Key(grainId, reminderName)) is { } document ? ToEntry(document) : null);

    public async Task<string?> UpsertRow(ReminderEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var etag = GrainStorageKeys.NewETag();
        var document = new BsonDocument
        {
            ["_id"] = Key(entry.GrainId, entry.ReminderName),
            ["grain"] = entry.GrainId.ToString(),
            ["name"] = entry.ReminderName,
            ["hash"] = (long)entry.GrainId.GetUniformHashCode(),
            ["startAt"] = entry.StartAt.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
            ["periodTicks"] = entry.Period.Ticks,
            ["etag"] = etag,
        };
        await shared.RunAsync(db => Reminders(db).Upsert(document));
        return etag;
    }

    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) => shared.RunAsync(db =>
    {
        var reminders = Reminders(db);
        var key = Key(grainId, reminderName);
        return reminders.FindById(key) is { } document && document["etag"].AsString == eTag && reminders.Delete(key);
    });

    public Task TestOnlyClearTable() => shared.RunAsync(db => Reminders(db).DeleteAll());

    public void Dispose() => shared.Dispose();

    private ILiteCollection<BsonDocument> Reminders(LiteDatabase database) => database.GetCollection(options.CollectionPrefix + "reminders");

    private static string Key(GrainId grainId, string reminderName) => $"{grainId}|{reminderName}";

    private static ReminderEntry ToEntry(BsonDocument document) => new()
    {
        GrainId = GrainId.Parse(document["grain"].AsString),
        ReminderName = document["name"].AsString,
        StartAt = DateTime.Parse(document["startAt"].AsString, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
        Period = TimeSpan.FromTicks(document["periodTicks"].AsInt64),
        ETag = document["etag"].AsString,
    };
}
