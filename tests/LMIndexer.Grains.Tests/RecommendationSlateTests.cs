using LMIndexer.Abstractions;
using LMIndexer.Grains.Users;

namespace LMIndexer.Grains.Tests;

/// <summary>How one recommendation answer is put together: model first, popularity to fill, nothing seen or twice.</summary>
public sealed class RecommendationSlateTests
{
    private static RecommendationSlate Slate(int count, params string[] seen) => new(count, new HashSet<string>(seen, StringComparer.Ordinal));

    private static string Show(RecommendationSlate slate) =>
        string.Join(" ", slate.Items(new Dictionary<string, ItemRecord>()).Select(i => $"{i.ItemId}:{i.Source}"));

    [Fact]
    public void Generated_items_keep_the_model_order_without_seen_items_or_repeats()
    {
        var slate = Slate(3, "seen");

        Assert.True(slate.Add("a", 0.9, RecommendationSource.Model, "like x"));
        Assert.False(slate.Add("seen", 0.8, RecommendationSource.Model, null));
        Assert.False(slate.Add("a", 0.7, RecommendationSource.Model, null));
        Assert.True(slate.Add("b", 0.6, RecommendationSource.Model, null));

        Assert.Equal("a:Model b:Model", Show(slate));
        Assert.Equal(2, slate.Count);
        Assert.False(slate.IsFull);
    }

    [Fact]
    public void A_full_slate_takes_nothing_more()
    {
        var slate = Slate(2);
        slate.Add("a", 1, RecommendationSource.Model, null);
        slate.Add("b", 1, RecommendationSource.Model, null);

        Assert.True(slate.IsFull);
        Assert.False(slate.Add("c", 1, RecommendationSource.Model, null));
        slate.FillWithPopular([new PopularItem("p", 5)]);

        Assert.Equal("a:Model b:Model", Show(slate));
    }

    [Fact]
    public void Popular_items_fill_the_rest_in_popularity_order_leaving_out_seen_and_chosen_ones()
    {
        var slate = Slate(4, "top");
        slate.Add("a", 0.9, RecommendationSource.Model, null);

        slate.FillWithPopular([new("top", 9), new("a", 8), new("p1", 7), new("p2", 6), new("p3", 5), new("p4", 4)]);

        var items = slate.Items(new Dictionary<string, ItemRecord>());
        Assert.Equal(["a", "p1", "p2", "p3"], items.Select(i => i.ItemId));
        Assert.Equal([0.9, 7, 6, 5], items.Select(i => i.Score));
        Assert.All(items.Skip(1), i => Assert.Equal((RecommendationSource.Popular, RecommendationReasons.Popular), (i.Source, i.Reason)));
    }

    [Fact]
    public void Enough_popular_items_are_asked_for_to_fill_the_slate_after_the_seen_and_chosen_ones()
    {
        var slate = Slate(5, "s1", "s2");
        Assert.Equal(7, slate.PopularNeeded);

        slate.Add("a", 1, RecommendationSource.Model, null);
        slate.Add("s1", 1, RecommendationSource.Model, null);

        Assert.Equal(8, slate.PopularNeeded);
    }

    [Fact]
    public void Clearing_after_a_failed_model_starts_again_from_the_seen_items()
    {
        var slate = Slate(2, "seen");
        slate.Add("a", 1, RecommendationSource.Model, null);
        slate.Add("b", 1, RecommendationSource.Model, null);

        slate.Clear();

        Assert.Equal(0, slate.Count);
        Assert.Equal(3, slate.PopularNeeded);
        slate.FillWithPopular([new("seen", 9), new("b", 8), new("c", 7)]);
        Assert.Equal("b:Popular c:Popular", Show(slate));
    }

    [Fact]
    public void Each_item_carries_its_catalog_record_where_there_is_one()
    {
        var slate = Slate(2);
        slate.Add("a", 0.5, RecommendationSource.Model, "because");
        slate.Add("b", 0.4, RecommendationSource.Model, null);
        var record = new ItemRecord("a", "Shampoo");

        var items = slate.Items(new Dictionary<string, ItemRecord> { ["a"] = record });

        Assert.Equal(new RecommendedItem("a", 0.5, RecommendationSource.Model, record, "because"), items[0]);
        Assert.Null(items[1].Item);
        Assert.Equal(["a", "b"], slate.ItemIds);
    }

    [Fact]
    public void A_missing_item_or_list_is_refused()
    {
        var slate = Slate(2);

        Assert.Throws<ArgumentNullException>(() => slate.Add(null!, 1, RecommendationSource.Model, null));
        Assert.Throws<ArgumentNullException>(() => slate.FillWithPopular(null!));
        Assert.Equal(0, slate.Count);
    }
}
