using System.Diagnostics;
using LMIndexer.Abstractions;
using LMIndexer.Bench.Load;
using LMIndexer.Cli.Commands;
using LMIndexer.Cli.Console;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Data;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Indexing;
using Microsoft.Extensions.DependencyInjection;

namespace LMIndexer.Bench.Scale;

/// <summary>What a catalog-sized backfill did while the cluster served recommendations.</summary>
public sealed record ScaleBackfillResult(int Items, double Seconds, int BatchErrors, int Requests, int FailedRequests, int WrongVersion, double P50, double P99, double PeakMiB);

/// <summary>
/// Backfills a version whose ID table covers the whole scale catalog into the embedded cluster on
/// LiteDB while it serves recommendations of the bundle in service. The new version is written, not
/// activated: its model is the serving bundle's, whose vocabulary knows only that bundle's items.
/// </summary>
public static class ScaleBackfill
{
    public static async Task<ScaleBackfillResult> RunAsync(string bundleDir, string catalogDir, SemanticIdTable ids, string work, int rate, CancellationToken cancellation)
    {
        var scaleBundle = Path.Combine(work, "backfill-bundle");
        if (Directory.Exists(scaleBundle))
            Directory.Delete(scaleBundle, recursive: true);
        var version = $"scale-{ids.Count}";
        ServingBundle.CopyAsVersion(bundleDir, scaleBundle, version);
        ids.Save(Path.Combine(scaleBundle, SemanticIdTable.FileName));
        var served = ModelBundle.ReadManifest(bundleDir).Version;

        var scratch = Path.Combine(work, "backfill-store");
        if (Directory.Exists(scratch))
            Directory.Delete(scratch, recursive: true);
        Directory.CreateDirectory(scratch);
        var (app, address) = await EmbeddedHost.StartAsync(bundleDir, catalogDir, 0, cancellation, new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "LiteDb",
            ["Storage:LiteDb:ConnectionString"] = $"Filename={Path.Combine(scratch, "cluster.db")}",
            ["Security:PermitsPerSecond"] = "0",
        });
        await using (app)
        {
            var grains = app.Services.GetRequiredService<IGrainFactory>();
            var users = CatalogFiles.Load(catalogDir).Users.Where(u => u.ItemIds.Count >= 2).Take(2000).ToList();
            await Parallel.ForEachAsync(users, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellation }, async (u, _) =>
                await grains.GetGrain<IUserGrain>(u.UserId).RecordBatchAsync([.. u.ItemIds.Take(u.ItemIds.Count - 1).Select((item, i) => new UserEvent($"{u.UserId}-{i}", u.UserId, item, EventType.View, DateTimeOffset.UtcNow))]));

            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = RecommendationLoad.RequireLoopback(address), Timeout = TimeSpan.FromSeconds(30) };
            var next = 0;
            string NextUser() => users[Interlocked.Increment(ref next) % users.Count].UserId;
            var load = new RecommendationLoad();
            using var stopLoad = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            // Bounded by itself: at most 40 minutes and that many requests, whatever happens to the job.
            var loadRun = load.RunAsync(http, NextUser, rate, rate * 2400, TimeSpan.FromMinutes(40), stopLoad.Token);
            await Task.Delay(TimeSpan.FromSeconds(2), cancellation);

            using var meter = StageMeter.Start();
            var clock = Stopwatch.StartNew();
            var job = grains.GetGrain<IBackfillGrain>("scale-" + version);
            var progress = await job.StartAsync(scaleBundle);
            await ProgressBar.FollowAsync($"backfill {ids.Count:N0} items", progress.Total, async report =>
            {
                while (!progress.IsFinished && clock.Elapsed < TimeSpan.FromMinutes(38))
                {
                    await Task.Delay(500, cancellation);
                    progress = (await job.GetProgressAsync())!;
                    report.Report(progress.Done);
                }
            });
            var seconds = clock.Elapsed.TotalSeconds;
            var peak = meter.PeakMiB;
            await stopLoad.CancelAsync();
            await loadRun;
            await app.StopAsync(CancellationToken.None);
            if (progress.Status != BackfillStatus.Completed)
                throw new InvalidOperationException($"The backfill ended {progress.Status} at {progress.Done}/{progress.Total}: {progress.LastError}");

            var samples = load.Samples.ToList();
            var during = samples.Where(s => s.Sent >= TimeSpan.FromSeconds(2)).ToList();
            return new ScaleBackfillResult(ids.Count, seconds, progress.Errors, samples.Count,
                samples.Count(s => !s.Ok), samples.Count(s => s.Version is { } v && v != served),
                RecommendationLoad.Percentile(during, 0.5), RecommendationLoad.Percentile(during, 0.99), peak);
        }
    }
}
