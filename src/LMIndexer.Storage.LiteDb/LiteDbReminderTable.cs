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

    private ILiteCollection<BsonDocument> Reminders => shared.Database.GetCollection(options.CollectionPrefix + "reminders");

    public Task Init()
    {
        lock (shared.Gate)
        {
            Reminders.EnsureIndex("grain");
            Reminders.EnsureIndex("hash");
        }
        return Task.CompletedTask;
    }

    public Task<ReminderTableData> ReadRows(GrainId grainId)
    {
        lock (shared.Gate)
            return Task.FromResult(new ReminderTableData(Reminders.Find(Query.EQ("grain", grainId.ToString())).Select(ToEntry).ToList()));
    }

    public Task<ReminderTableData> ReadRows(uint begin, uint end)
    {
        // The range is (begin, end] on the hash ring; begin ≥ end wraps around zero.
        var query = begin < end
            ? Query.And(Query.GT("hash", (long)begin), Query.LTE("hash", (long)end))
            : Query.Or(Query.GT("hash", (long)begin), Query.LTE("hash", (long)end));
        lock (shared.Gate)
            return Task.FromResult(new ReminderTableData(Reminders.Find(query).Select(ToEntry).ToList()));
    }

    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName)
    {
        lock (shared.Gate)
            return Task.FromResult(Reminders.FindById(Key(grainId, reminderName)) is { } document ? ToEntry(document) : null);
    }

    public Task<string?> UpsertRow(ReminderEntry entry)
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
        lock (shared.Gate)
            Reminders.Upsert(document);
        return Task.FromResult<string?>(etag);
    }

    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag)
    {
        lock (shared.Gate)
        {
            var key = Key(grainId, reminderName);
            if (Reminders.FindById(key) is not { } document || document["etag"].AsString != eTag)
                return Task.FromResult(false);
            return Task.FromResult(Reminders.Delete(key));
        }
    }

    public Task TestOnlyClearTable()
    {
        lock (shared.Gate)
            Reminders.DeleteAll();
        return Task.CompletedTask;
    }

    public void Dispose() => shared.Dispose();

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
