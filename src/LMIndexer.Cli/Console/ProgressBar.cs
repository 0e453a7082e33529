using LMIndexer.Core.Training;
using Spectre.Console;

namespace LMIndexer.Cli.Console;

/// <summary>A counted progress bar for evaluation-style loops (items done of a total).</summary>
public static class ProgressBar
{
    public static T Run<T>(string title, int total, Func<IProgress<int>, T> work)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
            return work(Deciles(title, total));
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var task = context.AddTask(Markup.Escape(title), maxValue: Math.Max(1, total));
                result = work(new InlineProgress<int>(done => task.Value = done));
            });
        return result;
    }

    /// <summary>The same bar for work that is asynchronous (following a job in a cluster).</summary>
    public static async Task FollowAsync(string title, int total, Func<IProgress<int>, Task> work)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            await work(Deciles(title, total));
            return;
        }
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(title), maxValue: Math.Max(1, total));
                await work(new InlineProgress<int>(done => task.Value = done));
            });
    }

    /// <summary>Without a terminal (logs, CI): a line per tenth of the way and at least one a minute.</summary>
    private static InlineProgress<int> Deciles(string title, int total)
    {
        var cadence = PlainProgressCadence.ForConsole();
        return new InlineProgress<int>(done =>
        {
            if (cadence.ShouldPrint(title, done, total, out var remaining))
                System.Console.WriteLine($"{title} {done}/{total}{PlainProgressCadence.EtaSuffix(remaining)}");
        });
    }
}
