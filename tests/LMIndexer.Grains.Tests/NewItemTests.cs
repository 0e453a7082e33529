using LMIndexer.Abstractions;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Indexing;
using LMIndexer.Grains.Items;
using LMIndexer.Grains.Placement;
using LMIndexer.Grains.Versions;
using LMIndexer.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace LMIndexer.Grains.Tests;

/// <summary>Items that join the catalog after training, while a backfill runs: an ID in both versions, generatable in both.</summary>
public sealed class NewItemTests
{
    [Fact]
    public async Task An_item_added_during_a_backfill_gets_an_id_in_both_versions_that_collides_with_nothing()
    {
        var a1 = TestServingBundle.IndexedDirectory;
        var a2 = Path.Combine(Path.GetDirectoryName(a1)!, "serving-a2");
        if (!Directory.Exists(a2))
            ServingBundle.CopyAsVersion(a1, a2, "a2", t => new SemanticIdTable([.. t.ItemIds.Skip(1).Append(t.ItemIds[0])], t.Ids));
        await using var cluster = ClusterFixture.Build(1, _ => SiloRoles.Gpu, fallback: true,
            settings: new Dictionary<string, string?> { ["Backfill:BatchSize"] = "8", ["Backfill:PauseBetweenBatches"] = "00:00:00.150" });
        await cluster.DeployAsync();
        var grains = cluster.Client;
        await Task.WhenAll(TestServingBundle.Records.Select(r => grains.GetGrain<IItemGrain>(r.ItemId).UpsertAsync(r)));
        await IndexPublisher.PublishAsync(grains, a1);
        await grains.GetGrain<IIndexVersionGrain>(0).ActivateAsync("a1");
        await grains.GetGrain<IBackfillGrain>("job-a2").StartAsync(a2);

        // A new item joins the catalog mid-backfill: a twin of an existing one, so its learned codes are shared and the counter must move on.
        var twin = TestServingBundle.Records[5];
        var item = twin with { ItemId = "NEW-ITEM-1" };
        await grains.GetGrain<IItemGrain>(item.ItemId).UpsertAsync(item);
        var assignment = cluster.GetSiloServiceProvider().GetRequiredService<CatalogIdAssignment>();
        var given = await assignment.AssignAsync([item]);
        Assert.Equal(["a1", "a2"], given.Keys.Order());

        var tables = new Dictionary<string, SemanticIdTable>
        {
            ["a1"] = SemanticIdTable.Load(Path.Combine(a1, SemanticIdTable.FileName)),
            ["a2"] = SemanticIdTable.Load(Path.Combine(a2, SemanticIdTable.FileName)),
        };
        var details = (await grains.GetGrain<IItemGrain>(item.ItemId).GetDetailsAsync())!;
        foreach (var (version, table) in tables)
        {
            var id = Assert.Single(details.SemanticIds, s => s.Version == version).Codes;
            Assert.DoesNotContain(table.Ids, existing => existing.AsSpan().SequenceEqual(id));          // no collision, even with IDs not written yet
            // The twin's learned codes. Both versions name a1's indexer (a2 only moves a1's IDs between
            // items), so the indexer gives the twin's text a1's codes in either.
            Assert.Equal(tables["a1"].Find(twin.ItemId)![..^1], id[..^1]);
            Assert.Equal(item.ItemId, (await grains.GetGrain<IIdPrefixGrain>($"{version}/{id[0]}").ResolveAsync([id]))[0]);
            // Only the allocated item is listed for a loading model, not the bundle's own items.
            var allocated = Assert.Single(await grains.GetGrain<IIdPrefixGrain>($"{version}/{id[0]}").ListAllocatedAsync());
            Assert.Equal(item.ItemId, allocated.ItemId);
            Assert.Equal(id, allocated.Codes);
        }
        // The serving version can generate it at once.
        Assert.Equal(tables["a1"].Count + 1, (await grains.GetGrain<IIndexerInferenceGrain>("a1/0").GetStatsAsync()).Items);

        var done = await BackfillFlow.WaitAsync(grains, "job-a2", TimeSpan.FromSeconds(60));
        Assert.Equal(BackfillStatus.Completed, done.Status);
        await BackfillFlow.AssertFullyWrittenAsync(grains, a2, "a2");
        var a2Id = details.SemanticIds.Single(s => s.Version == "a2").Codes;
        Assert.Equal(item.ItemId, (await grains.GetGrain<IIdPrefixGrain>($"a2/{a2Id[0]}").ResolveAsync([a2Id]))[0]);   // the backfill left it alone

        // Switching loads a2's model; its trie picks the new item up from the prefix grains.
        await grains.GetGrain<IIndexVersionGrain>(0).ActivateAsync("a2");
        Assert.Equal(tables["a2"].Count + 1, (await grains.GetGrain<IIndexerInferenceGrain>("a2/0").GetStatsAsync()).Items);
        Assert.Empty(await assignment.AssignAsync([item]));   // already has its IDs
    }

    [Fact]
    public async Task A_new_item_of_a_dense_head_version_gets_a_vector_from_its_text_and_keeps_it_when_the_model_loads_again()
    {
        await using var cluster = ClusterFixture.Build(1, _ => SiloRoles.Gpu, fallback: true);
        await cluster.DeployAsync();
        var grains = cluster.Client;
        await Task.WhenAll(TestServingBundle.Records.Select(r => grains.GetGrain<IItemGrain>(r.ItemId).UpsertAsync(r)));
        var published = await IndexPublisher.PublishAsync(grains, TestServingBundle.DenseDirectory);
        await grains.GetGrain<IIndexVersionGrain>(0).ActivateAsync(published.Version);
        var model = grains.GetGrain<IIndexerInferenceGrain>($"{published.Version}/0");
        Assert.Equal(0, (await model.GetStatsAsync()).ItemsWithTextVectors);

        var item = TestServingBundle.Records[7] with { ItemId = "NEW-DENSE-1", Title = "Moonlit lavender body butter" };
        await grains.GetGrain<IItemGrain>(item.ItemId).UpsertAsync(item);
        var given = await cluster.GetSiloServiceProvider().GetRequiredService<CatalogIdAssignment>().AssignAsync([item]);
        Assert.Contains(published.Version, given.Keys);

        // The inference grain read the item's text from its grain and projected it.
        var stats = await model.GetStatsAsync();
        Assert.Equal((published.Items + 1, 1), (stats.Items, stats.ItemsWithTextVectors));
        var vector = await model.GetItemVectorAsync(item.ItemId);
        Assert.Equal(ItemVector.Text, vector.Source);
        Assert.Contains(vector.Values, v => v != 0);
        // The next request ranks it: a ranking of every item holds it with a finite score.
        var everything = await model.GenerateFromItemIdsAsync([TestServingBundle.Records[0].ItemId, TestServingBundle.Records[1].ItemId], published.Items + 1);
        Assert.True(double.IsFinite(Assert.Single(everything.Ids, g => g.ItemId == item.ItemId).Score));

        // A model loaded again finds the item in the prefix grains and its text in the item grain.
        await model.UnloadAsync();
        var reloaded = await model.GetStatsAsync();
        Assert.Equal((published.Items + 1, 1), (reloaded.Items, reloaded.ItemsWithTextVectors));
        Assert.Equal(vector.Values, (await model.GetItemVectorAsync(item.ItemId)).Values, (a, b) => Math.Abs(a - b) < 1e-5);
        Assert.Equal(ItemVector.Trained, (await model.GetItemVectorAsync(TestServingBundle.Records[0].ItemId)).Source);
    }
}
