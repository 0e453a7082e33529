using LMIndexer.Core.Runtime;
using LMIndexer.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Tests.Training;

public sealed class WeightAverageTests
{
    [Fact]
    public void The_average_follows_the_ramped_decay_and_caps_at_the_given_one()
    {
        using var weight = tensor(new[] { 0f, 10f });
        using var count = tensor(new long[] { 7 });
        var live = new Dictionary<string, Tensor> { ["w"] = weight, ["n"] = count };
        using var average = new WeightAverage(live, decay: 0.5);
        weight.copy_(tensor(new[] { 10f, 0f }));
        using (var eight = 8.ToScalar())
            count.fill_(eight);

        // Update 1: d = min(0.5, 1/10) = 0.1 → mostly the new weights.
        Assert.Equal(0.1, average.NextDecay, 12);
        average.Update(live);
        Assert.Equal(9f, average.Weights["w"].data<float>()[0], 4);
        Assert.Equal(1f, average.Weights["w"].data<float>()[1], 4);
        Assert.Equal(8L, average.Weights["n"].item<long>());   // integer buffers are copied, not averaged
        // Update 2: d = min(0.5, 2/11).
        Assert.Equal(2.0 / 11, average.NextDecay, 12);
        average.Update(live);
        Assert.Equal(9f * 2 / 11 + 10f * 9 / 11, average.Weights["w"].data<float>()[0], 4);
        // From t = 8 on, (1 + t) / (10 + t) ≥ 0.5 and the given decay rules.
        while (average.Updates < 8)
            average.Update(live);
        Assert.Equal(0.5, average.NextDecay, 12);
        Assert.Equal(8, average.Updates);
        // The average owns copies: the live weights moving does not move it.
        var before = average.Weights["w"].data<float>().ToArray();
        using (var far = (-100).ToScalar())
            weight.fill_(far);
        Assert.Equal(before, average.Weights["w"].data<float>().ToArray());
    }

    [Fact]
    public void A_resumed_average_continues_as_the_uninterrupted_one()
    {
        using var weight = tensor(new[] { 1f, 2f, 3f });
        var live = new Dictionary<string, Tensor> { ["w"] = weight };
        using var straight = new WeightAverage(live, decay: 0.9);
        for (var step = 0; step < 5; step++)
        {
            weight.add_(TensorArithmetic.One, TensorArithmetic.One);
            straight.Update(live);
        }
        using var resumed = new WeightAverage(straight.Weights, decay: 0.9, updates: straight.Updates);
        for (var step = 0; step < 5; step++)
        {
            weight.add_(TensorArithmetic.One, TensorArithmetic.One);
            straight.Update(live);
            resumed.Update(live);
        }
        Assert.Equal(straight.Weights["w"].data<float>().ToArray(), resumed.Weights["w"].data<float>().ToArray());
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    public void A_decay_outside_zero_to_one_is_refused(double decay)
    {
        using var weight = tensor(new[] { 1f });
        Assert.Throws<ArgumentOutOfRangeException>(() => new WeightAverage(new Dictionary<string, Tensor> { ["w"] = weight }, decay));
    }
}
