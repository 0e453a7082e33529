using System.Diagnostics;
using LMIndexer.Abstractions;
using LMIndexer.Bench.Load;
using LMIndexer.Core.Data;
using LMIndexer.Core.Data.Synthetic;
using Microsoft.Extensions.DependencyInjection;

namespace LMIndexer.Bench.Scale;

/// <summary>One look at the process during a sustained-event run.</summary>
public sealed record MemorySample(double Minutes, double ResidentMiB, double ManagedMiB, int Activations);

/// <summary>What a long run of events from many distinct users did to the process's memory.</summary>
public sealed record SustainedEventsResult(long Events, double EventsPerSecond, IReadOnlyList<MemorySample> Samples, double WarmUpMinutes)
{
    /// <summary>The samples after the warm-up: the ones a bound is judged on.</summary>
    public IReadOnlyList<MemorySample> Steady => [.. Samples.Where(s => s.Minutes >= WarmUpMinutes)];

    /// <summary>Least-squares slope of resident memory over the steady samples, MiB per minute.</summary>
    public double ResidentSlope => Slope(Steady.Select(s => (s.Minutes, s.ResidentMiB)).ToList());

    /// <summary>Mean resident memory over the first and the last minute of the steady part, MiB.</summary>
    public (double First, double Last) ResidentEnds
    {
        get
        {
            var steady = Steady;
            if (steady.Count == 0)
                return (double.NaN, double.NaN);
            var start = steady[0].Minutes;
            var end = steady[^1].Minutes;
            return (steady.Where(s => s.Minutes <= start + 1).Average(s => s.ResidentMiB), steady.Where(s => s.Minutes >= end - 1).Average(s => s.ResidentMiB));
        }
    }

    public static double Slope(IReadOnlyList<(double X, double Y)> points)
    {
        if (points.Count < 2)
            return double.NaN;
        var meanX = points.Average(p => p.X);
        var meanY = points.Average(p => p.Y);
        var spread = points.Sum(p => (p.X - meanX) * (p.X - meanX));
        return spread == 0 ? double.NaN : points.Sum(p => (p.X - meanX) * (p.Y - meanY)) / spread;
    }
}

/// <summary>
/// Events at a fixed rate from users taken in turn out of a large population, for minutes, into the
/// embedded cluster on LiteDB with activation collection set short: user grains are created,
/// collected and created again from their stored state, so a leak in any of them shows as growth
/// after the warm-up. The process is sampled every <c>sampleEvery</c>.
/// </summary>
public static class SustainedEvents
{
    public static async Task<SustainedEventsResult> RunAsync(string bundleDir, string catalogDir, string work, int users, int rate,
        TimeSpan warmUp, TimeSpan duration, TimeSpan collectionAge, TimeSpan sampleEvery, CancellationToken cancellation)
    {
        var items = CatalogFiles.EnumerateItems(Path.Combine(catalogDir, CatalogFiles.ItemsFile)).Select(i => i.ItemId).ToList();
        var scratch = Path.Combine(work, "sustained-store");
        if (Directory.Exists(scratch))
            Directory.Delete(scratch, recursive: true);
        Directory.CreateDirectory(scratch);
        var (app, _) = await BenchCluster.StartAsync(bundleDir, catalogDir, "LiteDb", Path.Combine(scratch, "cluster.db"), cancellation, new Dictionary<string, string?>
        {
            ["Orleans:GrainCollection:CollectionAge"] = collectionAge.ToString(),
            // Collection runs every quantum; a quarter of the age keeps the live set near rate × age.
            ["Orleans:GrainCollection:CollectionQuantum"] = TimeSpan.FromTicks(collectionAge.Ticks / 4).ToString(),
        });
        await using (app)
        {
            var grains = app.Services.GetRequiredService<IGrainFactory>();
            var management = grains.GetGrain<IManagementGrain>(0);
            var samples = new List<MemorySample>();
            var clock = Stopwatch.StartNew();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            async Task SampleAsync()
            {
                using var process = Process.GetCurrentProcess();
                var activations = await management.GetTotalActivationCount(CancellationToken.None);
                lock (samples)
                    samples.Add(new MemorySample(clock.Elapsed.TotalMinutes, process.WorkingSet64 / (1024.0 * 1024), GC.GetTotalMemory(false) / (1024.0 * 1024), activations));
            }
            var sampler = Task.Run(async () =>
            {
                using var timer = new PeriodicTimer(sampleEvery);
                try
                {
                    while (await timer.WaitForNextTickAsync(stop.Token))
                        await SampleAsync();
                }
                catch (OperationCanceledException)
                {
                    // the run ended
                }
            }, CancellationToken.None);

            long sent = 0;
            var end = warmUp + duration;
            var now = DateTimeOffset.UtcNow;
            while (clock.Elapsed < end)
            {
                // Catch up to the schedule in batches of 500, one grain call per user as POST /api/events makes.
                var due = (long)(rate * clock.Elapsed.TotalSeconds) - sent;
                if (due <= 0)
                {
                    await Task.Delay(50, cancellation);
                    continue;
                }
                var first = sent;
                var batches = Enumerable.Range(0, (int)Math.Min(due, 8 * 500)).Select(i => first + i).Chunk(500);
                await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellation }, async (chunk, _) =>
                    await Task.WhenAll(chunk.Select(n =>
                    {
                        var user = SyntheticCatalogGenerator.UserId((int)(n % users));
                        return grains.GetGrain<IUserGrain>(user).RecordBatchAsync([new UserEvent($"sustained-{n}", user, items[(int)(n % items.Count)], EventType.View, now)]);
                    })));
                sent += Math.Min(due, 8 * 500);
            }
            var seconds = clock.Elapsed.TotalSeconds;
            await stop.CancelAsync();
            await sampler;
            await SampleAsync();
            await app.StopAsync(CancellationToken.None);
            return new SustainedEventsResult(sent, sent / seconds, samples, warmUp.TotalMinutes);
        }
    }
}
