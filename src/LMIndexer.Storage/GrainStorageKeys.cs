using System.Text;

namespace LMIndexer.Storage;

/// <summary>Where a grain's state lives in a document store: one collection per grain type, the grain key as <c>_id</c>.</summary>
public static class GrainStorageKeys
{
    public const string Id = "_id";
    public const string ETag = "_etag";
    public const string Document = "_doc";

    /// <summary>The collection of a grain type: the prefix, then the type with characters outside [A-Za-z0-9_] replaced.</summary>
    public static string Collection(string prefix, GrainId grainId)
    {
        var type = grainId.Type.ToString() ?? "grain";
        var name = new StringBuilder(prefix.Length + type.Length).Append(prefix);
        foreach (var c in type)
            name.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        return name.ToString();
    }

    /// <summary>The document id of a grain within its type's collection.</summary>
    public static string DocumentId(GrainId grainId) => grainId.Key.ToString() ?? "";

    /// <summary>A new, unguessable version tag for a write.</summary>
    public static string NewETag() => Guid.NewGuid().ToString("N");
}
