using LMIndexer.Bench.Commands;

namespace LMIndexer.Lab.Tests;

/// <summary>The search benchmark's fusion of BM25, dense and generated rankings, as <c>/api/search</c> fuses them.</summary>
public sealed class TextQueryRankersFusionTests
{
    private static readonly int[][] Bm25 = [[1, 2, 3], [7]];
    private static readonly int[][] Dense = [[3, 4], [8]];
    private static readonly int[][] Generated = [[5, 3], [9]];

    [Fact]
    public void Generated_items_join_the_fusion_only_with_a_positive_weight()
    {
        var without = TextQueryRankers.Fuse(Bm25, Dense, 0.5);
        var zero = TextQueryRankers.Fuse(Bm25, Dense, 0.5, Generated, 0);
        var with = TextQueryRankers.Fuse(Bm25, Dense, 0.5, Generated, 1);

        Assert.Equal(without, zero);
        Assert.DoesNotContain(5, without[0]);
        Assert.Contains(5, with[0]);
        Assert.Equal([7, 8, 9], with[1].Order());
    }

    [Fact]
    public void An_item_that_every_ranker_names_comes_first()
    {
        var fused = TextQueryRankers.Fuse(Bm25, Dense, 1, Generated, 1);

        // 3 is in all three lists; 1 and 5 are each first in one.
        Assert.Equal(3, fused[0][0]);
        Assert.Equal([1, 5], fused[0][1..3].Order());
    }

    [Fact]
    public void A_heavy_generative_weight_lifts_its_first_item_above_bm25s_first()
    {
        var light = TextQueryRankers.Fuse(Bm25, Dense, 0, Generated, 0.1);
        var heavy = TextQueryRankers.Fuse(Bm25, Dense, 0, Generated, 4);

        Assert.True(Array.IndexOf(light[0], 1) < Array.IndexOf(light[0], 5));
        Assert.True(Array.IndexOf(heavy[0], 5) < Array.IndexOf(heavy[0], 1));
    }

    [Fact]
    public void Dense_alone_ignores_the_other_rankings()
    {
        Assert.Equal(Dense, TextQueryRankers.Fuse(Bm25, Dense, double.PositiveInfinity, Generated, 1));
    }

    [Fact]
    public void Generated_rankings_for_other_queries_are_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => TextQueryRankers.Fuse(Bm25, Dense, 1, [[5]], 1));
        Assert.Contains("1 generated rankings for 2 queries", error.Message, StringComparison.Ordinal);
    }
}
