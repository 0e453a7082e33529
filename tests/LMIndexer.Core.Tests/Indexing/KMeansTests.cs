using LMIndexer.Core.Evaluation;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Tests.Indexing;

public sealed class KMeansTests
{
    [Fact]
    public void Recovers_planted_clusters()
    {
        torch.manual_seed(8);
        using var scope = NewDisposeScope();
        var centers = torch.randn(6, 16).Times(10);                                   // [6, 16], far apart
        var truth = Enumerable.Range(0, 600).Select(i => i % 6).ToArray();
        var points = centers.index_select(0, torch.tensor(truth.Select(t => (long)t).ToArray())).Plus(torch.randn(600, 16));
        var result = KMeans.Fit(points, 6, new KMeansOptions { Restarts = 3, Seed = 1 });
        Assert.Equal(1.0, ClusteringMetrics.AdjustedMutualInformation(truth, result.Assignments), 6);
        Assert.Equal(new long[] { 6, 16 }, result.Centroids.shape);
        Assert.Equal(result.Assignments, KMeans.Nearest(points, result.Centroids).data<long>().ToArray());
    }

    [Fact]
    public void More_restarts_never_increase_inertia_and_seed_fixes_the_result()
    {
        torch.manual_seed(9);
        using var points = torch.randn(300, 8);
        var one = KMeans.Fit(points, 10, new KMeansOptions { Restarts = 1, Seed = 4 });
        var five = KMeans.Fit(points, 10, new KMeansOptions { Restarts = 5, Seed = 4 });
        var again = KMeans.Fit(points, 10, new KMeansOptions { Restarts = 5, Seed = 4 });
        Assert.True(five.Inertia <= one.Inertia + 1e-3);
        Assert.Equal(five.Assignments, again.Assignments);
        Assert.Throws<ArgumentException>(() => KMeans.Fit(points, 301));
    }
}
