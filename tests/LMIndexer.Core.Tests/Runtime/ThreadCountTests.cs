using LMIndexer.Core.Runtime;
using TorchSharp;

namespace LMIndexer.Core.Tests.Runtime;

/// <summary>A worker's own libtorch thread count must not leak into threads that start later.</summary>
public sealed class ThreadCountTests
{
    [Fact]
    public void A_thread_count_chosen_on_one_thread_stays_there()
    {
        var processThreads = TorchRuntime.IntraOpThreads;
        var workerThreads = processThreads == 1 ? 2 : 1;

        var worker = OnNewThread(() =>
        {
            TorchRuntime.UseThreadsOnThisThread(workerThreads);
            using var work = torch.ones(1 << 20);
            _ = work.sum().item<float>();
            return torch.get_num_threads();
        });
        var later = OnNewThread(() =>
        {
            using var work = torch.ones(1 << 20);
            _ = work.sum().item<float>();
            return torch.get_num_threads();
        });

        Assert.Equal(workerThreads, worker);
        Assert.Equal(processThreads, later);
    }

    private static int OnNewThread(Func<int> body)
    {
        var result = 0;
        var thread = new Thread(() => result = body());
        thread.Start();
        thread.Join();
        return result;
    }
}
