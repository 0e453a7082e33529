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

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        BsonDocument? document;
        lock (shared.Gate)
            document = Collection(grainId).FindById(DocumentId(grainId));
        if (document is null)
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return Task.CompletedTask;
        }
        grainState.State = GrainStateJson.Deserialize<T>(JsonSerializer.Serialize(document[Document])) ?? Activator.CreateInstance<T>();
        grainState.ETag = document[ETag].AsString;
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var etag = NewETag();
        var document = new BsonDocument
        {
            [Id] = DocumentId(grainId),
            [ETag] = etag,
            [Document] = JsonSerializer.Deserialize(GrainStateJson.Serialize(grainState.State)),
        };
        lock (shared.Gate)
        {
            var collection = Collection(grainId);
            var stored = collection.FindById(DocumentId(grainId))?[ETag].AsString;
            if (stored != grainState.ETag)
                throw Conflict(stateName, grainId, stored, grainState.ETag);
            if (stored is null)
                collection.Insert(document);
            else
                collection.Update(document);
        }
        grainState.ETag = etag;
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        lock (shared.Gate)
        {
            var collection = Collection(grainId);
            var stored = collection.FindById(DocumentId(grainId))?[ETag].AsString;
            if (stored != grainState.ETag)
                throw Conflict(stateName, grainId, stored, grainState.ETag);
            if (stored is not null)
                collection.Delete(DocumentId(grainId));
        }
        grainState.ETag = null;
        grainState.RecordExists = false;
        grainState.State = Activator.CreateInstance<T>();
        return Task.CompletedTask;
    }

    public void Dispose() => shared.Dispose();

    private ILiteCollection<BsonDocument> Collection(GrainId grainId) =>
        shared.Database.GetCollection(GrainStorageKeys.Collection(options.CollectionPrefix, grainId));

    private InconsistentStateException Conflict(string stateName, GrainId grainId, string? stored, string? expected) =>
        new($"Storage '{name}': state '{stateName}' of {grainId} was written by someone else (stored etag {stored ?? "none"}, expected {expected ?? "none"}).",
            stored ?? "", expected ?? "");
}
