using LiteDB;
using Orleans.Storage;
using static LMIndexer.Storage.GrainStorageKeys;

namespace LMIndexer.Storage.LiteDb;

/// <summary>
/// Grain storage on LiteDB: one collection per grain type, documents <c>{_id, _etag, _doc}</c>
/// (the layout of the MongoDB provider), optimistic concurrency on <c>_etag</c>.
/// </summary>
public sealed class LiteDbGrainStorage(string name, LiteDbStorageOptions options) : IGrainStorage, IDisposable
{
    private readonly SharedLiteDatabase shared = SharedLiteDatabase.Acquire(options.ConnectionString);

    public string Name => name;

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var document = await RunAsync(db => Collection(db, grainId).FindById(DocumentId(grainId)));
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
            [Id] = DocumentId(grainId),
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
            stored is not null && collection.Delete(DocumentId(grainId)));
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
        var stored = collection.FindById(DocumentId(grainId))?[ETag].AsString;
        if (stored != expected)
            throw Conflict(stateName, grainId, stored, expected);
        return change(collection, stored);
    });

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
