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

    [Fact]
    public void A_kmeans_tree_bundle_refuses_to_code_new_items_by_name()
    {
        using var temp = new LMIndexer.Testing.TempDirectory();
        var catalog = LMIndexer.Core.Data.Synthetic.SyntheticCatalogGenerator.Generate(new LMIndexer.Core.Data.Synthetic.SyntheticCatalogOptions { Items = 40, Users = 5, Seed = 2 });
        var plan = new IndexingPlan
        {
            Indexer = new SemanticIndexerOptions { CodebookSize = 4, CounterSize = 16, MaxTokens = 16, KMeans = new KMeansOptions { Restarts = 1 } },
            Baseline = new KMeansTreeCodeAssigner(),
            ModelSize = "tiny",
            PretrainSteps = 0,
        };
        var outcome = SemanticIndexing.Run(catalog, plan);
        Assert.Equal("indexer-baseline", outcome.Bundle.Manifest.Kind);
        var directory = Path.Combine(temp.Path, "tree");
        SemanticIndexing.Save(outcome, directory);
        outcome.Bundle.Dispose();
        var refused = Assert.Throws<InvalidDataException>(() => IndexerBundle.Load(directory));
        Assert.EndsWith("holds kmeans-tree IDs, which keep no model to code new items; index with lmindexer or rqvae.", refused.Message, StringComparison.Ordinal);
    }
}
