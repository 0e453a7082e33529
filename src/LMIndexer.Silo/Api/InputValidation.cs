using LMIndexer.Abstractions;

namespace LMIndexer.Silo.Api;

/// <summary>
/// Checks every input before it reaches a grain; failures become 400 problem details listing each
/// bad field (<see cref="ValidationException"/>).
/// </summary>
public static class InputValidation
{
    public const int MaxIdLength = 128;
    public const int MaxBatch = 1000;
    public const int MaxTitleLength = 1000;
    public const int MaxDescriptionLength = 20_000;
    public const int MaxBrandLength = 200;
    public const int MaxCategoryPaths = 20;
    public const int MaxCategoryDepth = 12;
    public const int MaxCategoryLength = 200;
    public const int MaxImageUrlLength = 2000;

    /// <summary>Event times may run ahead of the server clock by this much (client clocks drift), no more.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromDays(1);

    public static void Id(Dictionary<string, string[]> errors, string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
            errors[field] = ["is required"];
        else if (value.Length > MaxIdLength)
            errors[field] = [$"is longer than {MaxIdLength} characters"];
        // Checked decoded too: the router leaves %2F encoded in a path segment, so "..%2F..%2Fetc" arrives as it was sent.
        else if (new[] { value, Uri.UnescapeDataString(value) }.Any(v => v.IndexOfAny(['/', '\\']) >= 0 || v.Any(char.IsControl)))
            errors[field] = ["may not contain '/', '\\' or control characters, encoded or not"];
    }

    public static UserEvent Event(EventDto dto, string prefix, Dictionary<string, string[]> errors, TimeProvider clock)
    {
        Id(errors, $"{prefix}userId", dto.UserId);
        Id(errors, $"{prefix}itemId", dto.ItemId);
        if (dto.EventId is not null)
            Id(errors, $"{prefix}eventId", dto.EventId);
        var type = EventType.View;
        // Names only: Enum.TryParse would also take "1" or "42" (numbers, even undefined ones).
        if (dto.Type is not null && (dto.Type.Length == 0 || !char.IsLetter(dto.Type[0]) || !Enum.TryParse(dto.Type, ignoreCase: true, out type) || !Enum.IsDefined(type)))
            errors[$"{prefix}type"] = [$"must be one of {string.Join(", ", Enum.GetNames<EventType>().Select(n => n.ToLowerInvariant()))}"];
        if (dto.Time is { } time && (time > clock.GetUtcNow() + MaxClockSkew || time.Year < 1990))
            errors[$"{prefix}time"] = ["is not a plausible event time"];
        return new UserEvent(dto.EventId ?? Guid.NewGuid().ToString("N"), dto.UserId ?? "", dto.ItemId ?? "", type, dto.Time ?? clock.GetUtcNow());
    }

    public static ItemRecord Item(ItemDto dto, string prefix, Dictionary<string, string[]> errors)
    {
        Id(errors, $"{prefix}itemId", dto.ItemId);
        if (string.IsNullOrWhiteSpace(dto.Title) && string.IsNullOrWhiteSpace(dto.Description))
            errors[$"{prefix}title"] = ["an item needs a title or a description"];
        if (dto.Price is < 0)
            errors[$"{prefix}price"] = ["cannot be negative"];
        if (dto.Title?.Length > MaxTitleLength)
            errors[$"{prefix}title"] = [$"is longer than {MaxTitleLength} characters"];
        if (dto.Description?.Length > MaxDescriptionLength)
            errors[$"{prefix}description"] = [$"is longer than {MaxDescriptionLength} characters"];
        if (dto.Brand?.Length > MaxBrandLength)
            errors[$"{prefix}brand"] = [$"is longer than {MaxBrandLength} characters"];
        if (dto.Categories is { } paths && (paths.Count > MaxCategoryPaths
            || paths.Any(p => p is null || p.Count > MaxCategoryDepth || p.Any(c => string.IsNullOrWhiteSpace(c) || c.Length > MaxCategoryLength))))
        {
            errors[$"{prefix}categories"] = [$"at most {MaxCategoryPaths} paths of at most {MaxCategoryDepth} non-empty names of at most {MaxCategoryLength} characters"];
        }
        if (dto.ImageUrl is { } image && (image.Length > MaxImageUrlLength || !Uri.TryCreate(image, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https")))
            errors[$"{prefix}imageUrl"] = [$"must be an absolute http or https URL of at most {MaxImageUrlLength} characters"];
        return new ItemRecord(dto.ItemId ?? "", dto.Title, dto.Description, dto.Brand, dto.Price, dto.Categories, dto.ImageUrl);
    }

    /// <summary>A whole number between 1 and <paramref name="max"/> from the query string (<paramref name="fallback"/> when absent).</summary>
    public static int Count(Dictionary<string, string[]> errors, string field, string? raw, int fallback, int max)
    {
        if (raw is null)
            return fallback;
        if (!int.TryParse(raw, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var count) || count < 1 || count > max)
        {
            errors[field] = [$"must be a whole number between 1 and {max}"];
            return fallback;
        }
        return count;
    }

    public static void ThrowIfAny(Dictionary<string, string[]> errors)
    {
        if (errors.Count > 0)
            throw new ValidationException(errors);
    }
}

/// <summary>Invalid request input, by field.</summary>
public sealed class ValidationException(IDictionary<string, string[]> errors) : Exception("The request has invalid fields.")
{
    public IDictionary<string, string[]> Errors { get; } = errors;
}
