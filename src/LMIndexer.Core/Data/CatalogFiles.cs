using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LMIndexer.Core.Data;

/// <summary>
/// The catalog format shared by <c>../shared/data/amazon-beauty</c> and the synthetic generator:
/// <c>items.jsonl</c> (<c>{"item_id", "title", "brand"?, "description"?, "price"?, "categories": [[…]]}</c>)
/// and <c>sequences.tsv</c> (<c>user_id \t item_id item_id …</c>, oldest first).
/// </summary>
public static class CatalogFiles
{
    public const string ItemsFile = "items.jsonl";
    public const string SequencesFile = "sequences.tsv";

    public static Catalog Load(string directory)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Catalog directory '{directory}' does not exist.");
        var items = ReadItems(Path.Combine(directory, ItemsFile));
        var sequencesPath = Path.Combine(directory, SequencesFile);
        var users = File.Exists(sequencesPath) ? ReadSequences(sequencesPath) : [];
        return new Catalog(items, users);
    }

    public static List<CatalogItem> ReadItems(string path) => [.. EnumerateItems(path)];

    /// <summary>The items one at a time, for catalogs too large to hold (the scale benchmark's million items).</summary>
    public static IEnumerable<CatalogItem> EnumerateItems(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"Item file '{path}' does not exist.", path);
        return Enumerate(path);
    }

    private static IEnumerable<CatalogItem> Enumerate(string path)
    {
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            ItemLine? row;
            try
            {
                row = JsonSerializer.Deserialize(line, CatalogJson.Default.ItemLine);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: invalid JSON ({e.Message}).", e);
            }
            if (row?.ItemId is not { Length: > 0 } id)
                throw new InvalidDataException($"{path}:{lineNumber}: item_id is missing.");
            yield return new CatalogItem(id, row.Title, row.Description, row.Brand, row.Price, row.Categories);
        }
    }

    public static List<UserSequence> ReadSequences(string path) => [.. EnumerateSequences(path)];

    /// <summary>The users of a <c>sequences.tsv</c> one at a time, so a million-user catalog need not be held whole.</summary>
    public static IEnumerable<UserSequence> EnumerateSequences(string path)
    {
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            var tab = line.IndexOf('\t', StringComparison.Ordinal);
            if (tab <= 0)
                throw new InvalidDataException($"{path}:{lineNumber}: expected 'user_id<TAB>item item …'.");
            var items = line[(tab + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            yield return new UserSequence(line[..tab], items);
        }
    }

    public static void Save(string directory, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        using var writer = new CatalogWriter(directory);
        foreach (var item in catalog.Items)
            writer.Add(item);
        foreach (var user in catalog.Users)
            writer.Add(user);
        writer.Complete();
    }

    internal static string ItemLineJson(CatalogItem item) =>
        JsonSerializer.Serialize(new ItemLine(item.ItemId, item.Title, item.Brand, item.Description, item.Price, item.Categories?.Select(p => p.ToList()).ToList()), CatalogJson.Default.ItemLine);

    internal sealed record ItemLine(
        [property: JsonPropertyName("item_id")] string? ItemId,
        [property: JsonPropertyName("title")] string? Title,
        [property: JsonPropertyName("brand")] string? Brand,
        [property: JsonPropertyName("description")] string? Description,
        [property: JsonPropertyName("price")] decimal? Price,
        [property: JsonPropertyName("categories")] List<List<string>>? Categories);
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, NumberHandling = JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(CatalogFiles.ItemLine))]
[JsonSerializable(typeof(NumericItemLine))]
[JsonSerializable(typeof(DocumentLine))]
[JsonSerializable(typeof(QueryLine))]
internal sealed partial class CatalogJson : JsonSerializerContext;

internal sealed record NumericItemLine(
    [property: JsonPropertyName("item_id")] long ItemId,
    [property: JsonPropertyName("attributes")] List<long>? Attributes);

internal sealed record DocumentLine(
    [property: JsonPropertyName("id")] JsonElement Id,
    [property: JsonPropertyName("title")] string? Title,
    [property: JsonPropertyName("text")] string? Text);

internal sealed record QueryLine(
    [property: JsonPropertyName("id")] JsonElement Id,
    [property: JsonPropertyName("text")] string? Text);

internal static class JsonIds
{
    public static string AsString(JsonElement id) => id.ValueKind switch
    {
        JsonValueKind.String => id.GetString() ?? string.Empty,
        JsonValueKind.Number => id.GetRawText(),
        _ => throw new InvalidDataException($"Unsupported id value '{id.GetRawText()}'."),
    };

    public static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
