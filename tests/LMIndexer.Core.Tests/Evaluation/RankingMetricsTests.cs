using LMIndexer.Core.Evaluation;

namespace LMIndexer.Core.Tests.Evaluation;

public sealed class RankingMetricsTests
{
    private const double Tolerance = 1e-12;

    [Fact]
    public void Single_relevant_item_at_rank_three()
    {
        var s = RankingMetrics.Score(["a", "b", "x", "c", "d"], new HashSet<string> { "x" }, 5);
        Assert.Equal(1.0, s.Recall, Tolerance);
        Assert.Equal(1 / Math.Log2(4), s.Ndcg, Tolerance);   // 0.5
        Assert.Equal(1.0 / 3, s.Mrr, Tolerance);
        Assert.Equal(1.0 / 3, s.Map, Tolerance);
        Assert.Equal(0.2, s.Precision, Tolerance);
        Assert.Equal(1.0, s.Hit, Tolerance);
    }

    [Fact]
    public void Relevant_item_beyond_cutoff_scores_zero()
    {
        var s = RankingMetrics.Score(["a", "b", "c", "d", "e", "x"], new HashSet<string> { "x" }, 5);
        Assert.Equal(new RankingScores(0, 0, 0, 0, 0, 0), s);
        var at10 = RankingMetrics.Score(["a", "b", "c", "d", "e", "x"], new HashSet<string> { "x" }, 10);
        Assert.Equal(1 / Math.Log2(7), at10.Ndcg, Tolerance);
    }

    [Fact]
    public void Several_relevant_items_follow_the_reference_normalisation()
    {
        // Relevant {a, c, z}; a at rank 1, c at rank 3, z not retrieved.
        string[] ranked = ["a", "b", "c", "d", "e"];
        var relevant = new HashSet<string> { "a", "c", "z" };
        var reference = RankingMetrics.Score(ranked, relevant, 5, MetricDefinition.Reference);
        var dcg = 1 + 1 / Math.Log2(4);
        Assert.Equal(2.0 / 3, reference.Recall, Tolerance);
        // Reference: ideal DCG from the two retrieved relevant items; AP over the two retrieved.
        Assert.Equal(dcg / (1 + 1 / Math.Log2(3)), reference.Ndcg, Tolerance);
        Assert.Equal((1 + 2.0 / 3) / 2, reference.Map, Tolerance);
        Assert.Equal(1.0, reference.Mrr, Tolerance);

        var standard = RankingMetrics.Score(ranked, relevant, 5, MetricDefinition.Standard);
        Assert.Equal(dcg / (1 + 1 / Math.Log2(3) + 1 / Math.Log2(4)), standard.Ndcg, Tolerance);
        Assert.Equal((1 + 2.0 / 3) / 3, standard.Map, Tolerance);
        Assert.Equal(reference.Recall, standard.Recall, Tolerance);
    }

    [Fact]
    public void Definitions_agree_for_one_relevant_item()
    {
        var random = new Random(1);
        for (var trial = 0; trial < 200; trial++)
        {
            var ranked = Enumerable.Range(0, 10).Select(_ => random.Next(20)).Distinct().ToList();
            var relevant = new HashSet<int> { random.Next(20) };
            var a = RankingMetrics.Score(ranked, relevant, 5, MetricDefinition.Reference);
            var b = RankingMetrics.Score(ranked, relevant, 5, MetricDefinition.Standard);
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void Accumulator_averages_per_cutoff()
    {
        var acc = new RankingAccumulator([5, 10]);
        acc.Add(["x", "a"], new HashSet<string> { "x" });
        acc.Add(["a", "b", "c", "d", "e", "f", "x"], new HashSet<string> { "x" });
        var m = acc.Means();
        Assert.Equal(2, acc.Count);
        Assert.Equal(0.5, m["recall@5"], Tolerance);
        Assert.Equal(1.0, m["recall@10"], Tolerance);
        Assert.Equal((1 + 1.0 / 7) / 2, m["mrr@10"], Tolerance);
    }

    [Fact]
    public void Per_query_values_are_kept_in_order_and_average_to_the_means()
    {
        var acc = new RankingAccumulator([5]);
        acc.Add(["x", "a"], new HashSet<string> { "x" });
        acc.Add(["a", "b", "c", "d", "e", "x"], new HashSet<string> { "x" });
        acc.Add(["a", "x"], new HashSet<string> { "x" });
        var perQuery = acc.PerQuery();
        Assert.Equal([1.0, 0.0, 1.0], perQuery["recall@5"]);
        Assert.Equal([1.0, 0.0, 0.5], perQuery["mrr@5"]);
        foreach (var (metric, mean) in acc.Means())
            Assert.Equal(mean, perQuery[metric].Average(), Tolerance);
    }

    [Fact]
    public void A_ranked_list_that_repeats_an_item_is_refused_rather_than_counted_twice()
    {
        var error = Assert.Throws<ArgumentException>(() => RankingMetrics.Score(["x", "a", "x"], new HashSet<string> { "x", "y" }, 5));
        Assert.Contains("repeats an item", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_inputs_a_cutoff_below_one_and_a_query_without_relevant_items_are_refused()
    {
        var relevant = new HashSet<string> { "x" };
        Assert.Throws<ArgumentNullException>(() => RankingMetrics.Score(null!, relevant, 5));
        Assert.Throws<ArgumentNullException>(() => RankingMetrics.Score(["x"], (IReadOnlySet<string>)null!, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => RankingMetrics.Score(["x"], relevant, 0));
        var empty = Assert.Throws<ArgumentException>(() => RankingMetrics.Score(["x"], new HashSet<string>(), 5));
        Assert.Contains("at least one relevant item", empty.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_accumulator_names_every_metric_at_every_cutoff_and_is_zero_before_any_query()
    {
        var acc = new RankingAccumulator([1, 10]);
        var empty = acc.Means();
        Assert.Equal(["hit@1", "hit@10", "map@1", "map@10", "mrr@1", "mrr@10", "ndcg@1", "ndcg@10", "precision@1", "precision@10", "recall@1", "recall@10"], empty.Keys);
        Assert.All(empty.Values, v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void Deduplicate_keeps_first_occurrence()
    {
        Assert.Equal(["b", "a", "c"], RankingMetrics.Deduplicate(["b", "a", "b", "c", "a"]));
    }
}
