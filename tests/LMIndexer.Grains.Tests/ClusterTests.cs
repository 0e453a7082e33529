using LMIndexer.Testing;
using LMIndexer.Abstractions;
using LMIndexer.Core.Indexing;
using LMIndexer.Grains.Placement;

namespace LMIndexer.Grains.Tests;

public sealed class ClusterTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private static UserEvent Event(string user, string item, string? id = null, EventType type = EventType.View) =>
        new(id ?? Guid.NewGuid().ToString("N"), user, item, type, DateTimeOffset.UtcNow);

    [Fact]
    public async Task Inference_activations_land_only_on_the_gpu_silo()
    {
        for (var replica = 0; replica < 4; replica++)
        {
            var stats = await fixture.Grains.GetGrain<IIndexerInferenceGrain>($"v1/{replica}").GetStatsAsync();
            Assert.Equal(fixture.GpuSilo, stats.Silo);
            Assert.Equal("v1", stats.Version);
        }
    }

    [Fact]
    public async Task A_repeated_event_id_is_counted_once_and_history_is_bounded()
    {
        var user = fixture.Grains.GetGrain<IUserGrain>("dedup-user");
        var items = TestServingBundle.Catalog.Items;
        Assert.True((await user.RecordAsync(Event("dedup-user", items[0].ItemId, "e1"))).Recorded);
        var repeat = await user.RecordAsync(Event("dedup-user", items[0].ItemId, "e1"));
        Assert.False(repeat.Recorded);
        Assert.Equal(1, repeat.HistoryLength);
        for (var i = 1; i <= 10; i++)
            await user.RecordAsync(Event("dedup-user", items[i].ItemId));
        var history = await user.GetHistoryAsync();
        Assert.Equal(6, history.Count);                                             // Recommendations:HistoryLength
        Assert.Equal(items.Skip(5).Take(6).Select(i => i.ItemId), history.Select(h => h.ItemId));
    }

    [Fact]
    public async Task A_batch_is_recorded_in_order_once_and_only_for_its_user()
    {
        var user = fixture.Grains.GetGrain<IUserGrain>("batch-user");
        var items = TestServingBundle.Catalog.Items;
        var receipt = await user.RecordBatchAsync([Event("batch-user", items[1].ItemId, "b1"), Event("batch-user", items[2].ItemId, "b2"), Event("batch-user", items[1].ItemId, "b1")]);
        Assert.Equal(2, receipt.HistoryLength);
        Assert.Equal(1, receipt.Duplicates);
        Assert.Equal([items[1].ItemId, items[2].ItemId], (await user.GetHistoryAsync()).Select(h => h.ItemId));
        await Assert.ThrowsAsync<ArgumentException>(() => user.RecordBatchAsync([Event("batch-user", items[4].ItemId), Event("someone-else", items[3].ItemId)]));
        Assert.Equal(2, (await user.GetHistoryAsync()).Count);   // the rejected batch left nothing behind
    }

    [Fact]
    public async Task Recommendations_come_from_the_model_never_repeat_seen_items_and_name_their_version()
    {
        var user = fixture.Grains.GetGrain<IUserGrain>("active-user");
        var sequence = TestServingBundle.Catalog.Users[0].ItemIds;
        foreach (var item in sequence)
            await user.RecordAsync(Event("active-user", item));
        var result = await user.RecommendAsync(8);
        Assert.Equal("v1", result.Version);
        Assert.Equal(8, result.Items.Count);
        Assert.Equal(8, result.Items.Select(i => i.ItemId).Distinct().Count());
        Assert.DoesNotContain(result.Items, i => sequence.Contains(i.ItemId));
        Assert.Contains(result.Items, i => i.Source == RecommendationSource.Model);
        var catalogIds = TestServingBundle.Catalog.Items.Select(i => i.ItemId).ToHashSet();
        Assert.All(result.Items, i => Assert.Contains(i.ItemId, catalogIds));
        Assert.All(result.Items, i => Assert.Equal(i.ItemId, i.Item?.ItemId));
        var modelScores = result.Items.Where(i => i.Source == RecommendationSource.Model).Select(i => i.Score).ToList();
        Assert.Equal(modelScores.OrderDescending(), modelScores);
    }

    [Fact]
    public async Task Cold_start_users_get_popular_items()
    {
        var buyer = fixture.Grains.GetGrain<IUserGrain>("popular-maker");
        var hot = TestServingBundle.Catalog.Items[7].ItemId;
        await buyer.RecordAsync(Event("popular-maker", hot, type: EventType.Purchase));
        await PopularityWait.ForAsync(fixture.Grains, hot);
        var result = await fixture.Grains.GetGrain<IUserGrain>("brand-new-user").RecommendAsync(3);
        Assert.Null(result.Version);
        Assert.NotEmpty(result.Items);
        Assert.All(result.Items, i => Assert.Equal(RecommendationSource.Popular, i.Source));
        Assert.Contains(result.Items, i => i.ItemId == hot);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => fixture.Grains.GetGrain<IUserGrain>("brand-new-user").RecommendAsync(0));
    }

    [Fact]
    public async Task Prefix_grains_resolve_every_id_of_the_version_and_list_prefixes()
    {
        var table = SemanticIdTable.Load(Path.Combine(TestServingBundle.Directory, SemanticIdTable.FileName));
        foreach (var group in Enumerable.Range(0, table.Count).GroupBy(i => table.Ids[i][0]))
        {
            var prefix = fixture.Grains.GetGrain<IIdPrefixGrain>($"v1/{group.Key}");
            var resolved = await prefix.ResolveAsync([.. group.Select(i => table.Ids[i])]);
            Assert.Equal(group.Select(i => table.ItemIds[i]), resolved);
            Assert.Equal(group.Count(), await prefix.CountAsync());
            var listed = await prefix.ListAsync([group.Key], 1000);
            Assert.Equal(group.Select(i => table.ItemIds[i]).Order(), listed.Select(e => e.ItemId).Order());
        }
        Assert.Equal([null], await fixture.Grains.GetGrain<IIdPrefixGrain>($"v1/{table.Ids[0][0]}").ResolveAsync([[table.Ids[0][0], 999, 999]]));
        var details = await fixture.Grains.GetGrain<IItemGrain>(table.ItemIds[0]).GetDetailsAsync();
        Assert.Equal(table.Ids[0], Assert.Single(details!.SemanticIds).Codes);
    }

    [Fact]
    public async Task Versions_register_activate_and_roll_back()
    {
        var versions = fixture.Grains.GetGrain<IIndexVersionGrain>(0);
        // A version whose bundle does not hold it fails its warm-up, and the switch does not happen.
        await versions.RegisterAsync("v9", TestServingBundle.Directory, 120);
        var warmUp = await Assert.ThrowsAnyAsync<Exception>(() => versions.ActivateAsync("v9"));
        Assert.Contains("holds version 'v1', not 'v9'", warmUp.Message, StringComparison.Ordinal);
        Assert.Equal("v1", await versions.GetActiveAsync());

        await versions.RegisterAsync("v2", TestServingBundle.Version2Directory, 120);
        await versions.ActivateAsync("v2");
        Assert.Equal("v2", await versions.GetActiveAsync());
        Assert.Equal("v1", await versions.RollbackAsync());
        Assert.Equal("v1", await versions.GetActiveAsync());
        await Assert.ThrowsAsync<KeyNotFoundException>(() => versions.ActivateAsync("nope"));
        await Assert.ThrowsAsync<ArgumentException>(() => versions.RegisterAsync("a/b", TestServingBundle.Directory, 1));
        await Assert.ThrowsAsync<ArgumentException>(() => versions.RegisterAsync("r1", TestServingBundle.Directory, 1, "retrieval"));
        await versions.RegisterAsync("s1", TestServingBundle.SearchDirectory, 120, "search");
        await versions.ActivateAsync("s1");
        Assert.Equal("s1", await versions.GetActiveSearchAsync());
        Assert.Equal("v1", await versions.GetActiveAsync());   // search versions do not displace the recommender
    }
}

public sealed class PlacementWithoutGpuTests
{
    [Fact]
    public async Task Without_a_gpu_silo_and_without_fallback_inference_fails_clearly_and_with_fallback_it_runs()
    {
        _ = TestServingBundle.Directory;
        await using var strict = ClusterFixture.Build(1, _ => SiloRoles.Cpu, fallback: false);
        await strict.DeployAsync();
        await strict.Client.GetGrain<IIndexVersionGrain>(0).RegisterAsync("v1", TestServingBundle.Directory, 120);
        var error = await Assert.ThrowsAnyAsync<Exception>(() => strict.Client.GetGrain<IIndexerInferenceGrain>("v1/0").GetStatsAsync());
        Assert.Contains("No silo has the 'gpu' role", error.Message, StringComparison.Ordinal);

        await using var lenient = ClusterFixture.Build(1, _ => SiloRoles.Cpu, fallback: true);
        await lenient.DeployAsync();
        await lenient.Client.GetGrain<IIndexVersionGrain>(0).RegisterAsync("v1", TestServingBundle.Directory, 120);
        var generated = await lenient.Client.GetGrain<IIndexerInferenceGrain>("v1/0").GenerateAsync(TestServingBundle.Records.Take(3).ToList(), 5);
        Assert.Equal("v1", generated.Version);
        Assert.Equal(5, generated.Ids.Count);
    }
}
