using Spectre.Console;

namespace LMIndexer.Cli.Console;

/// <summary>A counted progress bar for evaluation-style loops (items done of a total).</summary>
public static class ProgressBar
{
    public static T Run<T>(string title, int total, Func<IProgress<int>, T> work)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            var lastDecile = -1;
            return work(new InlineCount(done =>
            {
                var decile = done * 10 / Math.Max(1, total);
                if (decile == lastDecile && done != total)
                    return;
                lastDecile = decile;
                System.Console.WriteLine($"{title} {done}/{total}");
            }));
        }
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var task = context.AddTask(Markup.Escape(title), maxValue: Math.Max(1, total));
                result = work(new InlineCount(done => task.Value = done));
            });
        return result;
    }

    private sealed class InlineCount(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
