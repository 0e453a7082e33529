using LMIndexer.Core.Evaluation;
using LMIndexer.Core.Indexing;
using LMIndexer.Research.Indexing;
using LMIndexer.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Lab.Tests.Research;

public sealed class BaselineIndexerTests
{
    // 4 planted groups, each with 3 planted sub-groups: a good 2-level index recovers both.
    private static (Tensor Points, int[] Groups, int[] SubGroups) Planted()
    {
        torch.manual_seed(21);
        var groupCenters = torch.randn(4, 12).Times(12);
        var subOffsets = torch.randn(4, 3, 12).Times(3);
        var groups = Enumerable.Range(0, 240).Select(i => i % 4).ToArray();
        var subGroups = Enumerable.Range(0, 240).Select(i => (i / 4) % 3).ToArray();
        var rows = groups.Zip(subGroups).Select(g => groupCenters[g.First].Plus(subOffsets[g.First, g.Second])).ToArray();
        var points = torch.stack(rows).Plus(torch.randn(240, 12).Times(0.3));
        return (points, groups, subGroups);
    }

    [Fact]
    public void Kmeans_tree_recovers_a_planted_two_level_hierarchy()
    {
        var (points, groups, subGroups) = Planted();
        var codes = KMeansTreeIndexer.Assign(points, depth: 2, k: 4, new KMeansOptions { Restarts = 3 });
        Assert.Equal(1.0, ClusteringMetrics.AdjustedMutualInformation(groups, codes.Select(c => c[0]).ToList()), 6);
        var pairs = groups.Zip(subGroups, (g, s) => g * 10 + s).ToList();
        var ami = ClusteringMetrics.AdjustedMutualInformation(pairs, codes.Select(c => c[0] * 10 + c[1]).ToList());
        Assert.True(ami > 0.8, $"AMI of (c1, c2) against planted sub-groups: {ami:F3}");
    }
}
