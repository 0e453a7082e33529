using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace LMIndexer.EndToEnd.Tests;

/// <summary>Keys on writes and admin calls; nothing changes without one.</summary>
[Collection(nameof(HostCollection))]
public sealed class SecurityTests(HostFixture host)
{
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? body, string? key)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        if (key is not null)
            request.Headers.Add("X-Api-Key", key);
        return await host.Http.SendAsync(request);
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData("", HttpStatusCode.Unauthorized)]
    [InlineData("not-a-key", HttpStatusCode.Unauthorized)]
    [InlineData(HostFixture.ApiKey + "x", HttpStatusCode.Unauthorized)]
    [InlineData("TEST-ADMIN-KEY", HttpStatusCode.Unauthorized)]
    public async Task Catalog_writes_without_a_valid_key_are_refused_and_change_nothing(string? key, HttpStatusCode expected)
    {
        using var response = await SendAsync(HttpMethod.Put, "/api/items", """{"itemId":"SNEAKY-1","title":"Injected"}""", key);
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var lookup = await host.Http.GetAsync("/api/items/SNEAKY-1");
        Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);
    }

    [Fact]
    public async Task Admin_calls_need_an_admin_key_and_a_catalog_key_is_not_one()
    {
        var before = await AdminStateAsync();
        foreach (var (key, expected) in new (string?, HttpStatusCode)[] { (null, HttpStatusCode.Unauthorized), ("wrong", HttpStatusCode.Unauthorized), (HostFixture.CatalogKey, HttpStatusCode.Forbidden) })
        {
            foreach (var (method, path, body) in new (HttpMethod, string, string?)[]
            {
                (HttpMethod.Post, "/api/admin/rollback", null),
                (HttpMethod.Post, "/api/admin/versions/v1/activate", null),
                (HttpMethod.Post, "/api/admin/versions", """{"bundlePath":"/tmp"}"""),
                (HttpMethod.Post, "/api/admin/backfills", """{"bundlePath":"/tmp"}"""),
                (HttpMethod.Get, "/api/admin/versions", null),
            })
            {
                using var response = await SendAsync(method, path, body, key);
                Assert.True(response.StatusCode == expected, $"{method} {path} with key '{key}': {response.StatusCode}");
            }
        }
        Assert.Equal(before, await AdminStateAsync());   // nothing changed

        using var catalogWrite = await SendAsync(HttpMethod.Put, "/api/items", """{"itemId":"FEED-1","title":"From the feed"}""", HostFixture.CatalogKey);
        Assert.Equal(HttpStatusCode.OK, catalogWrite.StatusCode);
    }

    private async Task<string> AdminStateAsync()
    {
        using var response = await SendAsync(HttpMethod.Get, "/api/admin/versions", null, HostFixture.ApiKey);
        response.EnsureSuccessStatusCode();
        var state = await response.Content.ReadFromJsonAsync<JsonElement>();
        return $"{state.GetProperty("active")}/{state.GetProperty("previous")}/{state.GetProperty("versions").GetArrayLength()}";
    }
}

/// <summary>The public rate limit and the body limit, on a host configured tight.</summary>
public sealed class RateLimitTests(RateLimitedHostFixture host) : IClassFixture<RateLimitedHostFixture>
{
    [Fact]
    public async Task Past_the_burst_a_client_gets_429_with_retry_after_and_later_gets_through_again()
    {
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 6 && limited is null; i++)
        {
            var response = await host.Http.GetAsync("/api/users/rate-user/recommendations?count=3");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
                limited = response;
            else
                response.Dispose();
        }
        Assert.NotNull(limited);
        using (limited)
        {
            Assert.True(statuses.Count(s => s == HttpStatusCode.OK) >= 2, string.Join(",", statuses));
            Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {limited.Headers.RetryAfter}");
            Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
            var problem = await limited.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("https://tools.ietf.org/html/rfc6585#section-4", problem.GetProperty("type").GetString());
        }
        await Task.Delay(TimeSpan.FromSeconds(2.2));
        using var again = await host.Http.GetAsync("/api/users/rate-user/recommendations?count=3");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);

        // Admin calls are keyed, not rate-limited.
        for (var i = 0; i < 5; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/admin/versions");
            request.Headers.Add("X-Api-Key", HostFixture.ApiKey);
            using var admin = await host.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        }
    }

    [Fact]
    public async Task A_body_over_the_limit_is_a_413_problem()
    {
        await Task.Delay(TimeSpan.FromSeconds(3));   // a fresh token bucket
        var big = "[" + string.Join(",", Enumerable.Repeat("""{"userId":"u","itemId":"P000001"}""", 3000)) + "]";   // ~100 KB > 64 KB
        using var response = await host.Http.PostAsync("/api/events", new StringContent(big, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(("Content too large", "https://tools.ietf.org/html/rfc9110#section-15.5.14"), (problem.GetProperty("title").GetString(), problem.GetProperty("type").GetString()));
    }
}
