using LMIndexer.Core.Runtime;
using LMIndexer.Core.Training;
using TorchSharp;
using Linear = TorchSharp.Modules.Linear;
using static TorchSharp.torch;

namespace LMIndexer.Core.Tests.Training;

public sealed class MixedPrecisionTests
{
    // bf16 has 8 significant bits: next to 1.0 its spacing is 2^-7 ≈ 0.0078, so one AdamW step of
    // lr 1e-3 cannot move a bf16 weight of 1.0 at all, while 20 of them move an fp32 master by ~0.02.
    private static readonly OptimizerOptions SmallSteps = new() { LearningRate = 1e-3, WarmupRatio = 0, Decay = LearningRateDecay.Constant, MaxGradNorm = 0 };

    [Fact]
    public void Updates_below_bf16_resolution_accumulate_in_the_masters()
    {
        using var pure = Line();
        pure.to(ScalarType.BFloat16);
        using (var optimizer = new ModelOptimizer(pure.parameters(), SmallSteps, 20))
            Fit(pure, optimizer, 20);
        Assert.Equal(1.0f, pure.weight!.to(ScalarType.Float32).item<float>()); // every update rounded away

        using var mixed = Line();
        using (var precision = MixedPrecision.BFloat16(mixed))
        {
            Assert.Equal(ScalarType.BFloat16, mixed.weight!.dtype);
            using var optimizer = new ModelOptimizer(mixed.parameters(), SmallSteps, 20, precision);
            Fit(mixed, optimizer, 20);
            var master = precision.Trainable.Single(p => p.Master.shape.Length == 2).Master.item<float>();
            Assert.InRange(master, 0.975f, 0.985f);                                   // ~20 × lr downhill
            Assert.Equal(master, mixed.weight!.to(ScalarType.Float32).item<float>(), 0.004f); // compute copy = master, rounded
        }
        Assert.Equal(ScalarType.Float32, mixed.weight!.dtype);
        Assert.InRange(mixed.weight!.item<float>(), 0.975f, 0.985f);                  // full-precision master restored
    }

    [Fact]
    public void Frozen_weights_return_bit_exact_and_trainable_flags_survive_the_cast()
    {
        torch.manual_seed(2);
        using var model = nn.Sequential(("first", nn.Linear(8, 8)), ("second", nn.Linear(8, 1)));
        foreach (var p in model.named_parameters().Where(p => p.name.StartsWith("first.", StringComparison.Ordinal)))
            p.parameter.requires_grad = false;
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        using (var precision = MixedPrecision.BFloat16(model))
        {
            Assert.Equal(2, precision.Trainable.Count);                               // second.weight, second.bias
            Assert.All(model.named_parameters(), p => Assert.Equal(!p.name.StartsWith("first.", StringComparison.Ordinal), p.parameter.requires_grad));
            using var optimizer = new ModelOptimizer(model.parameters().Where(p => p.requires_grad), SmallSteps with { LearningRate = 1e-2 }, 5, precision);
            for (var step = 0; step < 5; step++)
            {
                using var scope = NewDisposeScope();
                optimizer.ZeroGrad();
                model.forward(torch.ones(4, 8, dtype: ScalarType.BFloat16)).to(ScalarType.Float32).pow(TensorArithmetic.Two).mean().backward();
                optimizer.Update();
            }
        }
        foreach (var (name, value) in model.state_dict())
        {
            Assert.Equal(ScalarType.Float32, value.dtype);
            var unchanged = value.equal(before[name]).all().item<bool>();
            Assert.True(name.StartsWith("first.", StringComparison.Ordinal) ? unchanged : !unchanged, $"{name}: unchanged = {unchanged}");
        }
    }

    private static Linear Line()
    {
        var line = nn.Linear(1, 1);
        using var noGrad = torch.no_grad();
        line.weight!.fill_(TensorArithmetic.One);
        line.bias!.fill_(TensorArithmetic.Zero);
        return line;
    }

    /// <summary>Fits y = 0.5·x: every gradient pushes the weight below 1.</summary>
    private static void Fit(Linear line, ModelOptimizer optimizer, int steps)
    {
        for (var step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            var x = torch.ones(4, 1, dtype: line.weight!.dtype);
            optimizer.ZeroGrad();
            (line.forward(x) - x.Times(0.5)).to(ScalarType.Float32).pow(TensorArithmetic.Two).mean().backward();
            optimizer.Update();
        }
    }
}
