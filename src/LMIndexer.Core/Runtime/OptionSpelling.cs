namespace LMIndexer.Core.Runtime;

/// <summary>
/// How an enum option is spelled on the command line, in manifests and in reports: its name in
/// lower case. One spelling for every such option, so a parser and a writer cannot drift apart.
/// </summary>
public static class OptionSpelling
{
    public static string Name<TEnum>(TEnum value) where TEnum : struct, Enum => value.ToString().ToLowerInvariant();

    /// <summary>The value <see cref="Name{TEnum}"/> spells <paramref name="name"/>; null for an unknown spelling.</summary>
    public static TEnum? Parse<TEnum>(string name) where TEnum : struct, Enum =>
        Enum.GetValues<TEnum>().Cast<TEnum?>().FirstOrDefault(value => Name(value!.Value) == name);

    /// <summary>Every spelling, as an error message lists them ("random, ids, zero").</summary>
    public static string NamesText<TEnum>() where TEnum : struct, Enum => string.Join(", ", Enum.GetValues<TEnum>().Select(Name));
}
