using LMIndexer.Abstractions;
using LMIndexer.Grains.Popularity;

namespace LMIndexer.Grains.Tests;

/// <summary>The popularity ranking's rules, on its state alone (the grain makes the lookups and persists the scores).</summary>
public sealed class PopularityRankingTests
{
    private static (PopularityRanking Ranking, PopularityState State) Ranking()
    {
        var state = new PopularityState();
        return (new PopularityRanking(() => state), state);
    }

    private static ItemEventCount Count(string item, double weight, int events = 1) => new(item, weight, events);

    [Fact]
    public void Merged_weights_add_up_per_item_in_the_state()
    {
        var (ranking, state) = Ranking();

        ranking.Merge([Count("a", 5), Count("b", 1)]);
        ranking.Merge([Count("a", 3, 2)]);

        Assert.Equal(8, state.Scores["a"]);
        Assert.Equal(1, state.Scores["b"]);
    }

    [Fact]
    public void Only_items_the_catalog_holds_are_ranked_best_first_and_ties_by_id()
    {
        var (ranking, _) = Ranking();
        ranking.Merge([Count("c", 2), Count("a", 5), Count("b", 2), Count("gone", 9)]);

        var toLookUp = ranking.ToLookUpBeforeRanking();
        Assert.Equal(["gone", "a", "b", "c"], toLookUp);
        ranking.Resolve(toLookUp, [false, true, true, true]);

        Assert.Equal([new PopularItem("a", 5), new PopularItem("b", 2), new PopularItem("c", 2)], ranking.Top(10));
        Assert.Equal([new PopularItem("a", 5)], ranking.Top(1));
    }

    [Fact]
    public void The_ranking_stays_current_until_a_merge_and_nothing_in_it_needs_a_lookup()
    {
        var (ranking, _) = Ranking();
        ranking.Merge([Count("a", 1)]);
        ranking.Resolve(ranking.ToLookUpBeforeRanking(), [true]);
        Assert.False(ranking.IsCurrent);
        ranking.Top(5);

        Assert.True(ranking.IsCurrent);
        Assert.Empty(ranking.ToLookUpBeforeRanking());

        ranking.Merge([Count("b", 3)]);
        Assert.False(ranking.IsCurrent);
        Assert.Equal(["b"], ranking.ToLookUpBeforeRanking());
        ranking.Resolve(["b"], [true]);
        Assert.Equal(["b", "a"], ranking.Top(5).Select(p => p.ItemId));
    }

    [Fact]
    public void A_merge_between_the_lookups_and_the_ranking_is_ranked_with_its_scores()
    {
        var (ranking, _) = Ranking();
        ranking.Merge([Count("a", 5), Count("b", 1)]);
        ranking.Resolve(ranking.ToLookUpBeforeRanking(), [true, true]);

        ranking.Merge([Count("b", 9)]);

        Assert.Equal([new PopularItem("b", 10), new PopularItem("a", 5)], ranking.Top(5));
    }

    [Fact]
    public void An_item_found_again_between_the_lookups_and_the_ranking_is_ranked()
    {
        var (ranking, _) = Ranking();
        ranking.Merge([Count("a", 5), Count("late", 9)]);
        ranking.Resolve(["late"], [false]);
        ranking.Resolve(ranking.ToLookUpBeforeRanking(), [true]);

        ranking.Resolve(["late"], [true]);

        Assert.Equal(["late", "a"], ranking.Top(5).Select(p => p.ItemId));
    }

    [Fact]
    public void A_known_item_is_not_looked_up_again_before_ranking()
    {
        var (ranking, _) = Ranking();
        ranking.Merge([Count("a", 1)]);
        ranking.Resolve(["a"], [true]);
        ranking.Merge([Count("b", 2)]);

        Assert.Equal(["b"], ranking.ToLookUpBeforeRanking());
    }

    [Fact]
    public void Events_of_a_missing_item_count_once_when_its_lookup_finds_nothing_and_on_every_merge_after()
    {
        var (ranking, _) = Ranking();

        Assert.Equal(0, ranking.Merge([Count("gone", 1, 3), Count("a", 1, 4)]));
        Assert.Equal(0, ranking.Merge([Count("gone", 1, 2)]));

        Assert.Equal(5, ranking.Resolve(["gone", "a"], [false, true]));
        Assert.Equal(7, ranking.Merge([Count("gone", 1, 7), Count("a", 1, 9)]));
        Assert.Equal(0, ranking.Resolve(["gone"], [false]));
    }

    [Fact]
    public void An_item_the_catalog_gets_later_ranks_once_looked_up_again()
    {
        var (ranking, _) = Ranking();
        ranking.Merge([Count("late", 9), Count("a", 1)]);
        ranking.Resolve(ranking.ToLookUpBeforeRanking(), [false, true]);
        Assert.Equal(["a"], ranking.Top(5).Select(p => p.ItemId));

        ranking.Resolve(["late"], [true]);
        Assert.False(ranking.IsCurrent);

        Assert.Equal(["late", "a"], ranking.Top(5).Select(p => p.ItemId));
    }

    [Fact]
    public void An_item_found_missing_later_leaves_the_ranking()
    {
        var (ranking, _) = Ranking();
        ranking.Merge([Count("a", 9), Count("b", 1)]);
        ranking.Resolve(ranking.ToLookUpBeforeRanking(), [true, true]);
        Assert.Equal(["a", "b"], ranking.Top(5).Select(p => p.ItemId));

        ranking.Resolve(["a"], [false]);
        Assert.False(ranking.IsCurrent);

        Assert.Equal(["b"], ranking.Top(5).Select(p => p.ItemId));
    }

    [Fact]
    public void Lookups_that_change_nothing_ranked_keep_the_ranking_current()
    {
        var (ranking, _) = Ranking();
        ranking.Merge([Count("a", 1)]);
        ranking.Resolve(["a", "gone"], [true, false]);
        ranking.Top(5);

        ranking.Resolve(["a", "elsewhere", "gone"], [true, true, false]);

        Assert.True(ranking.IsCurrent);
    }

    [Fact]
    public void Only_the_highest_scores_are_candidates()
    {
        var (ranking, _) = Ranking();
        ranking.Merge([.. Enumerable.Range(0, PopularityRanking.Candidates + 5).Select(i => Count($"i{i:D5}", i))]);

        var toLookUp = ranking.ToLookUpBeforeRanking();

        Assert.Equal(PopularityRanking.Candidates, toLookUp.Count);
        Assert.Equal($"i{PopularityRanking.Candidates + 4:D5}", toLookUp[0]);
        Assert.DoesNotContain("i00004", toLookUp);
        Assert.Contains("i00005", toLookUp);
    }

    [Fact]
    public void The_candidates_are_those_a_full_sort_by_score_then_id_would_give()
    {
        var (ranking, _) = Ranking();
        var random = new Random(7);
        // Scores from a few values, so that many ties cross the cut at the 1,000th candidate.
        var counts = Enumerable.Range(0, 3 * PopularityRanking.Candidates).Select(i => Count($"item-{random.Next(100_000):D5}-{i}", random.Next(20))).ToList();
        ranking.Merge(counts);
        var gone = counts.Where((_, i) => i % 7 == 0).Select(c => c.ItemId).ToList();
        ranking.Resolve(gone, [.. gone.Select(_ => false)]);

        var expected = counts.Where((_, i) => i % 7 != 0)
            .OrderByDescending(c => c.Weight).ThenBy(c => c.ItemId, StringComparer.Ordinal).Take(PopularityRanking.Candidates).Select(c => c.ItemId);

        Assert.Equal(expected, ranking.ToLookUpBeforeRanking());
    }

    [Fact]
    public void A_missing_item_leaves_room_for_the_next_candidate()
    {
        var (ranking, _) = Ranking();
        ranking.Merge([.. Enumerable.Range(0, PopularityRanking.Candidates + 1).Select(i => Count($"i{i:D5}", i))]);
        ranking.Resolve([$"i{PopularityRanking.Candidates:D5}"], [false]);

        var toLookUp = ranking.ToLookUpBeforeRanking();

        Assert.Equal(PopularityRanking.Candidates, toLookUp.Count);
        Assert.Contains("i00000", toLookUp);
    }

    [Fact]
    public void A_tick_looks_up_items_with_events_and_every_twelfth_tick_the_missing_ones_too()
    {
        var (ranking, _) = Ranking();
        ranking.Merge([Count("gone", 1), Count("a", 1)]);
        ranking.Resolve(["gone"], [false]);

        for (var tick = 1; tick < PopularityRanking.RecheckEveryTicks; tick++)
            Assert.Equal(["a"], ranking.DueAtTick());
        Assert.Equal(["a", "gone"], ranking.DueAtTick());
        Assert.Equal(["a"], ranking.DueAtTick());

        ranking.Resolve(["a"], [true]);
        Assert.Empty(ranking.DueAtTick());
    }

    [Fact]
    public void A_tick_takes_at_most_a_batch_of_items_with_events()
    {
        var (ranking, _) = Ranking();
        ranking.Merge([.. Enumerable.Range(0, PopularityRanking.LookupsPerTick + 3).Select(i => Count($"i{i}", 1))]);

        var due = ranking.DueAtTick();
        Assert.Equal(PopularityRanking.LookupsPerTick, due.Count);
        ranking.Resolve(due, [.. due.Select(_ => true)]);

        Assert.Equal(3, ranking.DueAtTick().Count);
    }

    [Fact]
    public void The_missing_items_rechecked_are_a_batch_at_most()
    {
        var (ranking, _) = Ranking();
        var gone = Enumerable.Range(0, PopularityRanking.LookupsPerTick + 3).Select(i => $"g{i}").ToList();
        ranking.Resolve(gone, [.. gone.Select(_ => false)]);

        for (var tick = 1; tick < PopularityRanking.RecheckEveryTicks; tick++)
            Assert.Empty(ranking.DueAtTick());
        Assert.Equal(PopularityRanking.LookupsPerTick, ranking.DueAtTick().Count);
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        var (ranking, _) = Ranking();

        Assert.Throws<ArgumentNullException>("counts", () => ranking.Merge(null!));
        Assert.Throws<ArgumentNullException>("itemIds", () => ranking.Resolve(null!, []));
        Assert.Throws<ArgumentNullException>("held", () => ranking.Resolve([], null!));
        var mismatch = Assert.Throws<ArgumentException>("held", () => ranking.Resolve(["a", "b"], [true]));
        Assert.StartsWith("2 items but 1 lookups.", mismatch.Message);
    }
}
