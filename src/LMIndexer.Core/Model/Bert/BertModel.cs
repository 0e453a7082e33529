using LMIndexer.Core.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LMIndexer.Core.Model.Bert;

/// <summary>
/// A BERT encoder without pooler (Hugging Face's BertModel up to last_hidden_state). Parameter
/// names equal the checkpoint's, so pretrained weights load by name (<see cref="BertWeights"/>).
/// </summary>
public sealed class BertModel : NamedModule<Tensor, Tensor, Tensor>
{
    private readonly BertEmbeddings embeddings;
    private readonly ModuleList<BertLayer> layers;

    public BertModel(BertConfig config) : base(nameof(BertModel))
    {
        var errors = config.Errors().ToList();
        if (errors.Count > 0)
            throw new ArgumentException("Invalid BERT configuration: " + string.Join("; ", errors), nameof(config));
        Config = config;
        embeddings = new BertEmbeddings(config);
        layers = new ModuleList<BertLayer>([.. Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new BertLayer(config))]);
        var encoder = new NamedContainer("BertEncoder");
        encoder.Add("layer", layers);
        register_module("embeddings", embeddings);
        register_module("encoder", encoder);
    }

    public BertConfig Config { get; }

    public BertEmbeddings Embeddings => embeddings;

    public IReadOnlyList<BertLayer> Layers => [.. layers];

    /// <param name="inputIds">[batch, tokens]</param>
    /// <param name="attentionMask">[batch, tokens]: 1 for real tokens, 0 for padding.</param>
    /// <returns>last_hidden_state [batch, tokens, hidden].</returns>
    public override Tensor forward(Tensor inputIds, Tensor attentionMask)
    {
        using var lower = ForwardTo(inputIds, attentionMask, 0);
        return ForwardFrom(lower, attentionMask, 0);
    }

    /// <summary>States after the embeddings and the first <paramref name="layerCount"/> layers. // [batch, tokens, hidden]</summary>
    public Tensor ForwardTo(Tensor inputIds, Tensor attentionMask, int layerCount)
    {
        using var scope = NewDisposeScope();
        return Run(embeddings.forward(inputIds), attentionMask, 0, layerCount).MoveToOuterDisposeScope();
    }

    /// <summary>Runs layers <paramref name="firstLayer"/>… on states of the layer below. // [batch, tokens, hidden]</summary>
    public Tensor ForwardFrom(Tensor hidden, Tensor attentionMask, int firstLayer)
    {
        using var scope = NewDisposeScope();
        return Run(hidden.alias(), attentionMask, firstLayer, layers.Count).MoveToOuterDisposeScope();
    }

    // Inside the caller's dispose scope: every intermediate state goes with it.
    private Tensor Run(Tensor hidden, Tensor attentionMask, int from, int to)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(from, to);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(to, layers.Count);
        var additive = AdditiveMask(attentionMask);                                                          // [batch, 1, 1, tokens]
        for (var i = from; i < to; i++)
            hidden = layers[i].forward(hidden, additive);
        return hidden;
    }

    /// <summary>0 where attention may look, the dtype's lowest value at padding (as Hugging Face's extended mask).</summary>
    private static Tensor AdditiveMask(Tensor attentionMask)
    {
        var keep = attentionMask.to_type(ScalarType.Float32).unsqueeze(1).unsqueeze(2);
        return keep.SubtractedFrom(1.0).Times(float.MinValue);
    }
}
