using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace LMIndexer.Core.Recipes;

/// <summary>
/// Reads and writes recipe files: JSON in the shape of <see cref="TrainingRecipe"/> (camelCase
/// fields, kebab-case enum values); fields left out keep their defaults, unknown fields are refused,
/// and <c>Path=Value</c> overrides are applied before the recipe is validated.
/// </summary>
public static class RecipeFile
{
    /// <summary>The recipe files' JSON conventions.</summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        IgnoreReadOnlyProperties = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = true,
    };

    /// <summary>The recipe in <paramref name="json"/> with <paramref name="overrides"/> (<c>recommender.fineTune.steps=500</c>) applied, validated.</summary>
    public static TrainingRecipe Parse(string json, IEnumerable<string> overrides)
    {
        var recipe = Deserialize(json);
        var tree = JsonSerializer.SerializeToNode(recipe, Options)!.AsObject();
        foreach (var assignment in overrides)
            Apply(tree, assignment);
        recipe = Deserialize(tree.ToJsonString());
        recipe.Validate();
        return recipe;
    }

    /// <summary>The fully resolved recipe, every field written (what a bundle's manifest records).</summary>
    public static string Serialize(TrainingRecipe recipe) => JsonSerializer.Serialize(recipe, Options);

    private static TrainingRecipe Deserialize(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<TrainingRecipe>(json, Options) ?? throw new RecipeException([new("(recipe)", "the file holds no recipe")]);
        }
        catch (JsonException e)
        {
            var field = FieldOf(e.Path);
            var reason = e.Message.Contains("could not be mapped", StringComparison.Ordinal) ? "unknown field"
                : e.Path is null ? "not valid JSON" : "not a valid value for this field";
            throw new RecipeException([new(field, reason)]);
        }
    }

    private static void Apply(JsonObject tree, string assignment)
    {
        var equals = assignment.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
            throw new RecipeException([new(assignment, "an override is Path=Value, e.g. recommender.fineTune.steps=500")]);
        var path = assignment[..equals].Trim();
        var text = assignment[(equals + 1)..].Trim();
        var segments = path.Split('.');
        JsonObject node = tree;
        for (var i = 0; i < segments.Length; i++)
        {
            var key = node.Select(kv => kv.Key).FirstOrDefault(k => string.Equals(k, segments[i], StringComparison.OrdinalIgnoreCase))
                ?? throw new RecipeException([new(path, "unknown field")]);
            if (i == segments.Length - 1)
            {
                node[key] = ParseValue(text);
                return;
            }
            node = node[key] as JsonObject ?? throw new RecipeException([new(path, $"{string.Join('.', segments[..(i + 1)])} has no fields")]);
        }
    }

    /// <summary>JSON literals (numbers, true, null, arrays, quoted strings) as themselves; anything else as a string.</summary>
    private static JsonNode? ParseValue(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return JsonValue.Create(text);
        }
    }

    /// <summary><c>$.recommender.fineTune.steps</c> → <c>recommender.fineTune.steps</c>.</summary>
    private static string FieldOf(string? jsonPath) =>
        string.IsNullOrEmpty(jsonPath) || jsonPath == "$" ? "(recipe)" : jsonPath.TrimStart('$', '.').ToString(CultureInfo.InvariantCulture);
}
