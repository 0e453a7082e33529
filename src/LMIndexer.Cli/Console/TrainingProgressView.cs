using System.Globalization;
using LMIndexer.Core.Training;
using Spectre.Console;

namespace LMIndexer.Cli.Console;

/// <summary>Shows training steps as a Spectre progress bar (stage, step, loss parts, sequences/s, ETA).</summary>
public static class TrainingProgressView
{
    public static T Run<T>(string title, int totalSteps, Func<IProgress<TrainingProgress>, T> train)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
            return RunPlain(title, train);
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var task = context.AddTask(Markup.Escape(title), maxValue: totalSteps);
                var stages = new StageOffsets();
                result = train(new InlineProgress<TrainingProgress>(p =>
                {
                    if (double.IsNaN(p.Loss))
                    {
                        // An evaluation after training has its own count: the bar starts again for it.
                        task.MaxValue = Math.Max(1, p.TotalSteps);
                        task.Value = p.Step;
                    }
                    else
                        task.Value = Math.Min(totalSteps, stages.Cumulative(p));
                    task.Description = Markup.Escape($"{title} {Describe(p)}");
                }));
            });
        return result;
    }

    // Non-interactive output (CI, pipes): lines at a steady cadence instead of redraws.
    private static T RunPlain<T>(string title, Func<IProgress<TrainingProgress>, T> train)
    {
        var cadence = PlainProgressCadence.ForConsole();
        return train(new InlineProgress<TrainingProgress>(p =>
        {
            if (cadence.ShouldPrint(p.Stage, p.Step, p.TotalSteps, out var remaining))
                System.Console.WriteLine(double.IsNaN(p.Loss)
                    ? $"{title} {Describe(p)}{PlainProgressCadence.EtaSuffix(remaining)}"
                    : $"{title} step {p.Step}/{p.TotalSteps} {Describe(p)}{PlainProgressCadence.EtaSuffix(remaining)}");
        }));
    }

    private static string Describe(TrainingProgress p)
    {
        // An evaluation stage (the ranking choice) has no loss: it counts examples scored.
        if (double.IsNaN(p.Loss))
            return string.Create(CultureInfo.InvariantCulture, $"[{p.Stage}] {p.Step:N0}/{p.TotalSteps:N0} scored, {p.SequencesPerSecond:F0} users/s");
        var parts = p.LossParts is { Count: > 0 }
            ? " (" + string.Join(", ", p.LossParts.Select(kv => $"{kv.Key} {kv.Value.ToString("F3", CultureInfo.InvariantCulture)}")) + ")"
            : string.Empty;
        var epoch = p.Epochs > 0 ? string.Create(CultureInfo.InvariantCulture, $" epoch {p.Epoch}/{p.Epochs}") : string.Empty;
        return string.Create(CultureInfo.InvariantCulture, $"[{p.Stage}]{epoch} loss {p.Loss:F3}{parts} lr {p.LearningRate:G3} {p.SequencesPerSecond:F0} items/s");
    }

    // Each stage counts its own steps; the bar shows the whole run.
    private sealed class StageOffsets
    {
        private string? stage;
        private int offset;
        private int lastTotal;

        public int Cumulative(TrainingProgress p)
        {
            if (p.Stage != stage)
            {
                offset += stage is null ? 0 : lastTotal;
                stage = p.Stage;
            }
            lastTotal = p.TotalSteps;
            return offset + p.Step;
        }
    }
}
