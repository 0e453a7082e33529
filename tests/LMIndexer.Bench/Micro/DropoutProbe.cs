using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Bench.Micro;

/// <summary>
/// Costs of the pieces of a dropout on one [64, 8, 128, 128] attention tensor (mask generation,
/// comparisons, products) and of allocations above glibc's 32 MB mmap threshold:
/// `dotnet run -c Release --project tests/LMIndexer.Bench -- micro dropout`. A diagnostic, not a benchmark.
/// </summary>
internal static class DropoutProbe
{
    public static void Run()
    {
        BenchmarkRuntime.Initialize();
        // Scalars held for the whole probe: an implicit one can be collected during the native call.
        using var scale = 1.1.ToScalar();
        using var byteThreshold = 26.ToScalar();
        using var dropRate = 0.1.ToScalar();
        using var zero = 0.ToScalar();
        using (var half = torch.randn(32, 8, 128, 128))
            Console.WriteLine($"Float32   half-size x * scalar (16.7 MB)   {OpTimer.MeanMilliseconds(() => half.mul(scale)),7:F1} ms");
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            using var x = torch.randn(64, 8, 128, 128).to(dtype);
            using var bytes = torch.randint(0, 256, x.shape, dtype: ScalarType.Byte);
            using var keep = bytes.ge(byteThreshold);
            using var keepF = keep.to(dtype);
            void Time(string name, Func<Tensor> op) =>
                Console.WriteLine($"{dtype,-9} {name,-30} {OpTimer.MeanMilliseconds(op),7:F1} ms");
            Time("randint uint8", () => torch.randint(0, 256, x.shape, dtype: ScalarType.Byte));
            Time("bernoulli mask", () => torch.empty_like(x).bernoulli_(0.9));
            Time("rand >= p", () => torch.rand(x.shape, dtype: dtype).ge(dropRate));
            Time("uint8 ge scalar", () => bytes.ge(byteThreshold));
            Time("bool to dtype", () => keep.to(dtype));
            Time("x * bool", () => x.mul(keep));
            Time("x * float mask", () => x.mul(keepF));
            Time("x * scalar", () => x.mul(scale));
            Time("masked_fill", () => x.masked_fill(keep, zero));
            Time("where", () => torch.where(keep, x, torch.zeros(1, dtype: dtype)));
            Time("managed scaled mask", () => LMIndexer.Core.Model.BernoulliMask.Scaled(x.shape, 0.1, dtype));
            Time("functional.dropout", () => nn.functional.dropout(x, 0.1, true));
        }
    }
}
