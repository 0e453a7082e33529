using LMIndexer.Core.Downstream;

namespace LMIndexer.Core.Tests.Downstream;

public sealed class ValidationCurveTests
{
    [Fact]
    public void A_curve_round_trips_in_full_precision_keeping_only_the_points_that_measured_the_metric()
    {
        ValidationPoint[] points =
        [
            new(10_000, 4.6, new Dictionary<string, double> { ["ndcg@10"] = 0.015031234567891234, ["recall@10"] = 0.03 }),
            new(15_000, 4.5, new Dictionary<string, double>()),   // a loss-only point
            new(20_000, 4.2, new Dictionary<string, double> { ["ndcg@10"] = 0.019 }),
        ];
        var properties = new Dictionary<string, string> { [ValidationCurve.Property] = ValidationCurve.Format(points, "ndcg@10") };

        var read = ValidationCurve.Read(properties, "ndcg@10");

        Assert.Equal([(10_000, 0.015031234567891234), (20_000, 0.019)], read.Select(v => (v.Step, v.Metrics["ndcg@10"])));
    }

    [Fact]
    public void A_bundle_from_before_the_curve_gives_its_best_point_and_a_refit_none()
    {
        var old = new Dictionary<string, string> { ["bestStep"] = "50000", ["bestMetric"] = "0.02455", ["selectionMetric"] = "ndcg@10" };
        Assert.Equal([(50_000, 0.02455)], ValidationCurve.Read(old, "ndcg@10").Select(v => (v.Step, v.Metrics["ndcg@10"])));
        Assert.Empty(ValidationCurve.Read(old, "recall@10"));   // its best point measured another metric
        var refit = new Dictionary<string, string>(old) { [ValidationCurve.Property] = "" };
        Assert.Empty(ValidationCurve.Read(refit, "ndcg@10"));
        Assert.Throws<FormatException>(() => ValidationCurve.Read(new Dictionary<string, string> { [ValidationCurve.Property] = "100:0.1;200" }, "ndcg@10"));
    }
}
