using LMIndexer.Core.Training;
using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using static TorchSharp.torch;

namespace LMIndexer.Core.Tests.Training;

public sealed class ModelOptimizerTests
{
    private static readonly OptimizerOptions Constant = new() { LearningRate = 0.1, WarmupRatio = 0, Decay = LearningRateDecay.Constant, MaxGradNorm = 0 };

    [Fact]
    public void Weight_decay_shrinks_matrices_and_leaves_layer_norm_scales_alone()
    {
        // With zero gradients Adam's step is 0 / (0 + ε) = 0, so all that moves a weight is the decay.
        var matrix = new Parameter(torch.ones(3, 4));
        var scale = new Parameter(torch.ones(4));
        using var optimizer = new ModelOptimizer([matrix, scale], Constant with { WeightDecay = 0.5 }, totalSteps: 10);
        for (var step = 0; step < 3; step++)
        {
            optimizer.ZeroGrad();
            matrix.grad = torch.zeros_like(matrix);
            scale.grad = torch.zeros_like(scale);
            optimizer.Update();
        }
        var shrunk = Math.Pow(1 - (0.1 * 0.5), 3);   // (1 − lr·decay) per step
        Assert.Equal(shrunk, matrix.max().item<float>(), 5);
        Assert.Equal(shrunk, matrix.min().item<float>(), 5);
        Assert.Equal(1f, scale.min().item<float>());
        Assert.Equal(1f, scale.max().item<float>());
    }

    [Fact]
    public void Without_weight_decay_nothing_moves_on_zero_gradients()
    {
        var matrix = new Parameter(torch.ones(3, 4));
        using var optimizer = new ModelOptimizer([matrix], Constant, totalSteps: 10);
        matrix.grad = torch.zeros_like(matrix);
        optimizer.Update();
        Assert.Equal(1f, matrix.min().item<float>());
    }

    [Fact]
    public void Negative_weight_decay_is_refused()
    {
        var matrix = new Parameter(torch.ones(2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ModelOptimizer([matrix], Constant with { WeightDecay = -0.1 }, totalSteps: 10));
    }
}
