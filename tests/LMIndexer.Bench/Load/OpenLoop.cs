using System.Diagnostics;

namespace LMIndexer.Bench.Load;

/// <summary>
/// The schedule of an open-loop load: request i leaves at i / rate whatever the earlier ones are
/// doing, until a bound on requests or time or cancellation; then the requests sent are awaited.
/// </summary>
public static class OpenLoop
{
    /// <param name="send">Sends the i-th request, given the run's clock; it must not throw.</param>
    public static async Task RunAsync(int rate, int maxRequests, TimeSpan maxDuration, Func<int, Stopwatch, Task> send, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(send);
        ArgumentOutOfRangeException.ThrowIfLessThan(rate, 1);
        var clock = Stopwatch.StartNew();
        var inFlight = new List<Task>();
        for (var i = 0; i < maxRequests && clock.Elapsed < maxDuration && !cancellation.IsCancellationRequested; i++)
        {
            var wait = TimeSpan.FromSeconds((double)i / rate) - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, cancellation);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            var request = i;
            inFlight.Add(Task.Run(() => send(request, clock), CancellationToken.None));
        }
        await Task.WhenAll(inFlight);   // requests already sent finish
    }
}
