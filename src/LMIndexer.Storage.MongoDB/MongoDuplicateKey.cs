using MongoDB.Driver;

namespace LMIndexer.Storage.MongoDB;

/// <summary>A duplicate-key failure, as servers report it: a write error, or a command error 11000 (some wire-compatible servers).</summary>
internal static class MongoDuplicateKey
{
    public static bool Is(Exception e) => e switch
    {
        MongoWriteException write => write.WriteError?.Category == ServerErrorCategory.DuplicateKey,
        MongoCommandException command => command.Code == 11000,
        MongoBulkWriteException bulk => bulk.WriteErrors.Any(w => w.Category == ServerErrorCategory.DuplicateKey),
        _ => false,
    };
}
