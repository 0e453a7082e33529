using LMIndexer.Core.Runtime;

namespace LMIndexer.Bench.Micro;

internal static class BenchmarkRuntime
{
    private static readonly Lock Gate = new();
    private static bool done;

    public static void Initialize()
    {
        lock (Gate)
        {
            if (done)
                return;
            TorchRuntime.Initialize(new TorchRuntimeOptions { Threads = Environment.ProcessorCount });
            done = true;
        }
    }
}
