using System.Text;
using System.Text.Json;
using LiteDB;

namespace LMIndexer.Storage.LiteDb;

/// <summary>
/// BSON → plain JSON for <see cref="GrainStateJson"/>. LiteDB's own JSON writer emits 64-bit integers
/// as <c>{"$numberLong": …}</c>, which System.Text.Json cannot read back into a <c>long</c>.
/// </summary>
internal static class LiteDbJson
{
    public static string Write(BsonValue value)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
            Write(writer, value);
        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    private static void Write(Utf8JsonWriter writer, BsonValue value)
    {
        switch (value.Type)
        {
            case BsonType.Document:
                writer.WriteStartObject();
                foreach (var (name, field) in value.AsDocument)
                {
                    writer.WritePropertyName(name);
                    Write(writer, field);
                }
                writer.WriteEndObject();
                break;
            case BsonType.Array:
                writer.WriteStartArray();
                foreach (var item in value.AsArray)
                    Write(writer, item);
                writer.WriteEndArray();
                break;
            case BsonType.Int32:
                writer.WriteNumberValue(value.AsInt32);
                break;
            case BsonType.Int64:
                writer.WriteNumberValue(value.AsInt64);
                break;
            case BsonType.Double:
                writer.WriteNumberValue(value.AsDouble);
                break;
            case BsonType.Decimal:
                writer.WriteNumberValue(value.AsDecimal);
                break;
            case BsonType.Boolean:
                writer.WriteBooleanValue(value.AsBoolean);
                break;
            case BsonType.String:
                writer.WriteStringValue(value.AsString);
                break;
            case BsonType.DateTime:
                writer.WriteStringValue(value.AsDateTime.ToUniversalTime());
                break;
            case BsonType.Null:
                writer.WriteNullValue();
                break;
            default:
                // Grain state is written from JSON, so nothing else (ObjectId, Binary, Guid …) occurs.
                writer.WriteStringValue(value.ToString());
                break;
        }
    }
}
