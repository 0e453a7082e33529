using LMIndexer.Core.Retrieval;

namespace LMIndexer.Core.Tests.Retrieval;

public sealed class RankFusionTests
{
    [Fact]
    public void Scores_are_weighted_reciprocal_ranks_summed_over_rankers()
    {
        var fused = RankFusion.Reciprocal(
            [new(["x", "y", "z"], 1.0), new(["y", "w"], 2.0)], top: 4, k: 60);

        Assert.Equal(["y", "w", "x", "z"], fused.Select(f => f.Key));
        Assert.Equal(1.0 / 62 + 2.0 / 61, fused[0].Score, 12);
        Assert.Equal(2.0 / 62, fused[1].Score, 12);
        Assert.Equal(1.0 / 61, fused[2].Score, 12);
    }

    [Fact]
    public void A_ranker_of_weight_zero_changes_nothing_and_top_cuts_the_list()
    {
        var alone = RankFusion.Reciprocal([new(["a", "b", "c"], 1.0)], top: 2);
        var withMuted = RankFusion.Reciprocal([new(["a", "b", "c"], 1.0), new(["c", "b", "a"], 0.0)], top: 2);
        Assert.Equal(["a", "b"], alone.Select(f => f.Key));
        Assert.Equal(alone, withMuted);
        Assert.Throws<ArgumentException>(() => RankFusion.Reciprocal([new(["a"], -1)], top: 1));
    }
}

public sealed class VectorTopKTests
{
    [Fact]
    public void Returns_the_highest_inner_products_best_first_with_ties_in_order()
    {
        var vectors = new Dictionary<string, float[]>
        {
            ["a"] = [1, 0], ["b"] = [0, 1], ["c"] = [0.6f, 0.8f], ["d"] = [0, 1], ["e"] = [-1, 0],
        };
        var top = VectorTopK.Search([0, 1], vectors, k: 3);
        Assert.Equal(["b", "d", "c"], top.Select(t => t.Key));
        Assert.Equal(0.8, top[2].Score, 6);
        Assert.Equal(5, VectorTopK.Search([0, 1], vectors, k: 10).Count);
        Assert.Throws<ArgumentException>(() => VectorTopK.Search([0, 1, 0], vectors, k: 1));
    }
}
