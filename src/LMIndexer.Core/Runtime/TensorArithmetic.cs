using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Runtime;

/// <summary>
/// Tensor arithmetic whose <see cref="Scalar"/>s outlive the native calls that read them.
/// </summary>
/// <remarks>
/// A TorchSharp 0.107 <see cref="Scalar"/> owns native memory that its finalizer frees. The library's
/// operators hand libtorch Scalars that nothing references once their handle is read: <c>a + b</c>
/// passes a hidden alpha of 1, <c>t * 0.5</c> and <c>torch.arange(n)</c> convert numbers on the fly,
/// and so does every implicit number → Scalar conversion in our own code. A garbage collection on any
/// thread during the native call can then free the Scalar while libtorch reads it: <c>Expected false
/// to be true</c> from <c>c10::Scalar::toFloat</c>, or, had the memory been reused, a silently wrong
/// value. Four threads doing <c>t + 1e-6</c> and <c>t + u</c> beside a collecting thread failed 60
/// times in 800k pairs; the same additions through these helpers, none. <c>BannedSymbols.txt</c> keeps
/// the hazardous overloads and conversions out of every project; these are their replacements. Each
/// helper holds its Scalar in a <c>using</c> local, alive until the native call has returned.
/// </remarks>
public static class TensorArithmetic
{
    // Static roots: never collected and never disposed. A c10::Scalar is immutable, so threads share them.
    public static readonly Scalar Zero = 0.ToScalar();
    public static readonly Scalar One = 1.ToScalar();
    public static readonly Scalar Two = 2.ToScalar();
    public static readonly Scalar NegativeInfinity = float.NegativeInfinity.ToScalar();

    /// <summary><c>left + right</c> (broadcasting).</summary>
    public static Tensor Plus(this Tensor left, Tensor right) => left.add(right, One);

    /// <summary><c>left + right</c>; an integer keeps an integer tensor integral.</summary>
    public static Tensor Plus(this Tensor left, long right) => Apply(left, right, static (x, v) => x.add(v, One));

    /// <summary><c>left + right</c>.</summary>
    public static Tensor Plus(this Tensor left, double right) => Apply(left, right, static (x, v) => x.add(v, One));

    /// <summary><c>left − right</c>; an integer keeps an integer tensor integral.</summary>
    public static Tensor Minus(this Tensor left, long right) => Apply(left, right, static (x, v) => x.sub(v));

    /// <summary><c>left · right</c>; an integer keeps an integer tensor integral.</summary>
    public static Tensor Times(this Tensor left, long right) => Apply(left, right, static (x, v) => x.mul(v));

    /// <summary><c>left · right</c>.</summary>
    public static Tensor Times(this Tensor left, double right) => Apply(left, right, static (x, v) => x.mul(v));

    /// <summary><c>left / right</c> (true division).</summary>
    public static Tensor Over(this Tensor left, double right) => Apply(left, right, static (x, v) => x.div(v));

    /// <summary><c>left − right</c>, the number on the left (PyTorch's <c>rsub</c>).</summary>
    public static Tensor SubtractedFrom(this Tensor right, double left)
    {
        using var value = left.ToScalar();
        using var negated = right.neg();
        return negated.add(value, One);
    }

    /// <summary>Elements below <paramref name="bound"/>.</summary>
    public static Tensor Below(this Tensor tensor, long bound) => Apply(tensor, bound, static (x, v) => x.lt(v));

    /// <summary>Elements above <paramref name="bound"/>.</summary>
    public static Tensor Above(this Tensor tensor, long bound) => Apply(tensor, bound, static (x, v) => x.gt(v));

    /// <summary>Elements equal to <paramref name="value"/>.</summary>
    public static Tensor EqualTo(this Tensor tensor, long value) => Apply(tensor, value, static (x, v) => x.eq(v));

    /// <summary>Elements other than <paramref name="value"/>.</summary>
    public static Tensor OtherThan(this Tensor tensor, long value) => Apply(tensor, value, static (x, v) => x.ne(v));

    /// <summary><paramref name="value"/> where <paramref name="mask"/> holds, the tensor elsewhere.</summary>
    public static Tensor FilledWhere(this Tensor tensor, Tensor mask, long value)
    {
        using var scalar = value.ToScalar();
        return tensor.masked_fill(mask, scalar);
    }

    /// <summary>Elements raised to <paramref name="floor"/> where they are below it.</summary>
    public static Tensor AtLeast(this Tensor tensor, double floor) => Apply(tensor, floor, static (x, v) => x.clamp_min(v));

    /// <summary>Elements raised to <paramref name="floor"/> where they are below it; integer tensors stay integral.</summary>
    public static Tensor AtLeast(this Tensor tensor, long floor) => Apply(tensor, floor, static (x, v) => x.clamp_min(v));

    /// <summary>Elements lowered to <paramref name="ceiling"/> where they are above it; integer tensors stay integral.</summary>
    public static Tensor AtMost(this Tensor tensor, long ceiling) => Apply(tensor, ceiling, static (x, v) => x.clamp_max(v));

    // The number lives as a Scalar until the operation has returned.
    private static Tensor Apply(Tensor tensor, long number, Func<Tensor, Scalar, Tensor> operation)
    {
        using var scalar = number.ToScalar();
        return operation(tensor, scalar);
    }

    private static Tensor Apply(Tensor tensor, double number, Func<Tensor, Scalar, Tensor> operation)
    {
        using var scalar = number.ToScalar();
        return operation(tensor, scalar);
    }

    /// <summary><c>torch.arange(start, stop)</c> as int64.</summary>
    public static Tensor Range(long start, long stop, Device device)
    {
        using var from = start.ToScalar();
        using var to = stop.ToScalar();
        return torch.arange(from, to, One, dtype: ScalarType.Int64, device: device);
    }

    /// <summary><c>torch.arange(stop)</c> as int64.</summary>
    public static Tensor Range(long stop, Device device) => Range(0, stop, device);

    /// <summary>A [rows, columns] tensor of <paramref name="value"/>.</summary>
    public static Tensor Full(long rows, long columns, long value, ScalarType dtype, Device device)
    {
        using var scalar = value.ToScalar();
        return torch.full(rows, columns, scalar, dtype: dtype, device: device);
    }
}
