using System.Text.Json;
using System.Text.Json.Serialization;

namespace LMIndexer.Storage;

/// <summary>
/// Grain state as JSON, the form both document stores keep under <c>_doc</c>.
/// </summary>
/// <remarks>
/// System.Text.Json rather than Orleans' binary serializer: the stored documents stay readable and
/// queryable by operators (a user's history, an item's IDs per version), and the grain states of
/// this project are plain records and classes with public properties, which STJ round-trips with
/// no type metadata. Orleans' own JSON serializer (Newtonsoft) writes <c>$type</c> members, which
/// MongoDB rejects as field names.
/// </remarks>
public static class GrainStateJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.General)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };

    public static string Serialize<T>(T state) => JsonSerializer.Serialize(state, Options);

    public static T? Deserialize<T>(string json) => JsonSerializer.Deserialize<T>(json, Options);
}
