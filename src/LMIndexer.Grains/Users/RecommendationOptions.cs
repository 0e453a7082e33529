using Microsoft.Extensions.Options;

namespace LMIndexer.Grains.Users;

/// <summary>How users keep history and get recommendations (section <c>Recommendations</c>).</summary>
public sealed class RecommendationOptions
{
    public const string Section = "Recommendations";

    /// <summary>Events kept per user (the model reads the newest first, up to its source budget).</summary>
    public int HistoryLength { get; set; } = 50;

    /// <summary>Items remembered as seen (never recommended again).</summary>
    public int SeenLength { get; set; } = 500;

    /// <summary>Event ids remembered for de-duplication.</summary>
    public int EventIdMemory { get; set; } = 1000;

    /// <summary>Most items one request may ask for.</summary>
    public int MaxCount { get; set; } = 100;

    /// <summary>
    /// How long the API waits for a user's grain to answer one call before it tries again (events)
    /// or answers from popularity, marked degraded (recommendations). Above the inference timeout,
    /// so a slow model degrades inside the grain, with the user's seen items still filtered.
    /// </summary>
    public int CallTimeoutMilliseconds { get; set; } = 4000;

    /// <summary>
    /// How long the API keeps retrying an event batch whose user grain did not answer (a silo lost
    /// and its grains moving) before the client gets the error. Events carry ids, so a batch written
    /// twice counts once.
    /// </summary>
    public int EventDeadlineMilliseconds { get; set; } = 20000;
}

/// <summary>Rejects recommendation settings that cannot work, at start-up.</summary>
public sealed class RecommendationOptionsValidator : IValidateOptions<RecommendationOptions>
{
    public ValidateOptionsResult Validate(string? name, RecommendationOptions options)
    {
        var errors = new List<string>();
        if (options.HistoryLength < 1)
            errors.Add($"Recommendations:HistoryLength must be at least 1 (got {options.HistoryLength}).");
        if (options.SeenLength < 1)
            errors.Add($"Recommendations:SeenLength must be at least 1 (got {options.SeenLength}).");
        if (options.EventIdMemory < 1)
            errors.Add($"Recommendations:EventIdMemory must be at least 1 (got {options.EventIdMemory}).");
        if (options.MaxCount < 1)
            errors.Add($"Recommendations:MaxCount must be at least 1 (got {options.MaxCount}).");
        if (options.CallTimeoutMilliseconds < 1)
            errors.Add($"Recommendations:CallTimeoutMilliseconds must be at least 1 (got {options.CallTimeoutMilliseconds}).");
        if (options.EventDeadlineMilliseconds < options.CallTimeoutMilliseconds)
            errors.Add($"Recommendations:EventDeadlineMilliseconds ({options.EventDeadlineMilliseconds}) must be at least CallTimeoutMilliseconds ({options.CallTimeoutMilliseconds}).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
