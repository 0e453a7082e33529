using LMIndexer.Abstractions;
using LMIndexer.Grains.Items;

namespace LMIndexer.Grains.Tests;

/// <summary>The rules of one part of the ID trie, on its state alone (the grain only persists it).</summary>
public sealed class IdPrefixEntriesTests
{
    private const long First = 7;

    private static (IdPrefixEntries Entries, IdPrefixState State) Prefix(params (long[] Codes, string Item)[] items)
    {
        var state = new IdPrefixState();
        var entries = new IdPrefixEntries(state, First);
        entries.Add([.. items.Select(i => new PrefixEntry(i.Codes, i.Item))]);
        return (entries, state);
    }

    private static string Show(IEnumerable<PrefixEntry> entries) => string.Join(" ", entries.Select(e => $"{string.Join('-', e.Codes)}={e.ItemId}"));

    [Fact]
    public void A_new_item_gets_the_first_counter_that_no_item_and_no_reservation_holds()
    {
        // Counters 0 and 2 of 7-3 are held, 1 is reserved by the version's table; 7-4's counters do not count.
        var (entries, state) = Prefix(([First, 3, 0], "a"), ([First, 3, 2], "b"), ([First, 4, 3], "c"));

        var (codes, added) = entries.Allocate("new", [First, 3], reserved: [1], counterSize: 8);

        Assert.Equal([First, 3, 3], codes);
        Assert.True(added);
        Assert.Equal("new", state.Items["3-3"]);
        Assert.Equal(["3-3"], state.Allocated);
        Assert.Equal(["new"], entries.Resolve([[First, 3, 3]]));
    }

    [Fact]
    public void An_item_allocated_before_gets_the_same_id_again_and_nothing_to_write()
    {
        var (entries, state) = Prefix(([First, 3, 0], "a"));
        var (first, _) = entries.Allocate("new", [First, 3], [], 8);

        var (again, added) = entries.Allocate("new", [First, 3], [], 8);

        Assert.Equal(first, again);
        Assert.False(added);
        Assert.Equal(2, state.Items.Count);
        // An item under other learned codes is not the same ID: it gets a counter of its own group.
        Assert.Equal([First, 5, 0], entries.Allocate("new", [First, 5], [], 8).Codes);
    }

    [Fact]
    public void An_exhausted_counter_range_is_a_conflict_that_changes_nothing()
    {
        var (entries, state) = Prefix(([First, 3, 0], "a"), ([First, 3, 1], "b"));

        var full = Assert.Throws<DomainConflictException>(() => entries.Allocate("new", [First, 3], reserved: [2], counterSize: 3));

        Assert.Contains("collision counter range (3) is exhausted for ID prefix 7-3", full.Message, StringComparison.Ordinal);
        Assert.Equal(2, state.Items.Count);
        Assert.Empty(state.Allocated);
        Assert.Equal([First, 3, 2], entries.Allocate("new", [First, 3], [], 3).Codes);   // the last free counter
    }

    [Fact]
    public void Codes_under_another_first_code_are_refused()
    {
        var (entries, state) = Prefix(([First, 3, 0], "a"));

        var foreignCodes = Assert.Throws<ArgumentException>(() => entries.Allocate("new", [First + 1, 3], [], 8));
        Assert.StartsWith("Codes 8-3 do not belong under first code 7.", foreignCodes.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => entries.Allocate("new", [], [], 8));
        Assert.Throws<ArgumentNullException>(() => entries.Allocate("new", null!, [], 8));
        Assert.Throws<ArgumentNullException>(() => entries.Allocate("new", [First, 3], null!, 8));
        // A batch with one foreign or too short ID adds none of its entries.
        var foreignEntry = Assert.Throws<ArgumentException>(() => entries.Add([new([First, 9, 0], "x"), new([First + 1, 3, 0], "y")]));
        Assert.StartsWith("ID 8-3-0 does not belong under first code 7.", foreignEntry.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => entries.Add([new([First, 9, 0], "x"), new([First], "y")]));
        Assert.Equal(["3-0"], state.Items.Keys);
    }

    [Fact]
    public void An_index_of_one_learned_position_has_ids_of_a_first_code_and_a_counter()
    {
        var (entries, state) = Prefix(([First, 0], "a"));

        Assert.Equal([First, 1], entries.Allocate("b", [First], [], 4).Codes);
        Assert.Equal(["a", "b"], entries.Resolve([[First, 0], [First, 1]]));
        Assert.Equal("7-0=a 7-1=b", Show(entries.List([First], 10)));
        Assert.Equal(["0", "1"], state.Items.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Adding_reports_a_change_only_when_an_entry_is_new_or_moved()
    {
        var (entries, state) = Prefix(([First, 3, 0], "a"));

        Assert.False(entries.Add([new([First, 3, 0], "a")]));
        Assert.True(entries.Add([new([First, 3, 0], "a"), new([First, 3, 0], "b")]));
        Assert.Equal("b", state.Items["3-0"]);
        Assert.True(entries.Add([new([First, 4, 1], "c")]));
        Assert.Empty(state.Allocated);   // added IDs come from the bundle, not from allocation
    }

    [Fact]
    public void Resolution_answers_in_order_with_null_for_unknown_short_or_foreign_ids()
    {
        var (entries, _) = Prefix(([First, 3, 0], "a"), ([First, 4, 1], "b"));

        var resolved = entries.Resolve([[First, 4, 1], [First, 3, 1], [First + 1, 3, 0], [First], [First, 3, 0]]);

        Assert.Equal(["b", null, null, null, "a"], resolved);
    }

    [Fact]
    public void Listing_keeps_the_prefix_in_numeric_id_order_up_to_the_limit()
    {
        var (entries, _) = Prefix(([First, 10, 0], "ten"), ([First, 9, 1], "nine-1"), ([First, 9, 0], "nine-0"), ([First, 2, 5], "two"));

        Assert.Equal("7-2-5=two 7-9-0=nine-0 7-9-1=nine-1 7-10-0=ten", Show(entries.List([First], 10)));
        Assert.Equal("7-2-5=two 7-9-0=nine-0", Show(entries.List([First], 2)));
        Assert.Equal("7-9-0=nine-0 7-9-1=nine-1", Show(entries.List([First, 9], 10)));
        Assert.Equal("7-9-1=nine-1", Show(entries.List([First, 9, 1], 10)));
        Assert.Empty(entries.List([First + 1], 10));
        Assert.Empty(entries.List([], 10));
    }

    [Fact]
    public void The_allocated_list_holds_only_allocated_ids_still_present_in_id_order()
    {
        var (entries, state) = Prefix(([First, 3, 0], "trained"));
        entries.Allocate("late-10", [First, 10], [], 8);
        entries.Allocate("late-3", [First, 3], [], 8);
        entries.Allocate("late-9", [First, 9], [], 8);
        state.Items.Remove("9-0");   // an entry gone from the items (as a cleared and rebuilt state would have it)

        Assert.Equal("7-3-1=late-3 7-10-0=late-10", Show(entries.ListAllocated()));
    }
}
