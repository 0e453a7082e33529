using LMIndexer.Abstractions;
using LMIndexer.Grains.Items;

namespace LMIndexer.Grains.Tests;

/// <summary>An item's IDs per version, on its state alone (the grain only persists it).</summary>
public sealed class ItemSemanticIdsTests
{
    private static (ItemSemanticIds Ids, ItemState State) Item(ItemRecord? record = null)
    {
        var state = new ItemState { Record = record };
        return (new ItemSemanticIds(state), state);
    }

    [Fact]
    public void A_new_id_is_written_and_the_same_id_again_is_not()
    {
        var (ids, state) = Item();

        Assert.True(ids.Set(new VersionedSemanticId("v2", [3, 4, 0])));
        Assert.False(ids.Set(new VersionedSemanticId("v2", [3, 4, 0])));

        Assert.Equal([3L, 4, 0], state.SemanticIds["v2"]);
    }

    [Theory]
    [InlineData(new long[] { 3, 4, 1 })]   // another counter
    [InlineData(new long[] { 3, 4 })]      // a shorter ID
    [InlineData(new long[] { 3, 4, 0, 0 })]
    public void A_changed_id_replaces_the_old_one(long[] codes)
    {
        var (ids, state) = Item();
        ids.Set(new VersionedSemanticId("v2", [3, 4, 0]));

        Assert.True(ids.Set(new VersionedSemanticId("v2", codes)));

        Assert.Equal(codes, state.SemanticIds["v2"]);
        Assert.Single(state.SemanticIds);
    }

    [Fact]
    public void Versions_are_kept_apart_and_removed_one_at_a_time()
    {
        var (ids, state) = Item();
        ids.Set(new VersionedSemanticId("v1", [1, 1, 0]));
        ids.Set(new VersionedSemanticId("v2", [1, 1, 0]));

        Assert.True(ids.Remove("v1"));
        Assert.False(ids.Remove("v1"));
        Assert.False(ids.Remove("v9"));

        Assert.Equal(["v2"], state.SemanticIds.Keys);
    }

    [Fact]
    public void Details_show_the_record_with_every_version_in_name_order()
    {
        var record = new ItemRecord("a", "Shampoo");
        var (ids, _) = Item(record);
        ids.Set(new VersionedSemanticId("v2", [2, 2, 0]));
        ids.Set(new VersionedSemanticId("v10", [10, 1, 0]));
        ids.Set(new VersionedSemanticId("v1", [1, 1, 0]));

        var details = ids.Details();

        Assert.NotNull(details);
        Assert.Same(record, details.Record);
        Assert.Equal(["v1:1-1-0", "v10:10-1-0", "v2:2-2-0"], details.SemanticIds.Select(s => s.ToString()));
    }

    [Fact]
    public void An_item_the_catalog_does_not_hold_has_no_details_even_with_ids()
    {
        var (ids, _) = Item();
        ids.Set(new VersionedSemanticId("v1", [1, 1, 0]));

        Assert.Null(ids.Details());
    }

    [Fact]
    public void A_missing_id_or_version_is_refused()
    {
        var (ids, _) = Item();

        Assert.Throws<ArgumentNullException>(() => ids.Set(null!));
        Assert.Throws<ArgumentNullException>(() => ids.Set(new VersionedSemanticId("v1", null!)));
        Assert.Throws<ArgumentNullException>(() => ids.Remove(null!));
    }
}
