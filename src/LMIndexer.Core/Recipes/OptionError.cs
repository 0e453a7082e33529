namespace LMIndexer.Core.Recipes;

/// <summary>One invalid setting: the field's path in the recipe (camelCase, dotted) and what is wrong with it.</summary>
public sealed record OptionError(string Field, string Message)
{
    public override string ToString() => $"{Field}: {Message}";
}

/// <summary>A recipe that cannot run: every invalid field at once, each naming its path.</summary>
public sealed class RecipeException(IReadOnlyList<OptionError> errors)
    : ArgumentException(string.Join("; ", errors))
{
    public IReadOnlyList<OptionError> Errors { get; } = errors;
}

/// <summary>The one way an option record refuses itself: every error's message in one exception.</summary>
public static class OptionErrors
{
    public static void ThrowIfAny(IEnumerable<OptionError> errors)
    {
        var messages = errors.Select(e => e.Message).ToList();
        if (messages.Count > 0)
            throw new ArgumentException(string.Join("; ", messages) + ".");
    }
}
