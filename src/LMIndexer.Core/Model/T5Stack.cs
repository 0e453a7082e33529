using LMIndexer.Core.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LMIndexer.Core.Model;

/// <summary>An encoder or decoder stack: blocks, a final RMSNorm and dropout. Embeddings come from outside.</summary>
public sealed class T5Stack : NamedModule
{
    private readonly T5Config config;
    private readonly bool isDecoder;
    private readonly ModuleList<T5Block> blocks;
    private readonly RmsNorm finalLayerNorm;

    public T5Stack(T5Config config, bool isDecoder) : base(isDecoder ? "decoder" : "encoder")
    {
        this.config = config;
        this.isDecoder = isDecoder;
        var layers = isDecoder ? config.NumDecoderLayers : config.NumLayers;
        blocks = new ModuleList<T5Block>();
        for (var i = 0; i < layers; i++)
            blocks.Add(new T5Block(config, isDecoder, hasRelativeAttentionBias: i == 0));
        finalLayerNorm = new RmsNorm(config.DModel, config.LayerNormEpsilon);
        register_module("block", blocks);
        register_module("final_layer_norm", finalLayerNorm);
    }

    public IReadOnlyList<T5Block> Blocks => [.. blocks];
    public RmsNorm FinalLayerNorm => finalLayerNorm;
    public int LayerCount => blocks.Count;

    /// <summary>
    /// Runs the stack. <paramref name="attentionMask"/> is [batch, keys] with 1 for visible keys
    /// (for the decoder it may cover cached positions too); the decoder adds the causal mask.
    /// Returns the final hidden states after the last RMSNorm and dropout. // [batch, len, d_model]
    /// </summary>
    public Tensor Forward(Tensor inputsEmbeds, Tensor? attentionMask, Tensor? encoderHidden = null, Tensor? encoderMask = null, DecoderCache? cache = null)
    {
        var length = inputsEmbeds.shape[1];
        var past = cache?.Length ?? 0;
        var selfMask = isDecoder
            ? CausalMask(length, past, attentionMask, inputsEmbeds.device, inputsEmbeds.dtype)
            : attentionMask is null ? null : AdditiveMask(attentionMask, inputsEmbeds.dtype);
        var crossMask = encoderMask is null ? null : AdditiveMask(encoderMask, inputsEmbeds.dtype);
        var inputs = new BlockInputs(selfMask, encoderHidden, crossMask, cache);

        var hidden = TrainOnlyDropout.Apply(inputsEmbeds, config.DropoutRate, training); // [batch, len, d_model]
        Tensor? selfBias = null;
        Tensor? crossBias = null;
        for (var i = 0; i < blocks.Count; i++)
            (hidden, selfBias, crossBias) = blocks[i].Forward(hidden, inputs, selfBias, crossBias, i);
        hidden = finalLayerNorm.forward(hidden);
        return TrainOnlyDropout.Apply(hidden, config.DropoutRate, training);
    }

    /// <summary>[batch, keys] keep-mask (1 visible) → additive [batch, 1, 1, keys] (0 or dtype min).</summary>
    public static Tensor AdditiveMask(Tensor keepMask, ScalarType dtype)
    {
        var keep = keepMask.to(dtype).unsqueeze(1).unsqueeze(1);                   // [batch, 1, 1, keys]
        return keep.SubtractedFrom(1.0).Times(torch.finfo(dtype).min);
    }

    private static Tensor? CausalMask(long length, long past, Tensor? keepMask, Device device, ScalarType dtype)
    {
        // One new token after the cache sees every key: nothing to mask (the common decode step).
        if (length == 1 && keepMask is null)
            return null;
        var total = past + length;
        var rows = TensorArithmetic.Range(past, total, device).unsqueeze(1); // [len, 1]
        var cols = TensorArithmetic.Range(total, device).unsqueeze(0);       // [1, total]
        var keep = (cols <= rows).to(dtype).unsqueeze(0).unsqueeze(0);                              // [1, 1, len, total]
        if (keepMask is not null)
            keep = keep * keepMask.to(dtype).unsqueeze(1).unsqueeze(1);                             // [batch, 1, len, total]
        return keep.SubtractedFrom(1.0).Times(torch.finfo(dtype).min);
    }
}
