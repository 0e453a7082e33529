using LMIndexer.Core.Generation;
using TorchSharp;

namespace LMIndexer.Core.Tests.Generation;

/// <summary>A serving silo ranks thousands of batches a minute: a tensor left alive per batch would go to the finalizer thread.</summary>
public sealed class RankingTensorLifetimeTests
{
    [Theory]
    [InlineData(RankingMode.Generative)]
    [InlineData(RankingMode.Dense)]
    [InlineData(RankingMode.Hybrid)]
    public void Ranking_a_batch_disposes_every_tensor_it_made(RankingMode mode)
    {
        var ids = ConstrainedBeamSearchTests.RandomIds(40, new Random(5));
        using var model = ConstrainedBeamSearchTests.RandomModel(41, config => config with { SourceItemCount = ids.Count, DenseItemHead = true });
        using var tables = new TrieTables(IdTrie.Build(ids));
        var random = new Random(41);
        var sources = Enumerable.Range(0, 6).Select(_ => Enumerable.Range(0, 5).Select(_ => 4 + random.Next(20)).ToArray()).ToList();
        var stats = DisposeScopeManager.Statistics;   // this thread's
        var live = stats.ThreadTotalLiveCount;
        var created = stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount;

        var ranked = ItemRanker.Rank([model], sources, tables, 6, mode);

        Assert.All(ranked, r => Assert.Equal(6, r.Length));
        Assert.True(stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount - created > 50, "the ranking made tensors");
        Assert.Equal(live, stats.ThreadTotalLiveCount);
    }
}
