using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using LMIndexer.Abstractions;
using LMIndexer.Cli.Console;
using LMIndexer.Bench.Load;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Evaluation;
using LMIndexer.Core.Indexing;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using LMIndexer.Bench.Reporting;
using LMIndexer.Cli.Commands;

namespace LMIndexer.Bench.Commands;

/// <summary>
/// <c>lmindexer-bench backfill</c>: a re-keyed version of a serving bundle backfilled into the
/// embedded cluster while it serves a steady loopback load, then activated; how long it took and
/// whether any request failed or named a version it should not have.
/// </summary>
public static class BackfillBenchCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var bundle = new Option<DirectoryInfo>("--bundle", "-b") { Description = "The serving bundle in service (version 1).", Required = true };
        var data = new Option<DirectoryInfo>("--data", "-d") { Description = "Its catalog (items.jsonl, sequences.tsv).", Required = true };
        var newBundle = new Option<DirectoryInfo?>("--new-bundle") { Description = "The retrained bundle to backfill (default: the same model with every item's ID handed to the next item, as a retrained index moves IDs)." };
        var rate = new Option<int>("--rate") { Description = "Recommendation requests per second during the backfill and switch.", DefaultValueFactory = _ => 20 };
        var users = new Option<int>("--users") { Description = "Users whose histories are replayed (the load asks for them).", DefaultValueFactory = _ => 2000 };
        var storage = new Option<string>("--storage") { Description = "Grain storage of the embedded cluster: LiteDb (the default store) or Memory.", DefaultValueFactory = _ => "LiteDb" };
        var work = new Option<DirectoryInfo?>("--work") { Description = "Scratch directory (re-keyed bundle, store); default under the temp directory, removed afterwards." };
        var docs = BenchmarkReport.DirectoryOption();
        var command = new Command("backfill", "Backfill and switch under load on the embedded cluster (loopback, bounded); results into the bench results.")
        {
            bundle, data, newBundle, rate, users, storage, work, docs,
        };
        common.AddTo(command);
        command.SetAction((result, cancellation) => CliErrors.RunAsync(async () =>
        {
            var requestRate = result.GetValue(rate);
            if (requestRate is < 1 or > 500)
                throw new CliUsageException("--rate must be between 1 and 500.");
            var store = result.GetValue(storage)!;
            if (store is not ("LiteDb" or "Memory"))
                throw new CliUsageException($"--storage must be LiteDb or Memory, not '{store}'.");
            var catalog = RecCommands.LoadCatalog(result.GetValue(data)!);
            var oldBundle = result.GetValue(bundle)!.FullName;
            var scratch = result.GetValue(work)?.FullName ?? Path.Combine(Path.GetTempPath(), "lmindexer-bench-backfill-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(scratch);
            common.InitializeRuntime(result);
            var clock = Stopwatch.StartNew();
            try
            {
                var retrained = result.GetValue(newBundle)?.FullName;
                var rekeyed = retrained is null;
                if (retrained is null)
                {
                    retrained = Path.Combine(scratch, "rekeyed");
                    var oldVersion = Core.Checkpoints.ModelBundle.ReadManifest(oldBundle).Version;
                    ServingBundle.CopyAsVersion(oldBundle, retrained, oldVersion + "-rekeyed",
                        table => new SemanticIdTable([.. table.ItemIds.Skip(1).Append(table.ItemIds[0])], table.Ids));
                }
                var newVersion = Core.Checkpoints.ModelBundle.ReadManifest(retrained).Version;

                var startClock = Stopwatch.StartNew();
                var (app, address) = await BenchCluster.StartAsync(oldBundle, result.GetValue(data)!.FullName, store, Path.Combine(scratch, "cluster.db"), cancellation);
                var startSeconds = startClock.Elapsed.TotalSeconds;
                await using (app)
                {
                    var grains = app.Services.GetRequiredService<IGrainFactory>();
                    var oldVersion = (await grains.GetGrain<IIndexVersionGrain>(0).GetActiveAsync())!;
                    var loadUsers = catalog.Users.Where(u => u.ItemIds.Count >= 2).Take(result.GetValue(users)).ToList();
                    await BenchCluster.ReplayHistoriesAsync(grains, loadUsers, cancellation);

                    await using var steady = await SteadyLoad.StartAsync(address, loadUsers, requestRate, TimeSpan.FromMinutes(15), cancellation);

                    var job = grains.GetGrain<IBackfillGrain>("bench-" + newVersion);
                    var backfillClock = Stopwatch.StartNew();
                    var progress = await job.StartAsync(retrained);
                    await ProgressBar.FollowAsync($"backfill {newVersion}", progress.Total, async report =>
                    {
                        while (!progress.IsFinished)
                        {
                            await Task.Delay(200, cancellation);
                            progress = (await job.GetProgressAsync())!;
                            report.Report(progress.Done);
                        }
                    });
                    var backfillSeconds = backfillClock.Elapsed.TotalSeconds;
                    if (progress.Status != BackfillStatus.Completed)
                        throw new InvalidOperationException($"The backfill ended {progress.Status}: {progress.LastError}");
                    var activationClock = Stopwatch.StartNew();
                    var activationStarted = backfillClock.Elapsed;
                    await grains.GetGrain<IIndexVersionGrain>(0).ActivateAsync(newVersion);
                    var activationSeconds = activationClock.Elapsed.TotalSeconds;
                    var switched = backfillClock.Elapsed;
                    await Task.Delay(TimeSpan.FromSeconds(3), cancellation);
                    await steady.StopAsync();
                    await app.StopAsync(CancellationToken.None);

                    // Request times are on the load's clock, which started 2 s before the job.
                    var offset = SteadyLoad.WarmUp;
                    var samples = steady.Load.Samples.ToList();
                    var failed = samples.Count(s => s.Status is < 200 or >= 300);
                    var during = samples.Where(s => s.Sent >= offset && s.Sent < offset + activationStarted).ToList();
                    var strays = samples.Count(s => s.Version is { } v && v != oldVersion && v != newVersion);
                    var oldAfterSwitch = samples.Count(s => s.Sent > offset + switched + TimeSpan.FromSeconds(0.5) && s.Version == oldVersion);

                    var measured = new BenchmarkTable();
                    void Row(string system, string metric, double value, string label, string format) => measured.Add(system, metric, value, label, format);
                    Row("bootstrap", "seconds", startSeconds, $"baseline: host start-up publishing version 1 in one go (catalog + {progress.Total:N0} IDs, no load), s", "F1");
                    Row("backfill", "seconds", backfillSeconds, $"backfill of {progress.Total:N0} items under load, s (goal ≤ 60)", "F1");
                    Row("backfill", "items-per-s", progress.Total / backfillSeconds, "backfill rate, items/s", "F0");
                    Row("backfill", "errors", progress.Errors, "batch errors retried by the job", "F0");
                    Row("activation", "seconds", activationSeconds, "activation incl. inference warm-up, s", "F2");
                    Row("load", "requests", samples.Count, $"recommendation requests at {requestRate}/s (before, during, after the switch)", "F0");
                    Row("load", "failures", failed, "failed requests (goal 0)", "F0");
                    Row("load", "wrong-version", strays + oldAfterSwitch, "answers naming another version, or the old one after the switch (goal 0)", "F0");
                    Row("load", "p50-ms", RecommendationLoad.Percentile(during, 0.5), "p50 latency during the backfill, ms", "F1");
                    Row("load", "p99-ms", RecommendationLoad.Percentile(during, 0.99), "p99 latency during the backfill, ms", "F1");
                    var commandLine = RecordedCommand.Of(result);
                    BenchmarkReport.Write(result.GetValue(docs)!.FullName, "backfill", commandLine, clock.Elapsed.TotalSeconds, measured.Rows,
                        string.Create(CultureInfo.InvariantCulture,
                            $"The embedded cluster ({store} grain storage) serving `{oldVersion}` ({catalog.Items.Count:N0} items) backfills `{newVersion}`{(rekeyed ? " (the same model with every item's ID handed to the next item: a retrained index's worth of moved IDs)" : "")} with the default job settings while {requestRate} recommendation requests/s arrive over loopback HTTP for {loadUsers.Count:N0} replayed users, then activates it and keeps serving for 3 s."),
                        measured.Markdown,
                        "Goals: backfill of a Beauty-sized catalog (12 k items) ≤ 60 s; zero failed requests and zero answers from the wrong version during the switch.");
                    AnsiConsole.Write(new Markup(Markup.Escape(measured.Markdown)));
                    return failed == 0 && strays + oldAfterSwitch == 0 ? 0 : 1;
                }
            }
            finally
            {
                if (result.GetValue(work) is null)
                    Directory.Delete(scratch, recursive: true);
            }
        }));
        return command;
    }
}
