namespace LMIndexer.Core.Model.Bert;

/// <summary>Sizes of a BERT encoder. Field names follow Hugging Face's BertConfig.</summary>
public sealed record BertConfig
{
    public int VocabSize { get; init; } = 30_522;
    public int HiddenSize { get; init; } = 384;
    public int NumHiddenLayers { get; init; } = 6;
    public int NumAttentionHeads { get; init; } = 12;
    public int IntermediateSize { get; init; } = 1_536;
    public int MaxPositionEmbeddings { get; init; } = 512;
    public int TypeVocabSize { get; init; } = 2;
    public double LayerNormEps { get; init; } = 1e-12;
    public double HiddenDropoutProb { get; init; } = 0.1;
    public double AttentionProbsDropoutProb { get; init; } = 0.1;
    public int PadTokenId { get; init; }

    /// <summary>all-MiniLM-L6-v2 and snowflake-arctic-embed-xs: 6 layers, 384 wide, 12 heads, FFN 1,536.</summary>
    public static BertConfig MiniLmL6 { get; } = new();

    public IEnumerable<string> Errors()
    {
        if (HiddenSize <= 0 || NumAttentionHeads <= 0 || HiddenSize % NumAttentionHeads != 0)
            yield return $"hidden size {HiddenSize} must be a positive multiple of the {NumAttentionHeads} heads";
        if (NumHiddenLayers <= 0 || IntermediateSize <= 0 || VocabSize <= 0 || MaxPositionEmbeddings <= 0)
            yield return "layers, intermediate size, vocabulary and positions must be positive";
    }
}
