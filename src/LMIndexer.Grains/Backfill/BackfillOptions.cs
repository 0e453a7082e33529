using Microsoft.Extensions.Options;

namespace LMIndexer.Grains.Backfill;

/// <summary>How backfill jobs write (section <c>Backfill</c>).</summary>
public sealed class BackfillOptions
{
    public const string Section = "Backfill";

    /// <summary>Items per batch; the job's cursor is persisted after each.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>
    /// Grain calls in flight at most within a batch. Wider batches were no faster once items are
    /// written in key order, and lengthened the serving tail (docs/decisions/008-backfill-batches.md).
    /// </summary>
    public int Parallelism { get; set; } = 32;

    /// <summary>How often the job's reminder fires; it restarts a job whose silo died.</summary>
    public TimeSpan ReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Attempts per batch before the job is marked failed (it can be started again and resumes).</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Pause after each batch: throttles the job's load on storage while the cluster serves.</summary>
    public TimeSpan PauseBetweenBatches { get; set; } = TimeSpan.Zero;
}

/// <summary>Rejects backfill settings that cannot work, at start-up.</summary>
public sealed class BackfillOptionsValidator : IValidateOptions<BackfillOptions>
{
    public ValidateOptionsResult Validate(string? name, BackfillOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.BatchSize < 1)
            errors.Add($"Backfill:BatchSize must be at least 1 (got {options.BatchSize}).");
        if (options.Parallelism < 1)
            errors.Add($"Backfill:Parallelism must be at least 1 (got {options.Parallelism}).");
        if (options.ReminderPeriod <= TimeSpan.Zero)
            errors.Add($"Backfill:ReminderPeriod must be positive (got {options.ReminderPeriod}).");
        if (options.MaxAttempts < 1)
            errors.Add($"Backfill:MaxAttempts must be at least 1 (got {options.MaxAttempts}).");
        if (options.PauseBetweenBatches < TimeSpan.Zero)
            errors.Add($"Backfill:PauseBetweenBatches cannot be negative (got {options.PauseBetweenBatches}).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
