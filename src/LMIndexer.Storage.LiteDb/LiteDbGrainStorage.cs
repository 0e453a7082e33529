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
        BsonDocument? document;
        try
        {
            document = await shared.RunAsync(db => Collection(db, grainId).FindById(DocumentId(grainId)));
        }
        catch (LiteException e)
        {
            throw Failure(e);
        }
        if (document is null)
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }
        grainState.State = GrainStateJson.Deserialize<T>(LiteDbJson.Write(document[Document])) ?? Activator.CreateInstance<T>();
        grainState.ETag = document[ETag].AsString;
        grainState.RecordExists = true;
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
        var expected = grainState.ETag;
        try
        {
            await shared.RunAsync(db =>
            {
                var collection = Collection(db, grainId);
                var stored = collection.FindById(DocumentId(grainId))?[ETag].AsString;
                if (stored != expected)
                    throw Conflict(stateName, grainId, stored, expected);
                return stored is null ? collection.Insert(document) is not null : collection.Update(document);
            });
        }
        catch (LiteException e)
        {
            throw Failure(e);
        }
        grainState.ETag = etag;
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var expected = grainState.ETag;
        try
        {
            await shared.RunAsync(db =>
            {
                var collection = Collection(db, grainId);
                var stored = collection.FindById(DocumentId(grainId))?[ETag].AsString;
                if (stored != expected)
                    throw Conflict(stateName, grainId, stored, expected);
                return stored is not null && collection.Delete(DocumentId(grainId));
            });
        }
        catch (LiteException e)
        {
            throw Failure(e);
        }
        grainState.ETag = null;
        grainState.RecordExists = false;
        grainState.State = Activator.CreateInstance<T>();
    }

    public void Dispose() => shared.Dispose();

    private ILiteCollection<BsonDocument> Collection(LiteDatabase database, GrainId grainId) =>
        database.GetCollection(GrainStorageKeys.Collection(options.CollectionPrefix, grainId));

    /// <summary>LiteDB's exceptions cannot cross the wire to a caller on another silo; their message can.</summary>
    private IOException Failure(LiteException e) => new($"Storage '{name}' (LiteDB): {e.Message}");

    private InconsistentStateException Conflict(string stateName, GrainId grainId, string? stored, string? expected) =>
        new($"Storage '{name}': state '{stateName}' of {grainId} was written by someone else (stored etag {stored ?? "none"}, expected {expected ?? "none"}).",
            stored ?? "", expected ?? "");
}
