using System.Text.Json.Serialization;

namespace LMIndexer.Core.Model;

/// <summary>Feed-forward flavour: T5 1.0 uses ReLU, T5 1.1 / Flan-T5 use gated GELU.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FeedForwardKind>))]
public enum FeedForwardKind
{
    Relu,
    GatedGelu,
}

/// <summary>Sizes of a T5-style encoder–decoder. Field names follow Hugging Face's T5Config.</summary>
public sealed record T5Config
{
    public required int VocabSize { get; init; }
    public int DModel { get; init; } = 256;
    public int DKv { get; init; } = 32;
    public int DFf { get; init; } = 1024;
    public int NumLayers { get; init; } = 4;
    public int NumDecoderLayers { get; init; } = 4;
    public int NumHeads { get; init; } = 8;
    public int RelativeAttentionNumBuckets { get; init; } = 32;
    public int RelativeAttentionMaxDistance { get; init; } = 128;
    public double DropoutRate { get; init; } = 0.1;
    public double LayerNormEpsilon { get; init; } = 1e-6;
    public FeedForwardKind FeedForward { get; init; } = FeedForwardKind.Relu;

    /// <summary>Tied input/output embedding; the LM head then rescales by d_model^-0.5 as T5 does.</summary>
    public bool TieWordEmbeddings { get; init; } = true;

    /// <summary>
    /// Encoder-only item embeddings: source tokens from <see cref="VocabSize"/> up to
    /// <see cref="VocabSize"/> + this count stand for catalog items, one learned vector each. They
    /// give a recommender reading ID sources SASRec's item-level memory (what tends to follow this
    /// very item) without growing the decoder's vocabulary or LM head. 0: none (every bundle before it).
    /// </summary>
    public int SourceItemCount { get; init; }

    /// <summary>
    /// A dense item head beside the ID tokens (LIGER's hybrid, Yang et al. 2024): the decoder's
    /// first-step state, projected, scored against the item vectors of <see cref="SourceItemCount"/>
    /// (tied, as SASRec ties its input and output item embeddings). It lets a recommender rank the
    /// beam's items, and items the beam missed, by item-level similarity as well as by their IDs.
    /// Needs item vectors. False: none (every bundle before it).
    /// </summary>
    public bool DenseItemHead { get; init; }

    public int PadTokenId { get; init; }
    public int EosTokenId { get; init; } = 1;
    public int DecoderStartTokenId { get; init; }

    /// <summary>
    /// The size that commands start from when none is named: on two CPU cores tiny learns better IDs
    /// within the budget than small (docs/decisions/001-default-model-size.md).
    /// </summary>
    public const string DefaultSizeName = "tiny";

    /// <summary>d_model 64, 4 heads × 16, d_ff 128, 2 + 2 layers: the default on CPUs (<see cref="DefaultSizeName"/>).</summary>
    public static T5Config Tiny(int vocabSize) => new()
    {
        VocabSize = vocabSize,
        DModel = 64,
        DKv = 16,
        DFf = 128,
        NumLayers = 2,
        NumDecoderLayers = 2,
        NumHeads = 4,
    };

    /// <summary>
    /// d_model 128, 4 heads × 32, d_ff 1024, 2 + 2 layers: the step between tiny and small for
    /// recommenders trained fresh on ID sources (docs/decisions/001-default-model-size.md).
    /// </summary>
    public static T5Config Mini(int vocabSize) => Tiny(vocabSize) with { DModel = 128, DKv = 32, DFf = 1024 };

    /// <summary>d_model 256, 8 heads × 32, d_ff 1024, 4 + 4 layers (≈11M parameters with a 20k vocabulary).</summary>
    public static T5Config Small(int vocabSize) => new() { VocabSize = vocabSize };

    /// <summary>t5-base shapes: d=768, 12 heads of 64, d_ff=3072, 12+12 layers.</summary>
    public static T5Config Base(int vocabSize) => new()
    {
        VocabSize = vocabSize,
        DModel = 768,
        DKv = 64,
        DFf = 3072,
        NumLayers = 12,
        NumDecoderLayers = 12,
        NumHeads = 12,
    };

    // One table, so the names the CLI accepts and the sizes Preset builds cannot drift apart.
    private static readonly (string Name, Func<int, T5Config> Build)[] Presets =
        [("tiny", Tiny), ("mini", Mini), ("small", Small), ("base", Base)];

    /// <summary>The names <see cref="Preset"/> knows, smallest first.</summary>
    public static IReadOnlyList<string> PresetNames { get; } = [.. Presets.Select(p => p.Name)];

    /// <summary>The preset names as a sentence reads them ("tiny, mini, small or base"), for help texts and errors.</summary>
    public static string PresetNamesText { get; } = $"{string.Join(", ", PresetNames.SkipLast(1))} or {PresetNames[^1]}";

    /// <summary>A named preset: tiny, mini, small or base.</summary>
    public static T5Config Preset(string name, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var (presetName, build) in Presets)
        {
            if (string.Equals(presetName, name, StringComparison.OrdinalIgnoreCase))
                return build(vocabSize);
        }
        throw new ArgumentException($"Unknown model size '{name}'; expected {PresetNamesText}.", nameof(name));
    }

    public int InnerDim => NumHeads * DKv;

    /// <summary>Throws when sizes cannot form a model.</summary>
    public void Validate()
    {
        if (VocabSize <= 0 || DModel <= 0 || DKv <= 0 || DFf <= 0 || NumHeads <= 0 || NumLayers < 0 || NumDecoderLayers < 0)
            throw new ArgumentException($"Invalid model sizes: {this}");
        if (RelativeAttentionNumBuckets < 2 || RelativeAttentionMaxDistance < 2)
            throw new ArgumentException("Relative attention needs at least 2 buckets and a max distance of at least 2.");
        if (DropoutRate is < 0 or >= 1)
            throw new ArgumentException($"Dropout rate {DropoutRate} must be in [0, 1).");
        if (SourceItemCount < 0)
            throw new ArgumentException($"Source item count {SourceItemCount} must not be negative.");
        if (DenseItemHead && SourceItemCount == 0)
            throw new ArgumentException("A dense item head scores item vectors; it needs a source item count above 0.");
    }
}
