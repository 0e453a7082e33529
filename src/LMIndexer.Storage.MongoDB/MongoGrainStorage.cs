using MongoDB.Bson;
using MongoDB.Bson.IO;
using MongoDB.Driver;
using Orleans.Storage;
using static LMIndexer.Storage.GrainStorageKeys;

namespace LMIndexer.Storage.MongoDB;

/// <summary>
/// Grain storage on MongoDB: one collection per grain type, documents <c>{_id, _etag, _doc}</c> as
/// the community Orleans.Providers.MongoDB lays them out (so existing data can migrate), the state
/// under <c>_doc</c> as a BSON document from System.Text.Json (see <see cref="GrainStateJson"/>).
/// Writes are conditional on <c>_id</c> + <c>_etag</c>: a lost race surfaces as
/// <see cref="InconsistentStateException"/>, never as a silent overwrite.
/// </summary>
public sealed class MongoGrainStorage(string name, MongoDBStorageOptions options) : IGrainStorage
{
    private static readonly JsonWriterSettings Relaxed = new() { OutputMode = JsonOutputMode.RelaxedExtendedJson };
    private readonly IMongoDatabase database = options.OpenDatabase();

    public string Name => name;

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var document = await Collection(grainId).Find(ById(grainId)).FirstOrDefaultAsync();
        if (document is null)
            GrainStates.SetMissing(grainState);
        else
            GrainStates.SetLoaded(grainState, document[Document].AsBsonDocument.ToJson(Relaxed), document[ETag].AsString);
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var etag = NewETag();
        var document = new BsonDocument
        {
            { Id, DocumentId(grainId) },
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
                throw Conflict(stateName, grainId, null, e);
            }
        }
        else
        {
            var result = await collection.ReplaceOneAsync(ByIdAndETag(grainId, grainState.ETag), document);
            if (result.MatchedCount == 0)
                throw Conflict(stateName, grainId, grainState.ETag, null);
        }
        grainState.ETag = etag;
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        if (grainState.ETag is not null)
        {
            var result = await Collection(grainId).DeleteOneAsync(ByIdAndETag(grainId, grainState.ETag));
            if (result.DeletedCount == 0)
                throw Conflict(stateName, grainId, grainState.ETag, null);
        }
        GrainStates.SetMissing(grainState);
    }

    private IMongoCollection<BsonDocument> Collection(GrainId grainId) =>
        database.GetCollection<BsonDocument>(GrainStorageKeys.Collection(options.CollectionPrefix, grainId));

    private static FilterDefinition<BsonDocument> ById(GrainId grainId) => Builders<BsonDocument>.Filter.Eq(Id, DocumentId(grainId));

    private static FilterDefinition<BsonDocument> ByIdAndETag(GrainId grainId, string etag) =>
        Builders<BsonDocument>.Filter.And(ById(grainId), Builders<BsonDocument>.Filter.Eq(ETag, etag));

    private InconsistentStateException Conflict(string stateName, GrainId grainId, string? expected, Exception? inner) =>
        new($"Storage '{name}': state '{stateName}' of {grainId} was written by someone else (expected etag {expected ?? "none: first write"}){(inner is null ? "" : $": {inner.Message}")}.",
            "unknown", expected ?? "");
}
