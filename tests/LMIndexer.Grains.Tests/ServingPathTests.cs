using System.Collections.Concurrent;
using System.Diagnostics;
using LMIndexer.Abstractions;
using LMIndexer.Core.Indexing;
using LMIndexer.Grains.Placement;
using LMIndexer.Grains.Versions;
using LMIndexer.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace LMIndexer.Grains.Tests;

/// <summary>
/// The request path: a recommendation asks neither the prefix grains (inference names its items)
/// nor the version registry (each silo keeps a copy that every change reaches before it returns),
/// and events reach the popularity singleton in periodic merges, not one call each.
/// </summary>
public sealed class ServingPathTests
{
    /// <summary>Grain calls by "interface.method", counted by every silo of the clusters built here.</summary>
    private static readonly ConcurrentDictionary<string, int> Calls = new(StringComparer.Ordinal);

    private static int CallsTo(string interfaceMethod) => Calls.GetValueOrDefault(interfaceMethod);

    private static int CallsTo<TGrain>() => Calls.Where(c => c.Key.StartsWith(typeof(TGrain).Name + ".", StringComparison.Ordinal)).Sum(c => c.Value);

    private static async Task<InProcessTestCluster> ClusterAsync()
    {
        _ = TestServingBundle.Directory;
        var cluster = ClusterFixture.Build(2, i => i == 0 ? SiloRoles.Gpu : SiloRoles.Cpu, fallback: false, storage: silo =>
        {
            silo.AddMemoryGrainStorage(StorageNames.Default);
            silo.UseInMemoryReminderService();
            silo.AddIncomingGrainCallFilter(context =>
            {
                Calls.AddOrUpdate($"{context.InterfaceMethod.DeclaringType!.Name}.{context.InterfaceMethod.Name}", 1, (_, n) => n + 1);
                return context.Invoke();
            });
        });
        await cluster.DeployAsync();
        await Task.WhenAll(TestServingBundle.Records.Select(r => cluster.Client.GetGrain<IItemGrain>(r.ItemId).UpsertAsync(r)));
        await IndexPublisher.PublishAsync(cluster.Client, TestServingBundle.Directory);
        await cluster.Client.GetGrain<IIndexVersionGrain>(0).ActivateAsync("v1");
        return cluster;
    }

    private static UserEvent Event(string user, string item) => new(Guid.NewGuid().ToString("N"), user, item, EventType.View, DateTimeOffset.UtcNow);

    [Fact]
    public async Task Recommendations_ask_no_prefix_grain_and_not_the_registry_and_events_reach_popularity_in_merges()
    {
        await using var cluster = await ClusterAsync();
        var grains = cluster.Client;
        var items = TestServingBundle.Catalog.Items;
        var users = Enumerable.Range(0, 8).Select(i => $"hot-path-{i}").ToList();
        foreach (var user in users)
        {
            // Each history holds an item the catalog does not: looked up once, not on every request.
            await grains.GetGrain<IUserGrain>(user).RecordBatchAsync([.. items.Skip(users.IndexOf(user)).Take(3).Select(i => Event(user, i.ItemId)), Event(user, "not-in-catalog")]);
            Assert.Equal("v1", (await grains.GetGrain<IUserGrain>(user).RecommendAsync(5)).Version);   // warm: history items fetched once
        }

        Calls.Clear();
        foreach (var user in users)
        {
            var result = await grains.GetGrain<IUserGrain>(user).RecommendAsync(5);
            Assert.Equal("v1", result.Version);
            Assert.All(result.Items.Where(i => i.Source == RecommendationSource.Model), i => Assert.Equal(i.ItemId, i.Item?.ItemId));
        }
        Assert.Equal(users.Count, CallsTo("IUserGrain.RecommendAsync"));
        Assert.Equal(0, CallsTo<IIdPrefixGrain>());
        Assert.Equal(0, CallsTo("IItemGrain.GetAsync") + CallsTo("IItemGrain.GetDetailsAsync"));   // history and answers cached per activation
        Assert.Equal(0, CallsTo("IIndexVersionGrain.GetAsync") + CallsTo("IIndexVersionGrain.GetActiveAsync"));

        Calls.Clear();
        var clock = Stopwatch.StartNew();
        const int Events = 200;
        await Task.WhenAll(Enumerable.Range(0, Events).Select(i => grains.GetGrain<IUserGrain>(users[i % users.Count]).RecordAsync(Event(users[i % users.Count], items[i % items.Count].ItemId))));
        await PopularityWait.ForAsync(grains, [.. Enumerable.Range(0, Events).Select(i => items[i % items.Count].ItemId).Distinct()]);
        var merges = CallsTo("IPopularityGrain.MergeAsync");
        Assert.InRange(merges, 1, 2 * (1 + (int)(clock.Elapsed / TimeSpan.FromMilliseconds(500))));   // per silo per half second, not per event
        Assert.True(merges < Events / 4, $"{merges} merges for {Events} events");
    }

    [Fact]
    public async Task A_version_switch_reaches_every_silo_before_it_returns_and_rollback_too()
    {
        await using var cluster = await ClusterAsync();
        var grains = cluster.Client;
        var versions = grains.GetGrain<IIndexVersionGrain>(0);
        var items = TestServingBundle.Catalog.Items;
        var copies = cluster.Silos.Select(s => s.SiloHost.Services.GetRequiredService<ServedVersions>()).ToList();
        async Task AssertServedEverywhereAsync(string version)
        {
            // Each silo's own copy, then users (on whichever silo holds them); the registry is not asked.
            Calls.Clear();
            foreach (var copy in copies)
                Assert.Equal(version, (await copy.ActiveAsync())?.Version);
            var users = Enumerable.Range(0, 10).Select(i => $"switch-{i}").ToList();
            Assert.All(await Task.WhenAll(users.Select(u => grains.GetGrain<IUserGrain>(u).RecommendAsync(3))), r => Assert.Equal(version, r.Version));
            Assert.Equal(0, CallsTo("IIndexVersionGrain.GetAsync") + CallsTo("IIndexVersionGrain.GetActiveAsync"));
        }
        foreach (var i in Enumerable.Range(0, 10))
            await grains.GetGrain<IUserGrain>($"switch-{i}").RecordAsync(Event($"switch-{i}", items[i % items.Count].ItemId));
        await AssertServedEverywhereAsync("v1");

        await IndexPublisher.PublishAsync(grains, TestServingBundle.Version2Directory);
        await versions.ActivateAsync("v2");
        await AssertServedEverywhereAsync("v2");
        Assert.Equal("v1", await versions.RollbackAsync());
        await AssertServedEverywhereAsync("v1");
    }

    [Fact]
    public async Task Inference_names_the_item_of_every_generated_id_and_an_id_only_model_takes_item_ids()
    {
        _ = TestServingBundle.DenseDirectory;
        await using var cluster = ClusterFixture.Build(1, _ => SiloRoles.Gpu, fallback: true);
        await cluster.DeployAsync();
        var versions = cluster.Client.GetGrain<IIndexVersionGrain>(0);
        Assert.True((await versions.RegisterAsync("v1", TestServingBundle.Directory, 120)).ItemText);           // titles
        Assert.False((await versions.RegisterAsync("d1", TestServingBundle.DenseDirectory, 120)).ItemText);     // IDs and item tokens
        Assert.True((await versions.RegisterAsync("x1", "/no/such/bundle", 1)).ItemText);                       // unreadable here: records are safe

        var history = TestServingBundle.Records.Take(4).ToList();
        var dense = cluster.Client.GetGrain<IIndexerInferenceGrain>("d1/0");
        var fromRecords = await dense.GenerateAsync(history, 8);
        var fromIds = await dense.GenerateFromItemIdsAsync([.. history.Select(h => h.ItemId)], 8);
        Assert.Equal(fromRecords.Ids.Select(g => (g.ItemId, g.Score, string.Join(",", g.Codes))), fromIds.Ids.Select(g => (g.ItemId, g.Score, string.Join(",", g.Codes))));

        var table = SemanticIdTable.Load(Path.Combine(TestServingBundle.DenseDirectory, SemanticIdTable.FileName));
        Assert.All(fromIds.Ids, g => Assert.Equal(g.ItemId, table.ItemIds[Enumerable.Range(0, table.Count).Single(i => table.Ids[i].SequenceEqual(g.Codes))]));

        var titles = cluster.Client.GetGrain<IIndexerInferenceGrain>("v1/0");
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => titles.GenerateFromItemIdsAsync([history[0].ItemId], 3));
        Assert.Contains("reads the items' text", refused.Message, StringComparison.Ordinal);
    }
}
