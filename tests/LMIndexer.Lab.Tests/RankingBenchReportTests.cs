using LMIndexer.Bench.Commands;
using LMIndexer.Core.Downstream;

namespace LMIndexer.Lab.Tests;

public sealed class RankingBenchReportTests
{
    private static EvaluationResult Result(double scale) => new(
        new Dictionary<string, double>
        {
            ["recall@5"] = 0.04 * scale,
            ["ndcg@5"] = 0.02 * scale,
            ["recall@10"] = 0.06 * scale,
            ["ndcg@10"] = 0.03 * scale,
            ["map@10"] = 0.02 * scale,
            ["mrr@10"] = 0.02 * scale,
        },
        Examples: 100,
        Seconds: 2);

    [Fact]
    public void A_trained_systems_learning_curve_is_written_beside_its_test_rows()
    {
        ValidationPoint Point(int step, double loss, double ndcg) => new(step, loss, new Dictionary<string, double> { ["ndcg@10"] = ndcg, ["recall@10"] = 2 * ndcg });
        var results = new Dictionary<string, RankingBenchResult>
        {
            ["lmindexer"] = new(Result(1), 60, "best step 20", [Point(10, 2.5, 0.011), Point(20, 2.1, 0.017), Point(30, 1.8, 0.014)]),
            ["popularity"] = new(Result(0.5), 0, "counts"),
        };

        var (rows, table, text) = RankingBenchReport.Build(["lmindexer", "popularity"], results, "users", ["recall@5"]);

        var curve = rows.Where(r => r.Metric.StartsWith("validation_", StringComparison.Ordinal)).ToList();
        Assert.Equal(["validation_ndcg@10_step_10", "validation_ndcg@10_step_20", "validation_ndcg@10_step_30"], curve.Select(r => r.Metric));
        Assert.All(curve, r => Assert.Equal("lmindexer", r.System));
        Assert.Equal([0.011, 0.017, 0.014], curve.Select(r => r.Value));
        Assert.Equal(1.8, rows.Single(r => r.Metric == "train_loss_step_30").Value);
        Assert.DoesNotContain(rows, r => r.System == "popularity" && r.Metric.StartsWith("validation_", StringComparison.Ordinal));
        Assert.Contains("lmindexer validation NDCG@10 by step: 10 0.0110 (loss 2.50), 20 0.0170 (loss 2.10), 30 0.0140 (loss 1.80).", text, StringComparison.Ordinal);
        Assert.Contains("LMIndexer ÷ popularity: Recall@5 ×2.00.", text, StringComparison.Ordinal);
        Assert.Contains("| lmindexer | 0.0400 | 0.0200 |", table, StringComparison.Ordinal);
    }
}
