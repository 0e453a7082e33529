using System.Buffers;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Model;

/// <summary>
/// Dropout masks for CPU training, drawn in managed code straight into the tensor. libtorch's CPU
/// <c>bernoulli_</c> draws one Mersenne-Twister number per element on one thread: ~50 ms for a
/// [64, 8, 128, 128] attention tensor, more than half of a bf16 training step in all. Here four
/// xoshiro256** streams run side by side in 256-bit vectors, each 64-bit draw decides four 16-bit
/// (bf16/fp16) or two 32-bit (fp32) elements, and chunks are drawn on all cores.
/// Deterministic: the streams are seeded from one draw of torch's default generator (so
/// <c>torch.manual_seed</c> fixes the masks), chunking does not depend on thread timing, and the
/// scalar fallback produces the same bits as the vector path.
/// </summary>
public static class BernoulliMask
{
    private const int ChunkElements = 1 << 16;
    private const int Streams = 4;

    /// <summary>True when masks of this tensor's dtype and device can be drawn here.</summary>
    public static bool Supports(Tensor like) =>
        like.device.type == DeviceType.CPU && like.dtype is ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16;

    /// <summary>A tensor of <paramref name="shape"/> holding 1 with probability <paramref name="keep"/>, else 0.</summary>
    public static Tensor Create(long[] shape, double keep, ScalarType dtype) =>
        Draw(shape, keep, dtype, Rounded(1.0, dtype).Bits);

    /// <summary>
    /// Inverted dropout's multiplier as one tensor: 1/(1−rate) where an element is kept, 0 where it
    /// is dropped, so dropout is one product (and its backward the same product). The multiplier is
    /// rounded to the dtype (bf16: 1/0.9 → 1.109375) and the keep probability set to its inverse,
    /// so the expectation stays exactly 1 (bf16 at rate 0.1 drops 9.86 % instead of 10 %).
    /// </summary>
    public static Tensor Scaled(long[] shape, double rate, ScalarType dtype)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rate, 0.0);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rate, 1.0);
        var (bits, value) = Rounded(1.0 / (1.0 - rate), dtype);
        return Draw(shape, Math.Min(1.0, 1.0 / value), dtype, bits);
    }

    private static Tensor Draw(long[] shape, double keep, ScalarType dtype, uint one)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 0.0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(keep, 1.0);
        var mask = torch.empty(shape, dtype: dtype);
        var count = mask.numel();
        var wide = dtype == ScalarType.Float32;
        var bytes = count * (wide ? 4 : 2);
        if (count == 0)
            return mask;
        if (bytes > Array.MaxLength)
            throw new ArgumentException($"A dropout mask of {count} elements does not fit one managed buffer.", nameof(shape));
        var seed = (ulong)torch.randint(long.MaxValue, [1], dtype: ScalarType.Int64).item<long>();
        // Lane < threshold keeps the element: 16-bit lanes round keep to 1/65,536, 32-bit to 2^-32.
        var threshold16 = (ushort)Math.Min(ushort.MaxValue, Math.Round(keep * 65536.0));
        var threshold32 = (uint)Math.Min(uint.MaxValue, Math.Round(keep * 4294967296.0));
        var keepAll = wide ? keep * 4294967296.0 > uint.MaxValue : keep * 65536.0 > ushort.MaxValue;
        // Drawn into a pooled buffer and copied in once: TorchSharp has no writable view of a bf16
        // tensor's memory (its typed storages convert the dtype first).
        var buffer = ArrayPool<byte>.Shared.Rent((int)bytes);
        try
        {
            var chunks = (int)((count + ChunkElements - 1) / ChunkElements);
            Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, torch.get_num_threads()) }, chunk =>
            {
                var start = chunk * ChunkElements;
                var length = (int)Math.Min(ChunkElements, count - start);
                var random = new XoshiroStreams(seed, (ulong)chunk);
                if (wide)
                    Fill(MemoryMarshal.Cast<byte, uint>(buffer.AsSpan(0, (int)bytes)).Slice(start, length), one, threshold32, keepAll, ref random);
                else
                    Fill(MemoryMarshal.Cast<byte, ushort>(buffer.AsSpan(0, (int)bytes)).Slice(start, length), (ushort)one, threshold16, keepAll, ref random);
            });
            mask.bytes = buffer.AsSpan(0, (int)bytes);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return mask;
    }

    private static void Fill<T>(Span<T> target, T one, T threshold, bool keepAll, ref XoshiroStreams random)
        where T : unmanaged
    {
        if (keepAll)
        {
            target.Fill(one);
            return;
        }
        var perBlock = Vector256<T>.Count;   // 4 streams × 64 bits
        var ones = Vector256.Create(one);
        var limit = Vector256.Create(threshold);
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // The generator's state in locals for the loop, so that it stays in registers.
            var (s0, s1, s2, s3) = random.State;
            ref var start = ref MemoryMarshal.GetReference(target);
            for (; i + perBlock <= target.Length; i += perBlock)
            {
                var times5 = (s1 << 2) + s1;
                var rotated = (times5 << 7) | Vector256.ShiftRightLogical(times5, 57);
                var lanes = ((rotated << 3) + rotated).As<ulong, T>();
                var t = s1 << 17;
                s2 ^= s0;
                s3 ^= s1;
                s1 ^= s2;
                s0 ^= s3;
                s2 ^= t;
                s3 = (s3 << 45) | Vector256.ShiftRightLogical(s3, 19);
                Vector256.BitwiseAnd(Vector256.LessThan(lanes, limit), ones).StoreUnsafe(ref start, (nuint)i);
            }
            random.State = (s0, s1, s2, s3);
        }
        Span<ulong> draws = stackalloc ulong[Streams];
        Span<T> block = stackalloc T[perBlock];
        for (; i < target.Length; i += perBlock)
        {
            random.NextScalar(draws);
            var lanes = Vector256.Create<ulong>(draws).As<ulong, T>();
            Vector256.BitwiseAnd(Vector256.LessThan(lanes, limit), ones).CopyTo(block);
            block[..Math.Min(perBlock, target.Length - i)].CopyTo(target[i..]);
        }
    }

    /// <summary><paramref name="value"/> rounded to nearest in <paramref name="dtype"/>: its bits and the value they hold.</summary>
    private static (uint Bits, double Value) Rounded(double value, ScalarType dtype)
    {
        switch (dtype)
        {
            case ScalarType.Float32:
                return (BitConverter.SingleToUInt32Bits((float)value), (float)value);
            case ScalarType.Float16:
                var half = (Half)value;
                return (BitConverter.HalfToUInt16Bits(half), (double)half);
            case ScalarType.BFloat16:
                var single = BitConverter.SingleToUInt32Bits((float)value);
                var upper = (single + 0x7FFF + ((single >> 16) & 1)) >> 16;   // round to nearest even
                return (upper, BitConverter.UInt32BitsToSingle(upper << 16));
            default:
                throw new ArgumentException($"No managed dropout mask for {dtype}.", nameof(dtype));
        }
    }

    /// <summary>
    /// Four xoshiro256** generators (Blackman and Vigna) in the four 64-bit lanes of a vector, their
    /// states spread from (seed, chunk, lane) by SplitMix64. The vector loop in <c>Fill</c> steps
    /// them in registers; <see cref="NextScalar"/> gives the same draws without vectors.
    /// </summary>
    private struct XoshiroStreams
    {
        private Vector256<ulong> s0, s1, s2, s3;

        public XoshiroStreams(ulong seed, ulong chunk)
        {
            Span<ulong> a = stackalloc ulong[Streams], b = stackalloc ulong[Streams], c = stackalloc ulong[Streams], d = stackalloc ulong[Streams];
            for (var lane = 0; lane < Streams; lane++)
            {
                var x = seed ^ ((chunk * Streams + (ulong)lane + 1) * 0x9E37_79B9_7F4A_7C15UL);
                (a[lane], b[lane], c[lane], d[lane]) = (SplitMix(ref x), SplitMix(ref x), SplitMix(ref x), SplitMix(ref x));
            }
            (s0, s1, s2, s3) = (Vector256.Create<ulong>(a), Vector256.Create<ulong>(b), Vector256.Create<ulong>(c), Vector256.Create<ulong>(d));
        }

        public (Vector256<ulong>, Vector256<ulong>, Vector256<ulong>, Vector256<ulong>) State
        {
            readonly get => (s0, s1, s2, s3);
            set => (s0, s1, s2, s3) = value;
        }

        public void NextScalar(Span<ulong> draws)
        {
            Span<ulong> a = stackalloc ulong[Streams], b = stackalloc ulong[Streams], c = stackalloc ulong[Streams], d = stackalloc ulong[Streams];
            s0.CopyTo(a);
            s1.CopyTo(b);
            s2.CopyTo(c);
            s3.CopyTo(d);
            for (var lane = 0; lane < Streams; lane++)
            {
                draws[lane] = ulong.RotateLeft(b[lane] * 5, 7) * 9;
                var t = b[lane] << 17;
                c[lane] ^= a[lane];
                d[lane] ^= b[lane];
                b[lane] ^= c[lane];
                a[lane] ^= d[lane];
                c[lane] ^= t;
                d[lane] = ulong.RotateLeft(d[lane], 45);
            }
            (s0, s1, s2, s3) = (Vector256.Create<ulong>(a), Vector256.Create<ulong>(b), Vector256.Create<ulong>(c), Vector256.Create<ulong>(d));
        }

        private static ulong SplitMix(ref ulong x)
        {
            var z = x += 0x9E37_79B9_7F4A_7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EBUL;
            return z ^ (z >> 31);
        }
    }
}
