using LMIndexer.Core.Runtime;
using LMIndexer.Core.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Indexing;

/// <summary>
/// The reference's modified T5 block: attention whose queries come from the ID vector(s) and whose
/// keys/values come from the context, both through the same RMSNorm; the residual starts from the
/// query (y = query + dropout(attn)); then T5's feed-forward sublayer.
/// </summary>
public sealed class ReconstructorBlock : NamedModule
{
    private readonly T5Config config;
    private readonly RmsNorm layerNorm;
    private readonly T5Attention attention;
    private readonly T5LayerFeedForward feedForward;

    public ReconstructorBlock(T5Config config, bool hasRelativeAttentionBias) : base(nameof(ReconstructorBlock))
    {
        this.config = config;
        layerNorm = new RmsNorm(config.DModel, config.LayerNormEpsilon);
        attention = new T5Attention(config, causal: false, hasRelativeAttentionBias);
        feedForward = new T5LayerFeedForward(config);
        register_module("layer_norm", layerNorm);
        register_module("attention", attention);
        register_module("feed_forward", feedForward);
    }

    internal T5Attention Attention => attention;
    internal T5LayerFeedForward FeedForward => feedForward;

    /// <summary>// query, context: [batch, len, d_model]; mask: additive [batch, 1, len, len]</summary>
    public (Tensor Hidden, Tensor Bias) Forward(Tensor query, Tensor context, Tensor? bias, Tensor additiveMask)
    {
        var (attended, newBias) = attention.Forward(layerNorm.forward(query), layerNorm.forward(context), bias, additiveMask, cache: null);
        var hidden = query.Plus(TrainOnlyDropout.Apply(attended, config.DropoutRate, training));
        return (feedForward.forward(hidden), newBias);
    }
}
