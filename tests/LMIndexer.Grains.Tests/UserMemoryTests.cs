using LMIndexer.Abstractions;
using LMIndexer.Grains.Users;

namespace LMIndexer.Grains.Tests;

/// <summary>A user's bounded memory, on its state alone (the grain only persists it).</summary>
public sealed class UserMemoryTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    private static (UserMemory Memory, UserState State) Memory(int history = 50, int seen = 500, int eventIds = 1000)
    {
        var state = new UserState();
        return (new UserMemory(() => state, new RecommendationOptions { HistoryLength = history, SeenLength = seen, EventIdMemory = eventIds }), state);
    }

    private static UserEvent Event(string id, string item, int minute = 0, EventType type = EventType.View) =>
        new(id, "u", item, type, Start.AddMinutes(minute));

    [Fact]
    public void An_event_is_kept_in_history_seen_and_event_ids()
    {
        var (memory, state) = Memory();

        Assert.True(memory.Append(Event("e1", "a", 3, EventType.Purchase)));

        Assert.Equal([new HistoryEntry("a", EventType.Purchase, Start.AddMinutes(3))], state.History);
        Assert.Equal(["a"], state.Seen);
        Assert.Equal(["e1"], state.RecentEventIds);
        Assert.Contains("a", memory.Seen);
    }

    [Fact]
    public void An_event_whose_id_is_remembered_changes_nothing()
    {
        var (memory, state) = Memory();
        memory.Append(Event("e1", "a"));

        Assert.False(memory.Append(Event("e1", "b")));

        Assert.Equal(["a"], state.History.Select(h => h.ItemId));
        Assert.Equal(["a"], state.Seen);
        Assert.Equal(["e1"], state.RecentEventIds);
        Assert.DoesNotContain("b", memory.Seen);
    }

    [Fact]
    public void History_keeps_the_newest_events_in_order()
    {
        var (memory, state) = Memory(history: 3);

        foreach (var (item, i) in new[] { "a", "b", "c", "d", "e" }.Select((item, i) => (item, i)))
            memory.Append(Event($"e{i}", item, i));

        Assert.Equal(["c", "d", "e"], state.History.Select(h => h.ItemId));
        Assert.Equal(3, state.History.Count);
    }

    [Fact]
    public void The_oldest_seen_item_is_forgotten_past_the_limit_and_may_be_recommended_again()
    {
        var (memory, state) = Memory(seen: 2);

        memory.Append(Event("e1", "a"));
        memory.Append(Event("e2", "b"));
        memory.Append(Event("e3", "c"));

        Assert.Equal(["b", "c"], state.Seen);
        Assert.Equal(new HashSet<string> { "b", "c" }, memory.Seen);
    }

    [Fact]
    public void An_item_seen_again_is_kept_once_and_pushes_nothing_out()
    {
        var (memory, state) = Memory(seen: 2);

        memory.Append(Event("e1", "a"));
        memory.Append(Event("e2", "b"));
        memory.Append(Event("e3", "a"));

        Assert.Equal(["a", "b"], state.Seen);
        Assert.Equal(new HashSet<string> { "a", "b" }, memory.Seen);
        Assert.Equal(["a", "b", "a"], state.History.Select(h => h.ItemId));
    }

    [Fact]
    public void Only_the_newest_event_ids_are_remembered()
    {
        var (memory, state) = Memory(eventIds: 2);
        memory.Append(Event("e1", "a"));
        memory.Append(Event("e2", "b"));
        memory.Append(Event("e3", "c"));

        Assert.Equal(["e2", "e3"], state.RecentEventIds);
        Assert.False(memory.Append(Event("e3", "x")));
        Assert.False(memory.Append(Event("e2", "x")));
        // e1 was forgotten: the same id counts as a new event.
        Assert.True(memory.Append(Event("e1", "d")));
        Assert.Equal(["e3", "e1"], state.RecentEventIds);
        Assert.Equal(["a", "b", "c", "d"], state.History.Select(h => h.ItemId));
    }

    [Fact]
    public void After_a_failed_write_puts_the_stored_state_back_the_unsaved_events_count_again()
    {
        var stored = new UserState();
        var current = new UserState();
        var memory = new UserMemory(() => current, new RecommendationOptions());
        memory.Append(Event("e1", "a"));

        // What the state writer does when a write fails: the state is read back as stored.
        current = stored;
        memory.Reload();

        Assert.DoesNotContain("a", memory.Seen);
        Assert.True(memory.Append(Event("e1", "a")));
        Assert.Equal(["e1"], stored.RecentEventIds);
        Assert.Equal(["a"], stored.Seen);
    }

    [Fact]
    public void The_model_reads_each_history_item_once_at_its_newest_position()
    {
        var (memory, _) = Memory();
        foreach (var (item, i) in new[] { "a", "b", "a", "c", "b" }.Select((item, i) => (item, i)))
            memory.Append(Event($"e{i}", item, i));

        Assert.Equal(["a", "c", "b"], memory.HistoryItems());
    }

    [Fact]
    public void A_missing_event_is_refused()
    {
        var (memory, _) = Memory();
        Assert.Throws<ArgumentNullException>(() => memory.Append(null!));
    }
}
