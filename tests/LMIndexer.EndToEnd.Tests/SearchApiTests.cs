using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using LMIndexer.Testing;

namespace LMIndexer.EndToEnd.Tests;

[Collection(nameof(HostCollection))]
public sealed class SearchApiTests(HostFixture host)
{
    private static List<string> Ids(JsonElement result) =>
        [.. result.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("itemId").GetString()!)];

    [Fact]
    public async Task An_items_own_title_finds_it_among_the_first_by_bm25_and_dense_ranking()
    {
        foreach (var item in TestServingBundle.Catalog.Items.Take(5))
        {
            var result = await host.Http.GetFromJsonAsync<JsonElement>($"/api/search?q={Uri.EscapeDataString(item.Title!)}&count=5");
            Assert.Equal(JsonValueKind.Null, result.GetProperty("version").ValueKind);   // no generative model asked by default
            Assert.False(result.GetProperty("degraded").GetBoolean());
            var ids = Ids(result);
            Assert.Equal(5, ids.Count);
            Assert.Equal(5, ids.Distinct().Count());
            Assert.Contains(item.ItemId, ids.Take(3));   // near-twin titles of the synthetic catalog may come first
            Assert.All(result.GetProperty("items").EnumerateArray(), i => Assert.Equal("search", i.GetProperty("source").GetString()));
        }
    }

    [Fact]
    public async Task A_new_item_is_found_by_its_words_right_after_its_put()
    {
        using var put = new HttpRequestMessage(HttpMethod.Put, "/api/items")
        {
            Content = new StringContent("""{"itemId":"SEARCH-NEW-1","title":"Quizzacious cloudberry night balm","brand":"Fjellrose","categories":[["Beauty","Skin Care"]]}""", Encoding.UTF8, "application/json"),
        };
        put.Headers.Add("X-Api-Key", HostFixture.CatalogKey);
        using var response = await host.Http.SendAsync(put);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var byWord = await host.Http.GetFromJsonAsync<JsonElement>("/api/search?q=quizzacious&count=3");
        Assert.Equal("SEARCH-NEW-1", Ids(byWord)[0]);
        var byBrand = await host.Http.GetFromJsonAsync<JsonElement>("/api/search?q=fjellrose%20balm&count=3");
        Assert.Equal("SEARCH-NEW-1", Ids(byBrand)[0]);
        Assert.Equal("Fjellrose", byBrand.GetProperty("items")[0].GetProperty("brand").GetString());
    }

    [Fact]
    public async Task A_query_without_a_known_word_is_still_answered_by_the_dense_ranker()
    {
        var result = await host.Http.GetFromJsonAsync<JsonElement>("/api/search?q=zzqxv%20wwkrp&count=4");
        Assert.Equal(4, Ids(result).Count);
    }
}

public sealed class GenerativeSearchTests(GenerativeSearchHostFixture host) : IClassFixture<GenerativeSearchHostFixture>
{
    [Fact]
    public async Task The_search_versions_model_is_fused_in_and_named()
    {
        var item = TestServingBundle.Catalog.Items[10];
        var result = await host.Http.GetFromJsonAsync<JsonElement>($"/api/search?q={Uri.EscapeDataString(item.Brand + " " + item.PrimaryCategoryPath[^1])}&count=5");
        Assert.Equal("s1", result.GetProperty("version").GetString());
        Assert.False(result.GetProperty("degraded").GetBoolean());
        var ids = result.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("itemId").GetString()!).ToList();
        Assert.Equal(5, ids.Distinct().Count());
        var catalogIds = TestServingBundle.Catalog.Items.Select(i => i.ItemId).ToHashSet();
        Assert.All(ids, id => Assert.Contains(id, catalogIds));
    }
}

public sealed class SearchRestartTests
{
    [Fact]
    public async Task A_restarted_silo_reads_its_search_vectors_and_approximate_indexes_back_and_answers_alike()
    {
        var folder = Directory.CreateTempSubdirectory("lmindexer-search-restart-");
        var store = Path.Combine(folder.FullName, "store.db");
        var cache = Path.Combine(folder.FullName, "vectors");
        var query = $"/api/search?q={Uri.EscapeDataString(TestServingBundle.Catalog.Items[3].Title!)}&count=8";
        try
        {
            var before = await SearchOnce(store, cache, query);
            // Every shard holds items, and the test host switches shards to the approximate index from their first.
            var graphs = Directory.GetFiles(Path.Combine(cache, "search-index"), "*.usearch", SearchOption.AllDirectories)
                .ToDictionary(f => f, File.GetLastWriteTimeUtc);
            Assert.Equal(16, graphs.Count);

            var after = await SearchOnce(store, cache, query);

            Assert.Equal(before, after);
            // Read back, not built again: a rebuild would write each graph anew.
            Assert.Equal(graphs, Directory.GetFiles(Path.Combine(cache, "search-index"), "*.usearch", SearchOption.AllDirectories)
                .ToDictionary(f => f, File.GetLastWriteTimeUtc));
        }
        finally
        {
            TestEnvironment.DeleteLiteDb(store);
            folder.Delete(recursive: true);
        }
    }

    private static async Task<List<string>> SearchOnce(string store, string cache, string query)
    {
        var host = new RestartableHostFixture(store, cache);
        try
        {
            await host.InitializeAsync();
            var result = await host.Http.GetFromJsonAsync<JsonElement>(query);
            Assert.False(result.GetProperty("degraded").GetBoolean());
            return [.. result.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("itemId").GetString()!)];
        }
        finally
        {
            await host.DisposeAsync();
        }
    }
}
