using LMIndexer.Core.Model;
using LMIndexer.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Tests.Model;

/// <summary>The managed dropout masks that replace libtorch's single-threaded CPU bernoulli.</summary>
public sealed class DropoutMaskTests
{
    [Theory]
    [InlineData(ScalarType.Float32, 0.1)]
    [InlineData(ScalarType.BFloat16, 0.1)]
    [InlineData(ScalarType.BFloat16, 0.5)]
    [InlineData(ScalarType.Float16, 0.3)]
    public void A_mask_keeps_the_asked_share_and_holds_only_zero_and_one(ScalarType dtype, double rate)
    {
        torch.manual_seed(3);
        // 1,000,003 elements: many chunks, and a tail that is not a whole vector.
        using var mask = BernoulliMask.Create([1000, 1000 + 3], 1 - rate, dtype);
        using var wide = mask.to(ScalarType.Float32);
        var kept = wide.mean().item<float>();
        Assert.InRange(kept, 1 - rate - 0.003, 1 - rate + 0.003);
        Assert.Equal(mask.numel(), (wide.EqualTo(0) | wide.EqualTo(1)).sum().item<long>());
        // No pattern across positions: the first and second halves keep the same share.
        Assert.InRange(wide.narrow(0, 0, 500).mean().item<float>() - wide.narrow(0, 500, 500).mean().item<float>(), -0.004, 0.004);
    }

    [Fact]
    public void Masks_follow_the_torch_seed()
    {
        torch.manual_seed(11);
        using var a = BernoulliMask.Create([300, 301], 0.9, ScalarType.BFloat16);
        torch.manual_seed(11);
        using var b = BernoulliMask.Create([300, 301], 0.9, ScalarType.BFloat16);
        using var c = BernoulliMask.Create([300, 301], 0.9, ScalarType.BFloat16);
        Assert.True(a.eq(b).all().item<bool>());
        Assert.False(a.eq(c).all().item<bool>());
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void Training_dropout_keeps_the_expectation_and_its_gradient_is_the_same_mask(ScalarType dtype)
    {
        torch.manual_seed(5);
        using var x = torch.ones([512, 1024], dtype: dtype).requires_grad_(true);
        using var y = TrainOnlyDropout.Apply(x, 0.1, training: true);
        using var wide = y.detach().to(ScalarType.Float32);
        Assert.InRange(wide.mean().item<float>(), 0.99, 1.01);
        var dropped = wide.EqualTo(0).to(ScalarType.Float32).mean().item<float>();
        Assert.InRange(dropped, 0.09, 0.11);
        var kept = wide.masked_select(wide.OtherThan(0));
        Assert.InRange(kept.min().item<float>(), 1.10f, 1.12f);
        Assert.Equal(kept.min().item<float>(), kept.max().item<float>());

        y.sum().backward();
        Assert.True(x.grad!.to(ScalarType.Float32).eq(wide).all().item<bool>());   // d(sum(x·m))/dx = m
    }

    [Fact]
    public void Outside_training_dropout_returns_its_input()
    {
        using var x = torch.randn(4, 8);
        Assert.Same(x, TrainOnlyDropout.Apply(x, 0.1, training: false));
        Assert.Same(x, TrainOnlyDropout.Apply(x, 0.0, training: true));
    }
}
