using LMIndexer.Core.Text;

namespace LMIndexer.Core.Encoders;

/// <summary>The text encoders the semantic indexer can read items with, by the names recipes use.</summary>
public static class TextEncoders
{
    /// <summary>The backbone's own T5 encoder, pretrained from scratch on the catalog (the paper's setting at a small scale).</summary>
    public const string T5Scratch = "t5-scratch";

    public static IReadOnlyList<string> Names { get; } = [T5Scratch, .. PretrainedEncoderPackage.All.Select(p => p.Name)];

    public static string NamesText => string.Join(", ", Names);

    public static bool IsKnown(string name) => Names.Contains(name, StringComparer.Ordinal);

    /// <summary>The packaged pretrained encoder of that name; null for <see cref="T5Scratch"/>.</summary>
    public static PretrainedEncoderPackage? Package(string name) =>
        name == T5Scratch ? null : PretrainedEncoderPackage.Named(name);

    /// <summary>The subword encoding a catalog tokenizer must be built on for this encoder.</summary>
    public static BaseEncoding BaseEncodingFor(string name) =>
        Package(name) is { } package ? BaseEncoding.WordPiece(package) : BaseEncoding.Cl100k;
}
