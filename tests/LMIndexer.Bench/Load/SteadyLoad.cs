using LMIndexer.Core.Data;

namespace LMIndexer.Bench.Load;

/// <summary>
/// Recommendation requests at a fixed rate over loopback for the replayed users while a job runs
/// (backfill, switch), bounded by itself in requests and time whatever happens to the job.
/// </summary>
public sealed class SteadyLoad : IAsyncDisposable
{
    /// <summary>How long the load runs before the job starts: its samples sent earlier are the steady state.</summary>
    public static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(2);

    private readonly HttpClient http;
    private readonly CancellationTokenSource stop;
    private readonly Task run;

    private SteadyLoad(HttpClient http, CancellationTokenSource stop, Task run, RecommendationLoad load)
    {
        this.http = http;
        this.stop = stop;
        this.run = run;
        Load = load;
    }

    public RecommendationLoad Load { get; }

    /// <summary>Starts the load and returns after <see cref="WarmUp"/>.</summary>
    public static async Task<SteadyLoad> StartAsync(string address, IReadOnlyList<UserSequence> users, int rate, TimeSpan limit, CancellationToken cancellation)
    {
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = RecommendationLoad.RequireLoopback(address), Timeout = TimeSpan.FromSeconds(30) };
        var next = 0;
        string NextUser() => users[Interlocked.Increment(ref next) % users.Count].UserId;
        var load = new RecommendationLoad();
        var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var run = load.RunAsync(http, NextUser, rate, (int)(rate * limit.TotalSeconds), limit, stop.Token);
        await Task.Delay(WarmUp, cancellation);
        return new SteadyLoad(http, stop, run, load);
    }

    /// <summary>Stops sending and waits for the requests in flight.</summary>
    public async Task StopAsync()
    {
        await stop.CancelAsync();
        await run;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        stop.Dispose();
        http.Dispose();
    }
}
