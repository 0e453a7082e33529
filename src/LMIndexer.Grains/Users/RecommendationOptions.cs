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
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
