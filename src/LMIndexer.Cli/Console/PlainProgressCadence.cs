using System.Globalization;
using LMIndexer.Core.Training;

namespace LMIndexer.Cli.Console;

/// <summary>
/// Decides which training reports become lines when the console cannot redraw a bar (CI, pipes, nohup):
/// the first step of each stage, each tenth of it, its last step, and at least one line every
/// <paramref name="interval"/> — a 60,000-step fine-tune on a slow CPU otherwise stays silent for a quarter of an hour.
/// </summary>
public sealed class PlainProgressCadence(TimeProvider clock, TimeSpan interval)
{
    private string? stage;
    private int lastDecile = -1;
    private long stageStarted;
    private int stageFirstStep;
    private long lastLine;

    /// <summary>True when <paramref name="progress"/> deserves a line; <paramref name="remaining"/> is the stage's estimated time left.</summary>
    public bool ShouldPrint(TrainingProgress progress, out TimeSpan? remaining)
    {
        var now = clock.GetTimestamp();
        if (progress.Stage != stage)
        {
            stage = progress.Stage;
            lastDecile = -1;
            stageStarted = now;
            stageFirstStep = progress.Step;
            lastLine = now;
        }

        remaining = null;
        var decile = progress.Step * 10 / Math.Max(1, progress.TotalSteps);
        var due = decile != lastDecile || progress.Step == progress.TotalSteps || clock.GetElapsedTime(lastLine, now) >= interval;
        if (!due)
            return false;

        lastDecile = decile;
        lastLine = now;
        if (progress.Step > stageFirstStep && progress.Step < progress.TotalSteps)
        {
            // The clock starts at the stage's first report, so the steps since then say how long one takes.
            var perStep = clock.GetElapsedTime(stageStarted, now) / (progress.Step - stageFirstStep);
            remaining = perStep * (progress.TotalSteps - progress.Step);
        }
        return true;
    }

    /// <summary>"1h02m", "12m05s", "40s": the two largest units are enough for a training log.</summary>
    public static string Format(TimeSpan span) => span.TotalHours >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}h{span.Minutes:D2}m")
        : span.TotalMinutes >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes}m{span.Seconds:D2}s")
            : string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, (int)span.TotalSeconds)}s");
}
