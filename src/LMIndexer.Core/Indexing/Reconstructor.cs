using LMIndexer.Core.Runtime;
using LMIndexer.Core.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LMIndexer.Core.Indexing;

/// <summary>
/// The shallow non-causal reconstructor (default 1 block, randomly initialised): rebuilds every
/// text token from the ID vector(s) plus a masked view of the text. Its output goes through the
/// tied token embedding without T5's d^-0.5 rescale, as the reference's <c>lm_head</c> call does.
/// Deeper stacks feed each block's output as the next block's query; the context stays the input.
/// </summary>
public sealed class Reconstructor : NamedModule
{
    private readonly T5Config config;
    private readonly ModuleList<ReconstructorBlock> blocks;
    private readonly RmsNorm finalLayerNorm;

    public Reconstructor(T5Config config, int layers) : base(nameof(Reconstructor))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        this.config = config;
        blocks = new ModuleList<ReconstructorBlock>();
        for (var i = 0; i < layers; i++)
            blocks.Add(new ReconstructorBlock(config, hasRelativeAttentionBias: i == 0));
        finalLayerNorm = new RmsNorm(config.DModel, config.LayerNormEpsilon);
        register_module("block", blocks);
        register_module("final_layer_norm", finalLayerNorm);
        Initialize();
    }

    public int Layers => blocks.Count;

    /// <summary>
    /// Hidden states for one query stream. // query, context: [batch, len, d_model];
    /// visible: [batch, len, len] bool (row = predicted position, column = context position)
    /// </summary>
    public Tensor Forward(Tensor query, Tensor context, Tensor visible)
    {
        var additive = visible.to(query.dtype).SubtractedFrom(1.0).unsqueeze(1).Times(torch.finfo(query.dtype).min); // [batch, 1, len, len]
        var hidden = TrainOnlyDropout.Apply(query, config.DropoutRate, training);
        context = TrainOnlyDropout.Apply(context, config.DropoutRate, training);
        Tensor? bias = null;
        foreach (var block in blocks)
            (hidden, bias) = block.Forward(hidden, context, bias, additive);
        return TrainOnlyDropout.Apply(finalLayerNorm.forward(hidden), config.DropoutRate, training); // [batch, len, d_model]
    }

    private void Initialize()
    {
        using var noGrad = torch.no_grad();
        foreach (var block in blocks)
        {
            var a = block.Attention;
            a.Query.weight.normal_(0, Math.Pow(config.DModel * config.DKv, -0.5));
            a.Key.weight.normal_(0, Math.Pow(config.DModel, -0.5));
            a.Value.weight.normal_(0, Math.Pow(config.DModel, -0.5));
            a.Output.weight.normal_(0, Math.Pow(config.InnerDim, -0.5));
            a.RelativeBiasTable?.weight!.normal_(0, Math.Pow(config.DModel, -0.5));
            foreach (var wi in block.FeedForward.FeedForward.InputProjections)
                wi.weight.normal_(0, Math.Pow(config.DModel, -0.5));
            block.FeedForward.FeedForward.OutputProjection.weight.normal_(0, Math.Pow(config.DFf, -0.5));
        }
    }
}
