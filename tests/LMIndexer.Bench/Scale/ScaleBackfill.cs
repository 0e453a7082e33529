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
    public static async Task<ScaleBackfillResult> RunAsync(string bundleDir, string catalogDir, SemanticIdTable ids, string work, int rate, int batchSize, int parallelism, CancellationToken cancellation)
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
        var settings = new Dictionary<string, string?>
        {
            ["Backfill:BatchSize"] = batchSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Backfill:Parallelism"] = parallelism.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        var (app, address) = await BenchCluster.StartAsync(bundleDir, catalogDir, "LiteDb", Path.Combine(scratch, "cluster.db"), cancellation, settings);
        await using (app)
        {
            var grains = app.Services.GetRequiredService<IGrainFactory>();
            var users = CatalogFiles.Load(catalogDir).Users.Where(u => u.ItemIds.Count >= 2).Take(2000).ToList();
            await BenchCluster.ReplayHistoriesAsync(grains, users, cancellation);

            await using var steady = await SteadyLoad.StartAsync(address, users, rate, TimeSpan.FromMinutes(40), cancellation);

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
            await steady.StopAsync();
            await app.StopAsync(CancellationToken.None);
            if (progress.Status != BackfillStatus.Completed)
                throw new InvalidOperationException($"The backfill ended {progress.Status} at {progress.Done}/{progress.Total}: {progress.LastError}");

            var samples = steady.Load.Samples.ToList();
            var during = samples.Where(s => s.Sent >= SteadyLoad.WarmUp).ToList();
            return new ScaleBackfillResult(ids.Count, seconds, progress.Errors, samples.Count,
                samples.Count(s => !s.Ok), samples.Count(s => s.Version is { } v && v != served),
                RecommendationLoad.Percentile(during, 0.5), RecommendationLoad.Percentile(during, 0.99), peak);
        }
    }
}
