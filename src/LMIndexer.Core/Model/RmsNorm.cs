using LMIndexer.Core.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LMIndexer.Core.Model;

/// <summary>T5's layer norm: scale only, no mean subtraction, no bias; statistics in fp32.</summary>
public sealed class RmsNorm : NamedModule<Tensor, Tensor>
{
    private readonly double epsilon;
    private readonly Parameter weight;

    public RmsNorm(long dim, double epsilon) : base(nameof(RmsNorm))
    {
        this.epsilon = epsilon;
        weight = new Parameter(torch.ones(dim));
        register_parameter("weight", weight);
    }

    public Parameter Weight => weight;

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        // The dtype checks save two native calls per norm in fp32, where `to` would return its input.
        var wide = input.dtype == ScalarType.Float32 ? input : input.to(ScalarType.Float32);
        var variance = wide.pow(TensorArithmetic.Two).mean([-1], keepdim: true);                 // [..., 1]
        var normed = input * torch.rsqrt(variance.Plus(epsilon));
        return (weight * (normed.dtype == weight.dtype ? normed : normed.to(weight.dtype))).MoveToOuterDisposeScope();
    }
}
