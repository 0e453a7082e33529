using MongoDB.Bson;
using MongoDB.Bson.IO;
using MongoDB.Driver;
using Orleans.Storage;
using static LMIndexer.Storage.GrainStorageKeys;

namespace LMIndexer.Storage.MongoDB;

/// <summary>
/// Grain storage on MongoDB: one collection per grain type, one document per named state of a grain
/// (<see cref="GrainStorageKeys"/>), the state under <c>_doc</c> as a BSON document from
/// System.Text.Json (see <see cref="GrainStateJson"/>). Writes are conditional on <c>_id</c> +
/// <c>_etag</c>: a lost race surfaces as <see cref="InconsistentStateException"/>, never as a
/// silent overwrite.
/// </summary>
public sealed class MongoGrainStorage(string name, MongoDBStorageOptions options) : IGrainStorage
{
    private static readonly JsonWriterSettings Relaxed = new() { OutputMode = JsonOutputMode.RelaxedExtendedJson };
    private readonly MongoConnection connection = options.Connect();
    private IMongoDatabase Database => connection.Client.GetDatabase(options.Database);

    public string Name => name;

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        using var lease = await connection.EnterAsync();
        ArgumentNullException.ThrowIfNull(grainState);
        var document = await ReadRecordAsync(stateName, grainId);
        if (document is null)
            GrainStates.SetMissing(grainState);
        else
            GrainStates.SetLoaded(grainState, document[Document].AsBsonDocument.ToJson(Relaxed), document[ETag].AsString);
    }

    /// <summary>
    /// The state's record, found with the grain's record of the old layout in one query; an old
    /// record is moved to the state's key (keeping its etag, so the activation's next write still
    /// checks against it) and then deleted.
    /// </summary>
    private async Task<BsonDocument?> ReadRecordAsync(string stateName, GrainId grainId)
    {
        var collection = Collection(grainId);
        var recordId = RecordId(stateName, grainId);
        var legacyId = LegacyRecordId(grainId);
        var found = await collection.Find(Builders<BsonDocument>.Filter.In(Id, new[] { recordId, legacyId })).ToListAsync();
        if (found.FirstOrDefault(d => d[Id] == recordId) is { } record)
            return record.Contains(State) ? record : throw new InvalidOperationException(LegacyCollision(name, collection.CollectionNamespace.CollectionName, recordId));
        if (found.FirstOrDefault(d => d[Id] == legacyId && !d.Contains(State)) is not { } legacy)
            return null;
        var moved = new BsonDocument { { Id, recordId }, { State, stateName }, { ETag, legacy[ETag] }, { Document, legacy[Document] } };
        try
        {
            await collection.InsertOneAsync(moved);
        }
        catch (Exception e) when (MongoDuplicateKey.Is(e))
        {
            // another silo moved it first: its copy is the record
            return await collection.Find(Builders<BsonDocument>.Filter.Eq(Id, recordId)).FirstOrDefaultAsync();
        }
        await collection.DeleteOneAsync(Builders<BsonDocument>.Filter.And(
            Builders<BsonDocument>.Filter.Eq(Id, legacyId), Builders<BsonDocument>.Filter.Eq(ETag, legacy[ETag]), Builders<BsonDocument>.Filter.Exists(State, false)));
        return moved;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        using var lease = await connection.EnterAsync();
        ArgumentNullException.ThrowIfNull(grainState);
        var etag = NewETag();
        var document = new BsonDocument
        {
            { Id, RecordId(stateName, grainId) },
            { State, stateName },
            { ETag, etag },
            { Document, BsonDocument.Parse(GrainStateJson.Serialize(grainState.State)) },
        };
        var collection = Collection(grainId);
        if (grainState.ETag is null)
        {
            try
            {
                await collection.InsertOneAsync(document);
            }
            catch (Exception e) when (MongoDuplicateKey.Is(e))
            {
                throw await ConflictAsync(collection, stateName, grainId, null, e);
            }
        }
        else
        {
            var result = await collection.ReplaceOneAsync(ByIdAndETag(stateName, grainId, grainState.ETag), document);
            if (result.MatchedCount == 0)
                throw await ConflictAsync(collection, stateName, grainId, grainState.ETag, null);
        }
        grainState.ETag = etag;
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        using var lease = await connection.EnterAsync();
        ArgumentNullException.ThrowIfNull(grainState);
        if (grainState.ETag is not null)
        {
            var collection = Collection(grainId);
            var result = await collection.DeleteOneAsync(ByIdAndETag(stateName, grainId, grainState.ETag));
            if (result.DeletedCount == 0)
                throw await ConflictAsync(collection, stateName, grainId, grainState.ETag, null);
        }
        GrainStates.SetMissing(grainState);
    }

    private IMongoCollection<BsonDocument> Collection(GrainId grainId) =>
        Database.GetCollection<BsonDocument>(GrainStorageKeys.Collection(options.CollectionPrefix, grainId));

    private static FilterDefinition<BsonDocument> ByIdAndETag(string stateName, GrainId grainId, string etag) =>
        Builders<BsonDocument>.Filter.And(Builders<BsonDocument>.Filter.Eq(Id, RecordId(stateName, grainId)), Builders<BsonDocument>.Filter.Eq(ETag, etag));

    /// <summary>The conflict with the etag storage holds now (one read, only on a conflict), for the operator's log.</summary>
    private async Task<InconsistentStateException> ConflictAsync(IMongoCollection<BsonDocument> collection, string stateName, GrainId grainId, string? expected, Exception? inner)
    {
        var stored = await collection.Find(Builders<BsonDocument>.Filter.Eq(Id, RecordId(stateName, grainId)))
            .Project(Builders<BsonDocument>.Projection.Include(ETag)).FirstOrDefaultAsync();
        var storedETag = stored is not null && stored.TryGetValue(ETag, out var value) ? value.AsString : null;
        return new($"Storage '{name}': state '{stateName}' of {grainId} was written by someone else (stored etag {storedETag ?? "none"}, expected {expected ?? "none: first write"}){(inner is null ? "" : $": {inner.Message}")}.",
            storedETag ?? "", expected ?? "");
    }
}
