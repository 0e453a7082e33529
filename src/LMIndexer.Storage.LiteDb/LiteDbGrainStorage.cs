using LiteDB;
using Orleans.Storage;
using static LMIndexer.Storage.GrainStorageKeys;

namespace LMIndexer.Storage.LiteDb;

/// <summary>
/// Grain storage on LiteDB: one collection per grain type, one document per named state of a grain
/// (<see cref="GrainStorageKeys"/>, the layout of the MongoDB provider), optimistic concurrency on <c>_etag</c>.
/// </summary>
public sealed class LiteDbGrainStorage(string name, LiteDbStorageOptions options) : IGrainStorage, IDisposable
{
    private readonly SharedLiteDatabase shared = SharedLiteDatabase.Acquire(options.ConnectionString);

    public string Name => name;

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var document = await RunAsync(db => Record(Collection(db, grainId), stateName, grainId));
        if (document is null)
            GrainStates.SetMissing(grainState);
        else
            GrainStates.SetLoaded(grainState, LiteDbJson.Write(document[Document]), document[ETag].AsString);
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var etag = NewETag();
        var document = new BsonDocument
        {
            [Id] = RecordId(stateName, grainId),
            [State] = stateName,
            [ETag] = etag,
            [Document] = JsonSerializer.Deserialize(GrainStateJson.Serialize(grainState.State)),
        };
        await CheckedAsync(stateName, grainId, grainState.ETag, (collection, stored) =>
            stored is null ? collection.Insert(document) is not null : collection.Update(document));
        grainState.ETag = etag;
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        await CheckedAsync(stateName, grainId, grainState.ETag, (collection, stored) =>
            stored is not null && collection.Delete(RecordId(stateName, grainId)));
        GrainStates.SetMissing(grainState);
    }

    public void Dispose() => shared.Dispose();

    /// <summary>
    /// Runs <paramref name="change"/> on the database thread only if the stored etag is still
    /// <paramref name="expected"/> (none: no record); the check and the change cannot interleave with another write.
    /// </summary>
    private Task<bool> CheckedAsync(string stateName, GrainId grainId, string? expected, Func<ILiteCollection<BsonDocument>, string?, bool> change) => RunAsync(db =>
    {
        var collection = Collection(db, grainId);
        var stored = Record(collection, stateName, grainId)?[ETag].AsString;
        if (stored != expected)
            throw Conflict(stateName, grainId, stored, expected);
        return change(collection, stored);
    });

    /// <summary>
    /// The state's record; a record of the old layout (keyed by the grain alone) is moved to the
    /// state's key, keeping its etag. Runs on the database thread, so the move cannot race a write.
    /// </summary>
    private BsonDocument? Record(ILiteCollection<BsonDocument> collection, string stateName, GrainId grainId)
    {
        var recordId = RecordId(stateName, grainId);
        if (collection.FindById(recordId) is { } record)
            return record.ContainsKey(State) ? record : throw new InvalidOperationException(LegacyCollision(name, collection.Name, recordId));
        if (collection.FindById(LegacyRecordId(grainId)) is not { } legacy || legacy.ContainsKey(State))
            return null;
        var moved = new BsonDocument { [Id] = recordId, [State] = stateName, [ETag] = legacy[ETag], [Document] = legacy[Document] };
        collection.Insert(moved);
        collection.Delete(LegacyRecordId(grainId));
        return moved;
    }

    private async Task<TResult> RunAsync<TResult>(Func<LiteDatabase, TResult> operation)
    {
        try
        {
            return await shared.RunAsync(operation);
        }
        catch (LiteException e)
        {
            throw Failure(e);
        }
    }

    private ILiteCollection<BsonDocument> Collection(LiteDatabase database, GrainId grainId) =>
        database.GetCollection(GrainStorageKeys.Collection(options.CollectionPrefix, grainId));

    /// <summary>LiteDB's exceptions cannot cross the wire to a caller on another silo; their message can.</summary>
    private IOException Failure(LiteException e) => new($"Storage '{name}' (LiteDB): {e.Message}");

    private InconsistentStateException Conflict(string stateName, GrainId grainId, string? stored, string? expected) =>
        new($"Storage '{name}': state '{stateName}' of {grainId} was written by someone else (stored etag {stored ?? "none"}, expected {expected ?? "none"}).",
            stored ?? "", expected ?? "");
}
