using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using LMIndexer.Testing;

namespace LMIndexer.EndToEnd.Tests;

[Collection(nameof(HostCollection))]
public sealed class HttpApiTests(HostFixture host)
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<JsonElement> RecommendAsync(string user, int count)
    {
        using var response = await host.Http.GetAsync($"/api/users/{user}/recommendations?count={count}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task Events_in_recommendations_out_without_seen_items()
    {
        var history = TestServingBundle.Catalog.Users[3].ItemIds.Take(5).ToList();
        var events = history.Select((item, i) => new { userId = "http-user", itemId = item, type = i == 4 ? "purchase" : "view", eventId = $"http-{i}" });
        using var posted = await host.Http.PostAsJsonAsync("/api/events", events);
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        var accepted = await posted.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(5, accepted.GetProperty("recorded").GetInt32());

        using var again = await host.Http.PostAsync("/api/events", Json("""{"userId":"http-user","itemId":"ignored","eventId":"http-0"}"""));
        Assert.Equal(1, (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicates").GetInt32());

        var result = await RecommendAsync("http-user", 5);
        Assert.Equal("v1", result.GetProperty("version").GetString());
        var items = result.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(5, items.Count);
        Assert.All(items, i => Assert.DoesNotContain(i.GetProperty("itemId").GetString(), history));
        Assert.Contains(items, i => i.GetProperty("source").GetString() == "model");
        Assert.All(items, i => Assert.False(string.IsNullOrEmpty(i.GetProperty("title").GetString())));
    }

    [Fact]
    public async Task A_new_user_gets_popular_items_and_no_version()
    {
        var result = await RecommendAsync("http-cold-start", 3);
        Assert.Equal(JsonValueKind.Null, result.GetProperty("version").ValueKind);
        Assert.All(result.GetProperty("items").EnumerateArray(), i => Assert.Equal("popular", i.GetProperty("source").GetString()));
    }

    [Theory]
    [InlineData("GET", "/api/users/u1/recommendations?count=0", null, "count")]
    [InlineData("GET", "/api/users/u1/recommendations?count=5000", null, "count")]
    [InlineData("POST", "/api/events", """{"itemId":"P1"}""", "userId")]
    [InlineData("POST", "/api/events", """[{"userId":"u","itemId":"P1","type":"teleport"}]""", "type")]
    [InlineData("POST", "/api/events", """{"userId":"a/b","itemId":"P1"}""", "userId")]
    [InlineData("POST", "/api/events", "not json", null)]
    [InlineData("POST", "/api/events", "[]", null)]
    [InlineData("PUT", "/api/items", """{"itemId":"X1","price":-3}""", "price")]
    [InlineData("GET", "/api/search", null, "q")]
    [InlineData("GET", "/api/search?q=serum&count=0", null, "count")]
    [InlineData("GET", "/api/search?q=lip%01balm", null, "q")]
    [InlineData("GET", "/api/search?q=%20%20", null, "q")]
    [InlineData("GET", "/api/search?q=serum&count=1.5", null, "count")]
    [InlineData("GET", "/api/users/u1/recommendations?count=abc", null, "count")]
    [InlineData("GET", "/api/ids/1?limit=0", null, "limit")]
    [InlineData("GET", "/api/ids/1?version=a%5Cb", null, "version")]
    [InlineData("GET", "/api/items/..%2F..%2Fetc", null, "itemId")]
    [InlineData("GET", "/api/users/a%5Cb/history", null, "userId")]
    [InlineData("POST", "/api/events", """{"userId":123,"itemId":"P1"}""", "userId")]
    [InlineData("POST", "/api/events", """[{"userId":"u","itemId":"P1"},{"userId":"u","itemId":"P1","time":"yesterday"}]""", "[1].time")]
    [InlineData("POST", "/api/events", "[1]", "[0]")]
    [InlineData("PUT", "/api/items", """{"itemId":"X1","title":"Serum","categories":["Hair Care"]}""", "categories[0]")]
    [InlineData("PUT", "/api/items", """{"itemId":"X1","title":"Serum","price":"cheap"}""", "price")]
    [InlineData("PUT", "/api/items", """{"itemId":"X1","title":"Serum","price":"9.5"}""", "price")]
    [InlineData("PUT", "/api/items", """{"itemId":"X1","title":"Serum","imageUrl":"javascript:alert(1)"}""", "imageUrl")]
    [InlineData("PUT", "/api/items", """{"itemId":"X1"}""", "title")]
    public async Task Bad_input_is_a_400_problem(string method, string path, string? body, string? field)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = body is null ? null : Json(body) };
        request.Headers.Add("X-Api-Key", HostFixture.CatalogKey);   // past the key check of catalog writes
        using var response = await host.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        if (field is not null)
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"no error for '{field}' in {problem}");
        // Words for a client developer: no .NET type or namespace.
        Assert.DoesNotMatch(@"LMIndexer\.|System\.|`1", problem.ToString());
    }

    [Theory]
    [InlineData("/api/ids/1?version=no-such-version")]
    [InlineData("/api/items/no-such-item")]
    [InlineData("/api/admin/versions/no-such-version/activate")]
    public async Task Unknown_things_are_a_404_problem_everywhere(string path)
    {
        using var request = new HttpRequestMessage(path.Contains("activate", StringComparison.Ordinal) ? HttpMethod.Post : HttpMethod.Get, path);
        request.Headers.Add("X-Api-Key", HostFixture.ApiKey);
        using var response = await host.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("no-such", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_a_415_problem()
    {
        using var response = await host.Http.PostAsync("/api/events", new StringContent("userId=u1", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.TryGetProperty("detail", out var detail), problem.ToString());
        Assert.Contains("application/json", detail.GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Items_round_trip_with_their_semantic_ids_and_unknown_items_are_404()
    {
        using var putRequest = new HttpRequestMessage(HttpMethod.Put, "/api/items") { Content = Json("""{"itemId":"NEW-1","title":"Test serum","brand":"Acme","price":9.5,"categories":[["Beauty","Serums"]]}""") };
        putRequest.Headers.Add("X-Api-Key", HostFixture.CatalogKey);
        using var put = await host.Http.SendAsync(putRequest);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var created = await host.Http.GetFromJsonAsync<JsonElement>("/api/items/NEW-1");
        Assert.Equal("Test serum", created.GetProperty("item").GetProperty("title").GetString());

        var known = TestServingBundle.Catalog.Items[0].ItemId;
        var details = await host.Http.GetFromJsonAsync<JsonElement>($"/api/items/{known}");
        var id = details.GetProperty("semanticIds").GetProperty("v1").EnumerateArray().Select(c => c.GetInt64()).ToArray();
        // v1's network has no dense item head: the view says so rather than leaving the field out.
        var vector = details.GetProperty("denseVector");
        Assert.Equal(("v1", "none", 0), (vector.GetProperty("version").GetString(), vector.GetProperty("source").GetString(), vector.GetProperty("values").GetArrayLength()));
        var listed = await host.Http.GetFromJsonAsync<JsonElement>($"/api/ids/{id[0]}/{id[1]}");
        Assert.Contains(listed.EnumerateArray(), e => e.GetProperty("itemId").GetString() == known);

        using var missing = await host.Http.GetAsync("/api/items/does-not-exist");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Admin_api_needs_the_key()
    {
        using var anonymous = await host.Http.GetAsync("/api/admin/versions");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("ApiKey header=\"X-Api-Key\"", anonymous.Headers.WwwAuthenticate.ToString());
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/admin/versions");
        request.Headers.Add("X-Api-Key", HostFixture.ApiKey);
        using var authorized = await host.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, authorized.StatusCode);
        var state = await authorized.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("v1", state.GetProperty("active").GetString());
    }

    [Fact]
    public async Task Openapi_health_docs_and_dashboard_are_served()
    {
        var document = await host.Http.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = document.GetProperty("paths");
        foreach (var path in new[] { "/api/events", "/api/items", "/api/users/{userId}/recommendations", "/api/items/{itemId}" })
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is missing from the OpenAPI document");
        Assert.Equal("Healthy", await host.Http.GetStringAsync("/health"));
        using var docs = await host.Http.GetAsync("/docs");
        Assert.True(docs.IsSuccessStatusCode, $"/docs: {docs.StatusCode}");
        using var dashboard = await host.Http.GetAsync("/dashboard/");
        Assert.True(dashboard.IsSuccessStatusCode, $"/dashboard: {dashboard.StatusCode}");
        var item = TestServingBundle.Catalog.Items[2].ItemId;
        using (var posted = await host.Http.PostAsync("/api/events", Json($$"""{"userId":"metrics-user","itemId":"{{item}}"}""")))
            posted.EnsureSuccessStatusCode();
        Assert.Equal("v1", (await RecommendAsync("metrics-user", 3)).GetProperty("version").GetString());   // ran the model
        var metrics = await host.Http.GetStringAsync("/metrics");
        Assert.Contains("lmindexer_inference_requests", metrics, StringComparison.Ordinal);
        Assert.Contains("lmindexer_inference_batch_size", metrics, StringComparison.Ordinal);
        Assert.Contains("lmindexer_inference_queue_length", metrics, StringComparison.Ordinal);
        Assert.Contains("lmindexer_inference_queue_wait_seconds_bucket", metrics, StringComparison.Ordinal);
        Assert.Matches("lmindexer_recommendations_total\\{[^}]*answer=\"model\"", metrics);
        // Every family of ours says what it measures, and latencies fall in buckets from milliseconds to seconds.
        var families = Regex.Matches(metrics, "^# TYPE (lmindexer_\\w+) ", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
        Assert.Contains("lmindexer_inference_batch_seconds", families);
        foreach (var family in families)
            Assert.Matches($"(?m)^# HELP {family} \\w", metrics);
        foreach (var latency in new[] { "lmindexer_inference_batch_seconds", "lmindexer_inference_queue_wait_seconds" })
        {
            var edges = Regex.Matches(metrics, latency + "_bucket\\{[^}]*le=\"([^\"]+)\"").Select(m => m.Groups[1].Value).Distinct().ToList();
            Assert.Equal(["0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"], edges);
        }
    }
}
