using System.Diagnostics;

namespace LMIndexer.Bench.Scale;

/// <summary>
/// Times one stage of the scale benchmark and samples the process's resident memory while it runs,
/// so each stage reports its own peak (the process peak would only ever grow).
/// </summary>
public sealed class StageMeter : IDisposable
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly CancellationTokenSource stop = new();
    private readonly Task sampler;
    private long peakBytes;

    private StageMeter()
    {
        peakBytes = CurrentBytes();
        sampler = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
            try
            {
                while (await timer.WaitForNextTickAsync(stop.Token))
                    Interlocked.Exchange(ref peakBytes, Math.Max(Interlocked.Read(ref peakBytes), CurrentBytes()));
            }
            catch (OperationCanceledException)
            {
                // the stage ended
            }
        });
    }

    public static StageMeter Start() => new();

    /// <summary>Seconds since the stage started.</summary>
    public double Seconds => clock.Elapsed.TotalSeconds;

    /// <summary>The highest resident set seen during the stage, in MiB.</summary>
    public double PeakMiB
    {
        get
        {
            Interlocked.Exchange(ref peakBytes, Math.Max(Interlocked.Read(ref peakBytes), CurrentBytes()));
            return Interlocked.Read(ref peakBytes) / (1024.0 * 1024);
        }
    }

    /// <summary>Managed heap after a full collection: what the objects still referenced take.</summary>
    public static long LiveManagedBytes()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    public void Dispose()
    {
        stop.Cancel();
        sampler.Wait();
        stop.Dispose();
    }

    private static long CurrentBytes()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }
}
