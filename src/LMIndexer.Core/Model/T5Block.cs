using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LMIndexer.Core.Model;

/// <summary>
/// One transformer block. Sublayers sit in a list named <c>layer</c> so parameter names match
/// Hugging Face's (<c>block.N.layer.M.…</c>): self-attention, cross-attention (decoder), feed-forward.
/// </summary>
public sealed class T5Block : NamedModule
{
    private readonly T5LayerSelfAttention selfAttention;
    private readonly T5LayerCrossAttention? crossAttention;
    private readonly T5LayerFeedForward feedForward;

    public T5Block(T5Config config, bool isDecoder, bool hasRelativeAttentionBias) : base(nameof(T5Block))
    {
        selfAttention = new T5LayerSelfAttention(config, causal: isDecoder, hasRelativeAttentionBias);
        crossAttention = isDecoder ? new T5LayerCrossAttention(config) : null;
        feedForward = new T5LayerFeedForward(config);
        var layers = new ModuleList<nn.Module>();
        layers.Add(selfAttention);
        if (crossAttention is not null)
            layers.Add(crossAttention);
        layers.Add(feedForward);
        register_module("layer", layers);
    }

    public T5LayerSelfAttention SelfAttention => selfAttention;
    public T5LayerCrossAttention? CrossAttention => crossAttention;
    public T5LayerFeedForward FeedForward => feedForward;

    /// <summary>Runs the block; biases computed by the first block are handed back for reuse.</summary>
    public (Tensor Hidden, Tensor SelfBias, Tensor? CrossBias) Forward(
        Tensor hidden, BlockInputs inputs, Tensor? selfBias, Tensor? crossBias, int layerIndex)
    {
        (hidden, selfBias) = selfAttention.Forward(hidden, selfBias, inputs.SelfMask, inputs.Cache?.Self(layerIndex));
        if (crossAttention is not null && inputs.EncoderHidden is not null)
            (hidden, crossBias) = crossAttention.Forward(hidden, inputs.EncoderHidden, crossBias, inputs.CrossMask, inputs.Cache?.Cross(layerIndex));
        return (feedForward.forward(hidden), selfBias, crossBias);
    }
}

/// <summary>What every block of a stack sees besides the hidden states.</summary>
public sealed record BlockInputs(Tensor? SelfMask, Tensor? EncoderHidden, Tensor? CrossMask, DecoderCache? Cache);
