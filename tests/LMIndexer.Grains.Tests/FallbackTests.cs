using System.Diagnostics.Metrics;
using LMIndexer.Abstractions;
using LMIndexer.Grains.Items;
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
        // The model is held back well past the deadline by a call filter: no race with a timer.
        await using var cluster = ClusterFixture.Build(1, _ => SiloRoles.Gpu, fallback: true,
            storage: silo => silo.AddMemoryGrainStorage(StorageNames.Default).UseInMemoryReminderService().AddIncomingGrainCallFilter(async context =>
            {
                if (context.InterfaceMethod.DeclaringType == typeof(IIndexerInferenceGrain) && context.InterfaceMethod.Name.StartsWith("Generate", StringComparison.Ordinal))
                    await Task.Delay(TimeSpan.FromSeconds(3));
                await context.Invoke();
            }),
            settings: new Dictionary<string, string?> { ["Inference:TimeoutMilliseconds"] = "300" });
        await cluster.DeployAsync();
        var grains = cluster.Client;
        await Task.WhenAll(TestServingBundle.Records.Select(r => grains.GetGrain<IItemGrain>(r.ItemId).UpsertAsync(r)));
        await IndexPublisher.PublishAsync(grains, TestServingBundle.Directory);
        await grains.GetGrain<IIndexVersionGrain>(0).ActivateAsync("v1");
        var items = TestServingBundle.Catalog.Items;
        var popularUser = grains.GetGrain<IUserGrain>("popular-maker");
        await popularUser.RecordBatchAsync([.. items.Take(8).Select((item, i) => new UserEvent($"p{i}", "popular-maker", item.ItemId, EventType.Purchase, DateTimeOffset.UtcNow))]);
        await PopularityWait.ForAsync(grains, [.. items.Take(8).Select(i => i.ItemId)]);

        // The user has seen the most popular item: the fallback must leave it out, not just items nobody buys.
        var user = grains.GetGrain<IUserGrain>("impatient");
        var seen = items[3].ItemId;
        await user.RecordAsync(new UserEvent("e1", "impatient", seen, EventType.Purchase, DateTimeOffset.UtcNow));
        var popularity = grains.GetGrain<IPopularityGrain>(0);
        for (var attempt = 0; attempt < 50 && (await popularity.TopAsync(1))[0].ItemId != seen; attempt++)
            await Task.Delay(100);
        var popular = (await popularity.TopAsync(10)).Select(p => p.ItemId).ToList();
        Assert.Equal(seen, popular[0]);
        await Task.Delay(Popularity.PopularityCounterGrain.TopFreshFor);   // the silo's copy of the ranking has it too

        var result = await user.RecommendAsync(5);
        Assert.True(result.Degraded, $"answered by version {result.Version ?? "none"}: {string.Join(", ", result.Items.Select(i => $"{i.ItemId} ({i.Source})"))}");
        Assert.Null(result.Version);
        Assert.All(result.Items, i => Assert.Equal(RecommendationSource.Popular, i.Source));
        Assert.Equal(popular.Where(id => id != seen).Take(5), result.Items.Select(i => i.ItemId));
    }

    [Fact]
    public async Task Events_for_items_the_catalog_does_not_hold_are_counted_and_never_recommended()
    {
        _ = TestServingBundle.Directory;
        await using var cluster = ClusterFixture.Build(1, _ => SiloRoles.Gpu, fallback: true);
        await cluster.DeployAsync();
        var grains = cluster.Client;
        var items = TestServingBundle.Catalog.Items;
        await Task.WhenAll(items.Take(6).Select(i => grains.GetGrain<IItemGrain>(i.ItemId).UpsertAsync(i.ToRecord())));
        long unknownEvents = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "lmindexer.events.unknown_items")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref unknownEvents, value));
        listener.Start();

        // The unknown item gets the most weight of all; known items get some.
        var buyer = grains.GetGrain<IUserGrain>("ghost-buyer");
        await buyer.RecordBatchAsync([
            .. Enumerable.Range(0, 3).Select(i => new UserEvent($"g{i}", "ghost-buyer", "ghost-item", EventType.Purchase, DateTimeOffset.UtcNow)),
            .. items.Take(6).Select((item, i) => new UserEvent($"k{i}", "ghost-buyer", item.ItemId, EventType.View, DateTimeOffset.UtcNow))]);
        await PopularityWait.ForAsync(grains, [.. items.Take(6).Select(i => i.ItemId)]);

        var result = await grains.GetGrain<IUserGrain>("newcomer").RecommendAsync(10);
        Assert.Equal(6, result.Items.Count);
        Assert.DoesNotContain(result.Items, i => i.ItemId == "ghost-item");
        Assert.All(result.Items, i => Assert.NotNull(i.Item));   // every answer is a catalog item with its details
        Assert.Equal(3, Interlocked.Read(ref unknownEvents));
    }
}
