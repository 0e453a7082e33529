using LMIndexer.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Model;

/// <summary>Pre-norm self-attention sublayer with residual: x + dropout(attn(norm(x))).</summary>
public sealed class T5LayerSelfAttention : NamedModule
{
    private readonly T5Config config;
    private readonly T5Attention attention;
    private readonly RmsNorm layerNorm;

    public T5LayerSelfAttention(T5Config config, bool causal, bool hasRelativeAttentionBias) : base(nameof(T5LayerSelfAttention))
    {
        this.config = config;
        attention = new T5Attention(config, causal, hasRelativeAttentionBias);
        layerNorm = new RmsNorm(config.DModel, config.LayerNormEpsilon);
        register_module("SelfAttention", attention);
        register_module("layer_norm", layerNorm);
    }

    public T5Attention Attention => attention;

    public (Tensor Hidden, Tensor Bias) Forward(Tensor hidden, Tensor? bias, Tensor? additiveMask, AttentionCache? cache)
    {
        var (attended, newBias) = attention.Forward(layerNorm.forward(hidden), null, bias, additiveMask, cache);
        return (hidden.Plus(TrainOnlyDropout.Apply(attended, config.DropoutRate, training)), newBias);
    }
}

/// <summary>Pre-norm cross-attention sublayer over the encoder output.</summary>
public sealed class T5LayerCrossAttention : NamedModule
{
    private readonly T5Config config;
    private readonly T5Attention attention;
    private readonly RmsNorm layerNorm;

    public T5LayerCrossAttention(T5Config config) : base(nameof(T5LayerCrossAttention))
    {
        this.config = config;
        attention = new T5Attention(config, causal: false, hasRelativeAttentionBias: false);
        layerNorm = new RmsNorm(config.DModel, config.LayerNormEpsilon);
        register_module("EncDecAttention", attention);
        register_module("layer_norm", layerNorm);
    }

    public T5Attention Attention => attention;

    public (Tensor Hidden, Tensor Bias) Forward(Tensor hidden, Tensor encoderHidden, Tensor? bias, Tensor? additiveMask, AttentionCache? cache)
    {
        var (attended, newBias) = attention.Forward(layerNorm.forward(hidden), encoderHidden, bias, additiveMask, cache);
        return (hidden.Plus(TrainOnlyDropout.Apply(attended, config.DropoutRate, training)), newBias);
    }
}

/// <summary>Pre-norm feed-forward sublayer with residual.</summary>
public sealed class T5LayerFeedForward : NamedModule<Tensor, Tensor>
{
    private readonly T5Config config;
    private readonly T5FeedForward feedForward;
    private readonly RmsNorm layerNorm;

    public T5LayerFeedForward(T5Config config) : base(nameof(T5LayerFeedForward))
    {
        this.config = config;
        feedForward = new T5FeedForward(config);
        layerNorm = new RmsNorm(config.DModel, config.LayerNormEpsilon);
        register_module("DenseReluDense", feedForward);
        register_module("layer_norm", layerNorm);
    }

    public T5FeedForward FeedForward => feedForward;

    public override Tensor forward(Tensor hidden) =>
        hidden.Plus(TrainOnlyDropout.Apply(feedForward.forward(layerNorm.forward(hidden)), config.DropoutRate, training));
}
