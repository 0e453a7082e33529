using LMIndexer.Core.Encoders;
using LMIndexer.Core.Runtime;
using LMIndexer.Core.Model;
using LMIndexer.Core.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LMIndexer.Core.Indexing;

/// <summary>
/// The indexer during training: the T5 backbone, one codebook per learned position and the
/// reconstructor. h^t is the decoder's final hidden state after <c>[start, &lt;id_0_c1&gt;, …,
/// &lt;id_{t-2}_c_{t-1}&gt;]</c>; the ID-token embedding rows of a finished position hold its
/// codebook (the reference copies codebook 1 into the tied rows before training position 2).
/// </summary>
public sealed class SemanticIndexerModel : NamedModule
{
    private readonly T5Model t5;
    private readonly ModuleList<CodebookQuantizer> codebooks;
    private readonly Reconstructor reconstructor;

    /// <param name="sourceEncoder">A pretrained encoder read instead of the T5 encoder; null reads with T5's own.</param>
    public SemanticIndexerModel(T5Model t5, CatalogTokenizer tokenizer, int positions, int codebookSize, int reconstructorLayers, PretrainedSourceEncoder? sourceEncoder = null)
        : base(nameof(SemanticIndexerModel))
    {
        if (t5.Config.VocabSize != tokenizer.VocabSize)
            throw new ArgumentException($"The model's vocabulary ({t5.Config.VocabSize}) and the tokenizer's ({tokenizer.VocabSize}) differ.");
        if (tokenizer.IdPositionSizes.Count < positions || tokenizer.IdPositionSizes.Take(positions).Any(s => s != codebookSize))
            throw new ArgumentException($"The tokenizer must reserve {positions} ID positions of {codebookSize} codes; it has [{string.Join(", ", tokenizer.IdPositionSizes)}].");
        this.t5 = t5;
        Tokenizer = tokenizer;
        codebooks = new ModuleList<CodebookQuantizer>();
        for (var p = 0; p < positions; p++)
            codebooks.Add(new CodebookQuantizer(codebookSize, t5.Config.DModel));
        reconstructor = new Reconstructor(t5.Config, reconstructorLayers);
        register_module("t5", t5);
        register_module("codebooks", codebooks);
        register_module("reconstructor", reconstructor);
        if (sourceEncoder is not null)
        {
            if (sourceEncoder.Projected != t5.Config.DModel)
                throw new ArgumentException($"The source encoder projects to {sourceEncoder.Projected}; the decoder is {t5.Config.DModel} wide.", nameof(sourceEncoder));
            SourceEncoder = sourceEncoder;
            register_module("source_encoder", sourceEncoder);
        }
    }

    /// <summary>The pretrained encoder the decoder reads, or null when it reads the T5 encoder.</summary>
    public PretrainedSourceEncoder? SourceEncoder { get; }

    public T5Model T5 => t5;
    public CatalogTokenizer Tokenizer { get; }
    public Reconstructor Reconstructor => reconstructor;
    public int Positions => codebooks.Count;

    /// <summary>Codebook of 1-based learned position <paramref name="position"/>.</summary>
    public CodebookQuantizer Codebook(int position) => codebooks[position - 1];

    /// <summary>
    /// Decoder states for items whose earlier codes are <paramref name="prefixCodes"/> ([batch, t−1]).
    /// All: [batch, t, d_model]; Last (= h^t): [batch, d_model].
    /// </summary>
    public (Tensor Last, Tensor All) DecoderStates(Tensor ids, Tensor mask, Tensor prefixCodes) =>
        DecoderStatesOf(EncodeSource(ids, mask), mask, prefixCodes);

    /// <summary>The item text's encoder states, which every position's decoding reads. // [batch, src, d_model]</summary>
    public Tensor EncodeSource(Tensor ids, Tensor mask) => SourceEncoder?.Encode(ids, mask) ?? t5.Encode(ids, mask);

    /// <summary><see cref="DecoderStates(Tensor, Tensor, Tensor)"/> from encoder states already computed.</summary>
    public (Tensor Last, Tensor All) DecoderStatesOf(Tensor encoded, Tensor mask, Tensor prefixCodes)
    {
        var decoderInput = DecoderInput(prefixCodes, encoded.device);                // [batch, t]
        var all = t5.Decode(decoderInput, encoded, mask);                            // [batch, t, d_model]
        return (all[.., -1], all);
    }

    /// <summary>[start, ID tokens of the prefix]. // [batch, t]</summary>
    public Tensor DecoderInput(Tensor prefixCodes, Device device)
    {
        var batch = prefixCodes.shape[0];
        var start = TensorArithmetic.Full(batch, 1, t5.Config.DecoderStartTokenId, ScalarType.Int64, device);
        return prefixCodes.shape[1] == 0 ? start : torch.cat([start, IdTokenIds(prefixCodes)], 1);
    }

    /// <summary>Codes → vocabulary ids of their ID tokens (column p is position p). // [batch, t−1]</summary>
    public Tensor IdTokenIds(Tensor prefixCodes)
    {
        var offsets = Enumerable.Range(0, (int)prefixCodes.shape[1]).Select(p => (long)Tokenizer.IdTokenOffset(p)).ToArray();
        return prefixCodes.Plus(torch.tensor(offsets, device: prefixCodes.device).unsqueeze(0));
    }

    /// <summary>Copies codebook <paramref name="position"/> (1-based) into the embedding rows of its ID tokens.</summary>
    public void CopyCodebookToIdTokens(int position)
    {
        var codebook = Codebook(position).Embed;
        var offset = Tokenizer.IdTokenOffset(position - 1);
        using var noGrad = torch.no_grad();
        t5.Shared.weight![offset..(offset + (int)codebook.shape[0])].copy_(codebook);
    }

    /// <summary>Freezes or unfreezes parameter groups for a training stage.</summary>
    public void SetTrainable(bool backbone, bool codebook, bool reconstructorToo)
    {
        foreach (var p in t5.parameters())
            p.requires_grad = backbone;
        if (SourceEncoder is not null)
        {
            // The T5 encoder is not read: it keeps its pretrained weights for the downstream models.
            foreach (var p in t5.Encoder.parameters())
                p.requires_grad = false;
            SourceEncoder.SetTrainable(backbone);
        }
        foreach (var p in codebooks.parameters())
            p.requires_grad = codebook;
        foreach (var p in reconstructor.parameters())
            p.requires_grad = reconstructorToo;
    }

    public IEnumerable<Parameter> TrainableParameters() => parameters().Where(p => p.requires_grad);
}
