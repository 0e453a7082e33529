using LMIndexer.Core.Data;
using LMIndexer.Core.Downstream;
using LMIndexer.Research.Recommendation;

namespace LMIndexer.Lab.Tests.Research;

public sealed class ItemTransitionRankerTests
{
    // Item indices: a 0, b 1, c 2, d 3, x 4, y 5, z 6. The last two items of every user are the
    // validation and test targets and must not be counted.
    private static readonly Dictionary<string, int> Index = new() { ["a"] = 0, ["b"] = 1, ["c"] = 2, ["d"] = 3, ["x"] = 4, ["y"] = 5, ["z"] = 6 };

    private static readonly UserSequence[] Users =
    [
        new("u1", ["a", "b", "c", "x", "y"]),   // training a→b→c
        new("u2", ["a", "b", "d", "z", "z"]),   // training a→b→d
        new("u3", ["a", "c", "d", "a", "x"]),   // training a→c→d; the held-out a→x is not a transition
        new("u4", ["d", "d"]),                  // nothing in training
    ];

    [Fact]
    public void Successors_are_counted_in_the_training_part_only_most_frequent_first()
    {
        var ranker = ItemTransitionRanker.Fit(Users, Index);

        Assert.Equal([1, 2], ranker.SuccessorsOf(0));   // a→b twice, a→c once; never a→x
        Assert.Equal([2, 3], ranker.SuccessorsOf(1));   // b→c and b→d once each: the tie goes to the more popular (equal counts: table order)
        Assert.Empty(ranker.SuccessorsOf(4));           // x only ever appears held out
    }

    [Fact]
    public void A_history_is_ranked_by_its_last_items_successors_then_popularity_without_repeats()
    {
        var ranker = ItemTransitionRanker.Fit(Users, Index);
        // Training counts: a 3, b 2, c 2, d 2 (table order breaks ties), x 0, y 0, z 0.
        var popularity = RecommendationTask.Popularity(Users, Index);
        Assert.Equal([0, 1, 2, 3, 4, 5, 6], popularity);

        Assert.Equal([1, 2, 0, 3, 4], ranker.Rank([3, 0], 5));          // last item a: b, c, then popular a, d, x
        Assert.Equal([0, 1, 2], ranker.Rank([5], 3));                   // y has no successors: popularity
        Assert.Equal([0, 1], ranker.Rank([], 2));
        Assert.Equal(7, ranker.Rank([1], 100).Count);                   // every item once, no more
    }

    [Fact]
    public void A_refit_counts_the_transitions_into_the_validation_targets_too()
    {
        var plain = ItemTransitionRanker.Fit(Users, Index);
        var refit = ItemTransitionRanker.Fit(Users, Index, refit: true);

        Assert.Empty(plain.SuccessorsOf(3));
        Assert.Equal([0, 6], refit.SuccessorsOf(3));       // d→a (u3) and d→z (u2), into their validation targets: a is the more popular
        Assert.Equal([3, 4], refit.SuccessorsOf(2));       // c→d (u3) and c→x (u1) once each: d is the more popular
        Assert.Empty(refit.SuccessorsOf(4));               // x→y and z→z lead into test targets, never counted
        Assert.Empty(refit.SuccessorsOf(6));
    }
}
