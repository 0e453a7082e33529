using System.Globalization;

namespace LMIndexer.Cli.Console;

/// <summary>
/// Decides which progress reports become lines when the console cannot redraw a bar (CI, pipes, nohup):
/// the first report of each stage, each tenth of it, its last, and at least one line every
/// <paramref name="interval"/> — a 60,000-step fine-tune on a slow CPU otherwise stays silent for a quarter of an hour.
/// Training steps and evaluation counts both go through it.
/// </summary>
public sealed class PlainProgressCadence(TimeProvider clock, TimeSpan interval)
{
    /// <summary>The cadence of lines written to a console without a terminal: at least one a minute.</summary>
    public static PlainProgressCadence ForConsole() => new(TimeProvider.System, TimeSpan.FromMinutes(1));

    private string? stage;
    private int lastDecile = -1;
    private long stageStarted;
    private int stageFirstDone;
    private long lastLine;

    /// <summary>True when <paramref name="done"/> of <paramref name="total"/> in <paramref name="currentStage"/> deserves a line; <paramref name="remaining"/> is the stage's estimated time left.</summary>
    public bool ShouldPrint(string currentStage, int done, int total, out TimeSpan? remaining)
    {
        var now = clock.GetTimestamp();
        if (currentStage != stage)
        {
            stage = currentStage;
            lastDecile = -1;
            stageStarted = now;
            stageFirstDone = done;
            lastLine = now;
        }

        remaining = null;
        var decile = done * 10 / Math.Max(1, total);
        var due = decile != lastDecile || done == total || clock.GetElapsedTime(lastLine, now) >= interval;
        if (!due)
            return false;

        lastDecile = decile;
        lastLine = now;
        if (done > stageFirstDone && done < total)
        {
            // The clock starts at the stage's first report, so the reports since then say how long one step takes.
            var perStep = clock.GetElapsedTime(stageStarted, now) / (done - stageFirstDone);
            remaining = perStep * (total - done);
        }
        return true;
    }

    /// <summary>" eta 12m05s" when there is an estimate, otherwise nothing: the suffix of a progress line.</summary>
    public static string EtaSuffix(TimeSpan? remaining) => remaining is { } left ? $" eta {Format(left)}" : string.Empty;

    /// <summary>"1h02m", "12m05s", "40s": the two largest units are enough for a training log.</summary>
    public static string Format(TimeSpan span) => span.TotalHours >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}h{span.Minutes:D2}m")
        : span.TotalMinutes >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes}m{span.Seconds:D2}s")
            : string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, (int)span.TotalSeconds)}s");
}
