using static TorchSharp.torch;

namespace LMIndexer.Core.Model;

/// <summary>
/// Dropout that is free outside training (libtorch's eval-mode dropout still costs a native call
/// and a tensor handle, and a decode step has a few dozen), and whose CPU masks come from
/// <see cref="BernoulliMask"/> rather than libtorch's single-threaded <c>bernoulli_</c>.
/// </summary>
internal static class TrainOnlyDropout
{
    public static Tensor Apply(Tensor input, double rate, bool training)
    {
        if (!training || rate <= 0)
            return input;
        if (rate >= 1 || !BernoulliMask.Supports(input))
            return nn.functional.dropout(input, rate, training: true);
        using var keep = BernoulliMask.Scaled(input.shape, rate, input.dtype);   // 0 or 1/(1−rate), no grad
        // The backward of a product by a constant is the same product: exactly dropout's gradient.
        return input.mul(keep);
    }
}
