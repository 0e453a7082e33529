using System.CommandLine;
using LMIndexer.Abstractions;
using LMIndexer.Cli.Console;
using LMIndexer.Grains.Versions;
using Spectre.Console;

namespace LMIndexer.Cli.Commands;

/// <summary><c>lmindexer backfill start|status|cancel|activate|rollback|versions</c> against a running cluster.</summary>
public static class BackfillCommands
{
    public static Command Create()
    {
        var backfill = new Command("backfill", "Move a running cluster to a retrained index: backfill its IDs while the old version serves, switch, roll back.");
        backfill.Subcommands.Add(Start());
        backfill.Subcommands.Add(Status());
        backfill.Subcommands.Add(Cancel());
        backfill.Subcommands.Add(Activate());
        backfill.Subcommands.Add(Rollback());
        backfill.Subcommands.Add(Versions());
        return backfill;
    }

    private static Command Start()
    {
        var connection = new ClusterConnection();
        var bundle = new Argument<string>("bundle") { Description = "The new serving bundle ('lmindexer train' output): its absolute path on the silos' disk, which the silos read (checked here too when this machine sees it)." };
        var job = new Option<string?>("--job") { Description = "Job id (default backfill-<version>); starting a job again resumes it." };
        var detach = new Option<bool>("--detach") { Description = "Return once the job runs instead of following it." };
        var command = new Command("start", "Register the bundle as a new version and write its IDs into the cluster; follows the job with a progress bar.") { bundle, job, detach };
        connection.AddTo(command);
        command.SetAction((result, cancellation) => CliErrors.RunAsync(() =>
        {
            var given = result.GetValue(bundle)!;
            string path;
            string? version = null;
            if (Directory.Exists(given))
            {
                // Visible here too (one machine, or a shared mount): checked before the cluster is asked.
                path = Path.GetFullPath(given);
                version = IndexPublisher.ReadServingIds(path).Manifest.Version;
            }
            else if (Path.IsPathFullyQualified(given))
            {
                path = given;   // on the silos' disk only: they read it, and say so if it is not a bundle
            }
            else
            {
                throw new CliUsageException($"'{given}' is not a directory here; give the bundle's absolute path on the silos' disk.");
            }
            var jobId = result.GetValue(job) ?? $"backfill-{version ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(path))}";
            return connection.RunAsync(result, async grains =>
            {
                var progress = await grains.GetGrain<IBackfillGrain>(jobId).StartAsync(path);
                AnsiConsole.MarkupLineInterpolated($"backfill [bold]{jobId}[/]: version {progress.Version}, {progress.Total:N0} items");
                return result.GetValue(detach) ? 0 : await FollowAsync(grains, jobId, cancellation);
            }, cancellation);
        }));
        return command;
    }

    private static Command Status()
    {
        var job = new Argument<string>("job") { Description = "The job id." };
        var watch = new Option<bool>("--watch") { Description = "Follow the job until it finishes." };
        var command = new Command("status", "Show a backfill job's progress: items done, rate, time left, errors.") { job, watch };
        ClusterConnection.Attach(command, async (result, grains, cancellation) =>
        {
            var jobId = result.GetValue(job)!;
            if (result.GetValue(watch))
                return await FollowAsync(grains, jobId, cancellation);
            var progress = await grains.GetGrain<IBackfillGrain>(jobId).GetProgressAsync() ?? throw new CliUsageException($"there is no backfill job '{jobId}'.");
            Print(progress);
            return progress.Status is BackfillStatus.Failed ? 1 : 0;
        });
        return command;
    }

    private static Command Cancel()
    {
        var job = new Argument<string>("job") { Description = "The job id." };
        var command = new Command("cancel", "Stop a backfill job after its current batch ('backfill start' again resumes it).") { job };
        ClusterConnection.Attach(command, async (result, grains, cancellation) =>
        {
            var jobId = result.GetValue(job)!;
            Print(await grains.GetGrain<IBackfillGrain>(jobId).CancelAsync() ?? throw new CliUsageException($"there is no backfill job '{jobId}'."));
            return 0;
        });
        return command;
    }

    private static Command Activate()
    {
        var version = new Argument<string>("version") { Description = "A registered version whose backfill has completed." };
        var command = new Command("activate", "Serve a backfilled version (after its inference grains warm up); retires versions beyond the retention limit.") { version };
        ClusterConnection.Attach(command, async (result, grains, cancellation) =>
        {
            var activation = await grains.GetGrain<IIndexVersionGrain>(0).ActivateAsync(result.GetValue(version)!);
            AnsiConsole.MarkupLineInterpolated($"active: [bold]{activation.Active}[/] (previous {activation.Previous ?? "none"}){(activation.Retired.Count > 0 ? $"; retired {string.Join(", ", activation.Retired)}" : "")}");
            return 0;
        });
        return command;
    }

    private static Command Rollback()
    {
        var command = new Command("rollback", "Serve the previously active version again.");
        ClusterConnection.Attach(command, async (result, grains, cancellation) =>
        {
            AnsiConsole.MarkupLineInterpolated($"active: [bold]{await grains.GetGrain<IIndexVersionGrain>(0).RollbackAsync()}[/]");
            return 0;
        });
        return command;
    }

    private static Command Versions()
    {
        var command = new Command("versions", "List the registered versions.");
        ClusterConnection.Attach(command, async (result, grains, cancellation) =>
        {
            var registry = await grains.GetGrain<IIndexVersionGrain>(0).GetAsync();
            var table = new Table().AddColumns("version", "task", "items", "ready", "registered", "state");
            foreach (var v in registry.Versions.OrderBy(v => v.Registered))
            {
                var state = v.Version == registry.Active ? "active" : v.Version == registry.ActiveSearch ? "active (search)" : v.Version == registry.Previous ? "previous" : "";
                table.AddRow(Markup.Escape(v.Version), v.Task, v.Items.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), v.Ready ? "yes" : "no", v.Registered.ToString("u", System.Globalization.CultureInfo.InvariantCulture), state);
            }
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }

    /// <summary>Polls the job until it finishes, as a live progress bar; Ctrl+C stops following, not the job.</summary>
    private static async Task<int> FollowAsync(IGrainFactory grains, string jobId, CancellationToken cancellation)
    {
        var job = grains.GetGrain<IBackfillGrain>(jobId);
        var progress = await job.GetProgressAsync() ?? throw new CliUsageException($"there is no backfill job '{jobId}'.");
        try
        {
            await ProgressBar.FollowAsync($"backfill {jobId}", progress.Total, async report =>
            {
                while (true)
                {
                    report.Report(progress.Done);
                    if (progress.IsFinished)
                        return;
                    await Task.Delay(500, cancellation);
                    progress = await job.GetProgressAsync() ?? progress;
                }
            });
        }
        catch (OperationCanceledException)
        {
            AnsiConsole.MarkupLine("stopped following; the job goes on ('lmindexer backfill status' to look again)");
            return 0;
        }
        Print(progress);
        return progress.Status is BackfillStatus.Completed or BackfillStatus.Cancelled ? 0 : 1;
    }

    private static void Print(BackfillProgress p)
    {
        var rate = p.ItemsPerSecond > 0 ? $", {p.ItemsPerSecond:N0} items/s" : "";
        var left = p.Remaining is { } r ? $", about {r:hh\\:mm\\:ss} left" : "";
        System.Console.WriteLine($"{p.JobId}: {p.Status.ToString().ToLowerInvariant()}, version {p.Version}, {p.Done:N0}/{p.Total:N0} items{rate}{left}, {p.Errors} errors, {p.Resumes} resumes, on {p.Silo}");
        if (p.LastError is not null)
            System.Console.WriteLine($"last error: {p.LastError}");
    }
}
