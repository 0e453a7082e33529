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

    public static void Id(Dictionary<string, string[]> errors, string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
            errors[field] = ["is required"];
        else if (value.Length > MaxIdLength)
            errors[field] = [$"is longer than {MaxIdLength} characters"];
        else if (value.Contains('/', StringComparison.Ordinal) || value.Any(char.IsControl))
            errors[field] = ["may not contain '/' or control characters"];
    }

    public static UserEvent Event(EventDto dto, string prefix, Dictionary<string, string[]> errors, TimeProvider clock)
    {
        Id(errors, $"{prefix}userId", dto.UserId);
        Id(errors, $"{prefix}itemId", dto.ItemId);
        if (dto.EventId is not null)
            Id(errors, $"{prefix}eventId", dto.EventId);
        var type = EventType.View;
        if (dto.Type is not null && !Enum.TryParse(dto.Type, ignoreCase: true, out type))
            errors[$"{prefix}type"] = [$"must be one of {string.Join(", ", Enum.GetNames<EventType>().Select(n => n.ToLowerInvariant()))}"];
        return new UserEvent(dto.EventId ?? Guid.NewGuid().ToString("N"), dto.UserId ?? "", dto.ItemId ?? "", type, dto.Time ?? clock.GetUtcNow());
    }

    public static ItemRecord Item(ItemDto dto, string prefix, Dictionary<string, string[]> errors)
    {
        Id(errors, $"{prefix}itemId", dto.ItemId);
        if (string.IsNullOrWhiteSpace(dto.Title) && string.IsNullOrWhiteSpace(dto.Description))
            errors[$"{prefix}title"] = ["an item needs a title or a description"];
        if (dto.Price is < 0)
            errors[$"{prefix}price"] = ["cannot be negative"];
        return new ItemRecord(dto.ItemId ?? "", dto.Title, dto.Description, dto.Brand, dto.Price, dto.Categories);
    }

    public static void Count(Dictionary<string, string[]> errors, int count, int max)
    {
        if (count < 1 || count > max)
            errors["count"] = [$"must be between 1 and {max}"];
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
