using LMIndexer.Abstractions;
using LMIndexer.Grains.Inference;
using LMIndexer.Grains.Placement;
using LMIndexer.Grains.Search;
using LMIndexer.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace LMIndexer.Grains.Tests;

public sealed class CatalogSearchTests
{
    private static readonly ItemRecord[] Catalog =
    [
        new("S1", "Lumilab gentle day lotion", Brand: "Lumilab"),
        new("S2", "Dermaco exfoliating scrub", Brand: "Dermaco"),
        new("S3", "Dermaco gentle face wash", Brand: "Dermaco"),
        new("S4", "Aquaora retinol serum", Brand: "Aquaora"),
    ];

    private static CatalogSearch Search(IGrainFactory grains, int timeoutMilliseconds = 200, double generativeWeight = 1)
    {
        var options = Options.Create(new SearchOptions { Encoder = "none", GenerativeWeight = generativeWeight, GenerativeTimeoutMilliseconds = timeoutMilliseconds });
        var inference = Options.Create(new InferenceOptions());
        return new CatalogSearch(grains, options, inference, new ItemTextEmbedder(options),
            new Versions.ServedVersions(grains, NullLogger<Versions.ServedVersions>.Instance), new InferenceRoute(grains, inference, NullLogger<InferenceRoute>.Instance),
            NullLogger<CatalogSearch>.Instance);
    }

    private static async Task<InProcessTestClusterHandle> ClusterWithCatalogAsync()
    {
        var cluster = ClusterFixture.Build(1, _ => SiloRoles.Gpu, fallback: true);
        await cluster.DeployAsync();
        await Task.WhenAll(Catalog.Select(r => cluster.Client.GetGrain<IItemGrain>(r.ItemId).UpsertAsync(r)));
        return new(cluster);
    }

    [Fact]
    public async Task Upserted_items_are_found_across_shards_and_an_update_replaces_the_old_words()
    {
        await using var handle = await ClusterWithCatalogAsync();
        var grains = handle.Cluster.Client;
        var search = Search(grains, generativeWeight: 0);

        var dermaco = await search.SearchAsync("dermaco scrub", 3);
        Assert.Equal(["S2", "S3"], dermaco.Items.Select(i => i.ItemId));
        Assert.False(dermaco.Degraded);
        Assert.Null(dermaco.Version);
        Assert.Equal(Catalog.Length, (await Task.WhenAll(CatalogSearchShards.All(grains).Select(s => s.CountAsync()))).Sum());

        await grains.GetGrain<IItemGrain>("S2").UpsertAsync(Catalog[1] with { Title = "Dermaco cleansing balm" });
        Assert.Equal(["S2"], (await search.SearchAsync("balm", 3)).Items.Select(i => i.ItemId));
        Assert.Empty((await search.SearchAsync("scrub", 3)).Items);
    }

    [Fact]
    public async Task Generated_items_are_fused_in_and_a_slow_or_failing_model_is_left_out_marked_degraded()
    {
        await using var handle = await ClusterWithCatalogAsync();
        var search = Search(handle.Cluster.Client);

        var fused = await search.SearchAsync("gentle", 4, (_, _, _, _) => Task.FromResult<(string?, IReadOnlyList<string>)>(("s9", ["S4", "S3"])));
        Assert.Equal("s9", fused.Version);
        Assert.False(fused.Degraded);
        Assert.Equal("S3", fused.Items[0].ItemId);   // second by the model and first or second by BM25
        Assert.Contains("S4", fused.Items.Select(i => i.ItemId));   // only the model names it

        var never = new TaskCompletionSource<(string?, IReadOnlyList<string>)>();
        var slow = await search.SearchAsync("gentle", 4, (_, _, _, _) => never.Task);
        Assert.True(slow.Degraded);
        Assert.Null(slow.Version);
        Assert.Equal(["S1", "S3"], slow.Items.Select(i => i.ItemId).Order());

        var failing = await search.SearchAsync("gentle", 4, (_, _, _, _) => Task.FromException<(string?, IReadOnlyList<string>)>(new OrleansException("model gone")));
        Assert.True(failing.Degraded);
        Assert.Equal(2, failing.Items.Count);
    }

    private sealed record InProcessTestClusterHandle(Orleans.TestingHost.InProcessTestCluster Cluster) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Cluster.DisposeAsync();
    }
}
