using LMIndexer.Abstractions;

namespace LMIndexer.Grains.Users;

/// <summary>
/// Why an item is shown, in words for the shopper. A generated item follows the history item
/// whose semantic ID shares the longest prefix with its own (the most recent one on a tie):
/// items under one prefix are ones the indexer found alike.
/// </summary>
public static class RecommendationReasons
{
    public const string Popular = "Popular right now";

    /// <param name="codes">The generated item's semantic ID.</param>
    /// <param name="history">The user's events, oldest first, with each item's record and semantic ID in the same version (null when unknown).</param>
    public static string? ForGenerated(long[] codes, IReadOnlyList<(HistoryEntry Event, ItemRecord? Record, long[]? Codes)> history)
    {
        ArgumentNullException.ThrowIfNull(codes);
        ArgumentNullException.ThrowIfNull(history);
        (HistoryEntry Event, ItemRecord Record)? best = null;
        var bestShared = 0;
        for (var i = history.Count - 1; i >= 0; i--)
        {
            var (entry, record, ids) = history[i];
            if (record is null || ids is null)
                continue;
            var shared = SharedPrefix(codes, ids);
            if (shared > bestShared)
                (best, bestShared) = ((entry, record), shared);
        }
        return best is { } b ? $"Like {b.Record.Title ?? b.Record.ItemId}, which you {Verb(b.Event.Type)}" : null;
    }

    private static int SharedPrefix(long[] a, long[] b)
    {
        var n = 0;
        while (n < a.Length && n < b.Length && a[n] == b[n])
            n++;
        return n;
    }

    private static string Verb(EventType type) => type switch
    {
        EventType.Purchase => "bought",
        EventType.Cart => "added to your cart",
        _ => "viewed",
    };
}
