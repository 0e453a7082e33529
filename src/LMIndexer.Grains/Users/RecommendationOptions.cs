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
