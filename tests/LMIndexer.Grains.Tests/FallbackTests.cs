using LMIndexer.Abstractions;
using LMIndexer.Grains.Placement;
using LMIndexer.Grains.Versions;
using LMIndexer.Testing;

namespace LMIndexer.Grains.Tests;

public sealed class FallbackTests
{
    [Fact]
    public async Task When_the_model_does_not_answer_in_time_users_get_popular_items_marked_degraded()
    {
        _ = TestServingBundle.Directory;
        await using var cluster = ClusterFixture.Build(1, _ => SiloRoles.Gpu, fallback: true,
            settings: new Dictionary<string, string?> { ["Inference:TimeoutMilliseconds"] = "1" });
        await cluster.DeployAsync();
        var grains = cluster.Client;
        await Task.WhenAll(TestServingBundle.Records.Select(r => grains.GetGrain<IItemGrain>(r.ItemId).UpsertAsync(r)));
        await IndexPublisher.PublishAsync(grains, TestServingBundle.Directory);
        await grains.GetGrain<IIndexVersionGrain>(0).ActivateAsync("v1");
        var items = TestServingBundle.Catalog.Items;
        var popularUser = grains.GetGrain<IUserGrain>("popular-maker");
        await popularUser.RecordBatchAsync([.. items.Take(8).Select((item, i) => new UserEvent($"p{i}", "popular-maker", item.ItemId, EventType.Purchase, DateTimeOffset.UtcNow))]);
        await PopularityWait.ForAsync(grains, [.. items.Take(8).Select(i => i.ItemId)]);

        var user = grains.GetGrain<IUserGrain>("impatient");
        await user.RecordAsync(new UserEvent("e1", "impatient", items[20].ItemId, EventType.View, DateTimeOffset.UtcNow));
        var result = await user.RecommendAsync(5);
        Assert.True(result.Degraded);
        Assert.Null(result.Version);
        Assert.Equal(5, result.Items.Count);
        Assert.All(result.Items, i => Assert.Equal(RecommendationSource.Popular, i.Source));
        Assert.DoesNotContain(result.Items, i => i.ItemId == items[20].ItemId);   // seen items stay out in the fallback too
    }
}
