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
