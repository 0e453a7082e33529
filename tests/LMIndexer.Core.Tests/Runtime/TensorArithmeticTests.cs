using LMIndexer.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Tests.Runtime;

public sealed class TensorArithmeticTests
{
    [Fact]
    public void The_helpers_compute_what_the_operators_they_replace_compute()
    {
        using var scope = NewDisposeScope();
        var x = torch.tensor(new[] { -1.5f, 0f, 2f, 7.25f });
        var y = torch.tensor(new[] { 4f, -2f, 0.5f, 1f });
        Assert.Equal(new[] { 2.5f, -2f, 2.5f, 8.25f }, x.Plus(y).data<float>().ToArray());
        Assert.Equal(new[] { -1.25f, 0.25f, 2.25f, 7.5f }, x.Plus(0.25).data<float>().ToArray());
        Assert.Equal(new[] { -3f, 0f, 4f, 14.5f }, x.Times(2.0).data<float>().ToArray());
        Assert.Equal(new[] { -0.75f, 0f, 1f, 3.625f }, x.Over(2.0).data<float>().ToArray());
        Assert.Equal(new[] { 2.5f, 1f, -1f, -6.25f }, x.SubtractedFrom(1.0).data<float>().ToArray());
        Assert.Equal(new[] { 0f, 0f, 2f, 7.25f }, x.AtLeast(0.0).data<float>().ToArray());
        Assert.Equal(new[] { true, false, false, false }, x.Below(0).data<bool>().ToArray());
        Assert.Equal(new[] { false, false, true, true }, x.Above(0).data<bool>().ToArray());
    }

    [Fact]
    public void Integer_operands_keep_integer_tensors_integral()
    {
        using var scope = NewDisposeScope();
        var ids = torch.tensor(new long[] { 3, -100, 5 });
        Assert.Equal(ScalarType.Int64, ids.Plus(2).dtype);
        Assert.Equal(new long[] { 5, -98, 7 }, ids.Plus(2).data<long>().ToArray());
        Assert.Equal(new long[] { 1, -102, 3 }, ids.Minus(2).data<long>().ToArray());
        Assert.Equal(new long[] { 9, -300, 15 }, ids.Times(3).data<long>().ToArray());
        Assert.Equal(new long[] { 3, 0, 4 }, ids.AtLeast(0).AtMost(4).data<long>().ToArray());
        Assert.Equal(ScalarType.Int64, ids.AtLeast(0).dtype);
        Assert.Equal(new long[] { 3, 0, 5 }, ids.FilledWhere(ids.EqualTo(-100), 0).data<long>().ToArray());
        Assert.Equal(new[] { true, false, true }, ids.OtherThan(-100).data<bool>().ToArray());
    }

    [Fact]
    public void Ranges_and_fills_are_int64_on_the_requested_device()
    {
        using var scope = NewDisposeScope();
        var range = TensorArithmetic.Range(2, 6, CPU);
        Assert.Equal(ScalarType.Int64, range.dtype);
        Assert.Equal(new long[] { 2, 3, 4, 5 }, range.data<long>().ToArray());
        Assert.Equal(new long[] { 0, 1, 2 }, TensorArithmetic.Range(3, CPU).data<long>().ToArray());
        var full = TensorArithmetic.Full(2, 1, 7, ScalarType.Int64, CPU);
        Assert.Equal(new long[] { 2, 1 }, full.shape);
        Assert.Equal(new long[] { 7, 7 }, full.data<long>().ToArray());
    }
}
