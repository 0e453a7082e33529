using LMIndexer.Abstractions;
using LMIndexer.Grains.Users;

namespace LMIndexer.Grains.Tests;

public sealed class RecommendationReasonsTests
{
    private static (HistoryEntry, ItemRecord?, long[]?) Seen(string id, EventType type, long[]? codes, string? title = null) =>
        (new HistoryEntry(id, type, DateTimeOffset.UnixEpoch), new ItemRecord(id, title ?? $"Item {id}"), codes);

    [Fact]
    public void The_history_item_with_the_longest_shared_prefix_is_named_with_what_the_user_did()
    {
        var history = new[]
        {
            Seen("a", EventType.View, [3, 1, 0]),
            Seen("b", EventType.Purchase, [3, 2, 0], "Rose night balm"),
            Seen("c", EventType.Cart, [5, 2, 1]),
        };
        Assert.Equal("Like Rose night balm, which you bought", RecommendationReasons.ForGenerated([3, 2, 1], history));
        Assert.Equal("Like Item c, which you added to your cart", RecommendationReasons.ForGenerated([5, 0, 0], history));
    }

    [Fact]
    public void On_a_tie_the_most_recent_wins_and_without_a_shared_prefix_there_is_no_reason()
    {
        var history = new[] { Seen("old", EventType.View, [3, 1, 0]), Seen("new", EventType.Click, [3, 2, 0]), Seen("unknown", EventType.View, null) };
        Assert.Equal("Like Item new, which you viewed", RecommendationReasons.ForGenerated([3, 5, 0], history));
        Assert.Null(RecommendationReasons.ForGenerated([7, 1, 0], history));
    }
}
