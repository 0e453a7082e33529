using System.Text;

namespace LMIndexer.Storage;

/// <summary>
/// Where a grain's state lives in a document store: one collection per grain type, one record per
/// (state name, grain key) with <c>_id</c> = <see cref="RecordId"/>, the state name again in
/// <c>_state</c>, the version in <c>_etag</c> and the state in <c>_doc</c>.
/// </summary>
/// <remarks>
/// Before state names were part of the key, <c>_id</c> was the grain key alone and there was no
/// <c>_state</c>, so two named states of one grain shared a record. The providers still read such a
/// record (see <see cref="LegacyRecordId"/>) and move it to its new key on first read.
/// </remarks>
public static class GrainStorageKeys
{
    public const string Id = "_id";
    public const string ETag = "_etag";
    public const string Document = "_doc";
    public const string State = "_state";

    /// <summary>The collection of a grain type: the prefix, then the type with characters outside [A-Za-z0-9_] replaced.</summary>
    public static string Collection(string prefix, GrainId grainId)
    {
        var type = grainId.Type.ToString() ?? "grain";
        var name = new StringBuilder(prefix.Length + type.Length).Append(prefix);
        foreach (var c in type)
            name.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        return name.ToString();
    }

    /// <summary>
    /// The record of one named state of a grain within its type's collection: the state name
    /// escaped (it then holds no '/'), a '/', the grain key; so no two (state, key) pairs share an id.
    /// </summary>
    public static string RecordId(string stateName, GrainId grainId)
    {
        ArgumentNullException.ThrowIfNull(stateName);
        return $"{Uri.EscapeDataString(stateName)}/{grainId.Key}";
    }

    /// <summary>The id a grain's record had in the layout before state names were part of the key.</summary>
    public static string LegacyRecordId(GrainId grainId) => grainId.Key.ToString() ?? "";

    /// <summary>Why a record of the old layout blocks a state's record id, for the operator.</summary>
    public static string LegacyCollision(string storage, string collection, string recordId) =>
        $"Storage '{storage}': record '{recordId}' in '{collection}' was written before state names were part of the key, by the grain with that key. " +
        "Read that grain's state once (it moves the record to its new key), then retry.";

    /// <summary>A new, unguessable version tag for a write.</summary>
    public static string NewETag() => Guid.NewGuid().ToString("N");
}
