using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LMIndexer.Core.Model;

/// <summary>The position-wise feed-forward network: ReLU (T5) or gated GELU (T5 1.1).</summary>
public sealed class T5FeedForward : NamedModule<Tensor, Tensor>
{
    private readonly T5Config config;
    private readonly Linear? wi;
    private readonly Linear? wi0;
    private readonly Linear? wi1;
    private readonly Linear wo;

    public T5FeedForward(T5Config config) : base(nameof(T5FeedForward))
    {
        this.config = config;
        if (config.FeedForward == FeedForwardKind.Relu)
        {
            wi = nn.Linear(config.DModel, config.DFf, hasBias: false);
            register_module("wi", wi);
        }
        else
        {
            wi0 = nn.Linear(config.DModel, config.DFf, hasBias: false);
            wi1 = nn.Linear(config.DModel, config.DFf, hasBias: false);
            register_module("wi_0", wi0);
            register_module("wi_1", wi1);
        }
        wo = nn.Linear(config.DFf, config.DModel, hasBias: false);
        register_module("wo", wo);
    }

    internal IEnumerable<Linear> InputProjections => new[] { wi, wi0, wi1 }.OfType<Linear>();
    internal Linear OutputProjection => wo;

    public override Tensor forward(Tensor hidden)
    {
        Tensor inner = wi is not null
            ? nn.functional.relu(wi.forward(hidden))                                        // [..., d_ff]
            : nn.functional.gelu(wi0!.forward(hidden), GELU.Approximate.tanh) * wi1!.forward(hidden);
        inner = TrainOnlyDropout.Apply(inner, config.DropoutRate, training);
        return wo.forward(inner);                                                           // [..., d_model]
    }
}
