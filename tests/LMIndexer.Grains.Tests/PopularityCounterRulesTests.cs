using LMIndexer.Abstractions;
using LMIndexer.Grains.Popularity;

namespace LMIndexer.Grains.Tests;

/// <summary>A silo counter's rules: counts waiting for a merge, and its copy of the top items.</summary>
public sealed class PopularityCounterRulesTests
{
    private static readonly DateTime Now = new(2026, 12, 6, 9, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan FreshFor = TimeSpan.FromSeconds(1);

    private static PopularItem[] Items(int count) => [.. Enumerable.Range(0, count).Select(i => new PopularItem($"i{i}", count - i))];

    [Fact]
    public void Counts_add_up_per_item_until_taken()
    {
        var pending = new PendingCounts();
        pending.Add("a", 5, 1);
        pending.Add("b", 1, 1);
        pending.Add("a", 3, 2);

        Assert.Equal(2, pending.Count);
        Assert.Equal([new ItemEventCount("a", 8, 3), new ItemEventCount("b", 1, 1)], pending.TakeAll().OrderBy(c => c.ItemId));
        Assert.Equal(0, pending.Count);
        Assert.Empty(pending.TakeAll());
    }

    [Fact]
    public void Counts_recorded_during_a_merge_wait_for_the_next_one()
    {
        var pending = new PendingCounts();
        pending.Add("a", 1, 1);
        var merging = pending.TakeAll();

        pending.Add("b", 2, 1);

        Assert.Equal([new ItemEventCount("a", 1, 1)], merging);
        Assert.Equal([new ItemEventCount("b", 2, 1)], pending.TakeAll());
    }

    [Fact]
    public void A_failed_merge_puts_its_counts_back_beside_the_new_ones()
    {
        var pending = new PendingCounts();
        pending.Add("a", 1, 1);
        var failed = pending.TakeAll();
        pending.Add("a", 3, 2);

        pending.Restore(failed);

        Assert.Equal([new ItemEventCount("a", 4, 3)], pending.TakeAll());
    }

    [Fact]
    public void Pending_counts_refuse_nulls()
    {
        var pending = new PendingCounts();

        Assert.Throws<ArgumentNullException>("itemId", () => pending.Add(null!, 1, 1));
        Assert.Throws<ArgumentNullException>("failed", () => pending.Restore(null!));
    }

    [Fact]
    public void Without_a_copy_the_ranking_is_asked_for_at_least_the_copy_size()
    {
        var copy = new PopularTopCopy(200, FreshFor);

        Assert.False(copy.HasCopy);
        Assert.Equal(200, copy.ToAsk(10, Now));
        Assert.Equal(300, copy.ToAsk(300, Now));
        Assert.Equal("No copy of the popular items has been read yet.", Assert.Throws<InvalidOperationException>(() => copy.Take(1)).Message);
    }

    [Fact]
    public void A_fresh_copy_serves_until_it_is_older_than_its_freshness()
    {
        var copy = new PopularTopCopy(200, FreshFor);
        copy.Store(Items(200), 200, Now);

        Assert.True(copy.HasCopy);
        Assert.Equal(Now, copy.ReadAt);
        Assert.Null(copy.ToAsk(10, Now));
        Assert.Null(copy.ToAsk(200, Now + FreshFor));
        Assert.Equal(200, copy.ToAsk(10, Now + FreshFor + TimeSpan.FromTicks(1)));
        Assert.Equal(["i0", "i1", "i2"], copy.Take(3).Select(p => p.ItemId));
    }

    [Fact]
    public void A_request_for_more_than_a_full_copy_asks_again_and_a_shorter_ranking_serves_from_the_copy()
    {
        var full = new PopularTopCopy(200, FreshFor);
        full.Store(Items(200), 200, Now);
        Assert.Equal(250, full.ToAsk(250, Now));

        var shorter = new PopularTopCopy(200, FreshFor);
        shorter.Store(Items(40), 200, Now);
        Assert.Null(shorter.ToAsk(250, Now));
        Assert.Equal(40, shorter.Take(250).Count);
    }

    [Fact]
    public void A_copy_refuses_a_count_below_one_and_a_null_ranking()
    {
        var copy = new PopularTopCopy(200, FreshFor);

        Assert.Throws<ArgumentOutOfRangeException>("count", () => copy.ToAsk(0, Now));
        Assert.Throws<ArgumentNullException>("ranked", () => copy.Store(null!, 200, Now));
    }
}
