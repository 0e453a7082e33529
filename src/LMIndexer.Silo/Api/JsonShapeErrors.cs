using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace LMIndexer.Silo.Api;

/// <summary>
/// Turns a body that is valid JSON of the wrong shape into a field error a client developer can
/// act on ("userId: must be a string"), never the name of a .NET type.
/// </summary>
internal static partial class JsonShapeErrors
{
    public static ValidationException For<T>(JsonException exception)
    {
        // Paths are "$.userId", "$[2].price" or "$.categories[0]": the field is that path without "$.".
        var field = (exception.Path ?? "$").TrimStart('$').TrimStart('.');
        var name = TopProperty().Match(field).Groups[1].Value;
        var property = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
        var reason = property is null ? "must be a JSON object with the documented fields" : $"must be {Describe(property.PropertyType)}";
        return new ValidationException(new Dictionary<string, string[]> { [field.Length == 0 ? "body" : field] = [reason] });
    }

    private static string Describe(Type type) => (Nullable.GetUnderlyingType(type) ?? type) switch
    {
        var t when t == typeof(string) => "a string",
        var t when t == typeof(decimal) || t == typeof(double) || t == typeof(int) || t == typeof(long) => "a number",
        var t when t == typeof(DateTimeOffset) => "an ISO 8601 time, e.g. \"2026-12-05T10:00:00Z\"",
        var t when t == typeof(IReadOnlyList<IReadOnlyList<string>>) => "an array of category paths, each an array of strings, e.g. [[\"Beauty\", \"Serums\"]]",
        _ => "a value of the documented type",
    };

    [GeneratedRegex(@"^(?:\[\d+\]\.?)?([A-Za-z]*)")]
    private static partial Regex TopProperty();
}
