using System.Diagnostics;
using static TorchSharp.torch;

namespace LMIndexer.Bench.Micro;

/// <summary>Mean wall time of a tensor operation for the stopwatch diagnostics (one untimed warm-up run).</summary>
internal static class OpTimer
{
    public static double MeanMilliseconds(Func<Tensor> op, int runs = 5)
    {
        using (NewDisposeScope())
            op();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < runs; i++)
        {
            using var scope = NewDisposeScope();
            op();
        }
        return clock.Elapsed.TotalMilliseconds / runs;
    }
}
