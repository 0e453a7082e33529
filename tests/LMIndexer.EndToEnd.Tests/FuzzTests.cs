using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace LMIndexer.EndToEnd.Tests;

/// <summary>
/// Generated bad requests across every endpoint: each must be answered with a 4xx problem, none
/// with a 5xx or a success, and the host must stay healthy. Bounded: a fixed count, loopback only.
/// </summary>
[Collection(nameof(HostCollection))]
public sealed class FuzzTests(HostFixture host)
{
    private const int Cases = 10_000;

    private static readonly string[] Junk =
    [
        "", " ", "null", "true", "0", "-1", "1e309", "\"", "{", "[", "]", "{}", "[{}]", "[[[]]]", "{\"a\":", "\u0000", "\uFFFF",
        "\"userId\"", "{\"userId\":1}", "{\"userId\":[]}", "{\"userId\":{}}", "[1,2,3]", "NaN", "undefined", "<xml/>", "%00", "😀",
    ];

    [Fact]
    public async Task Ten_thousand_generated_bad_requests_get_only_4xx_and_the_host_stays_healthy()
    {
        var generators = new Func<Random, HttpRequestMessage>[] { BadEvent, BadItem, BadRecommendation, BadSearch, BadLookup, BadAdmin, WrongShape };
        var wrong = new ConcurrentQueue<string>();
        var statuses = new ConcurrentDictionary<int, int>();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 16 }) { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        await Parallel.ForEachAsync(Enumerable.Range(0, Cases), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, cancellation) =>
        {
            var random = new Random(20261124 + i);
            using var request = generators[i % generators.Length](random);
            var description = $"{request.Method} {request.RequestUri} {(request.Content is null ? "" : Truncate(await request.Content.ReadAsStringAsync(cancellation)))}";
            using var response = await http.SendAsync(request, cancellation);
            statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
            if ((int)response.StatusCode is < 400 or >= 500)
                wrong.Enqueue($"{(int)response.StatusCode} for {description}");
            else if (response.Content.Headers.ContentType?.MediaType is { } type && type != "application/problem+json" && response.StatusCode != HttpStatusCode.NotFound)
                wrong.Enqueue($"{(int)response.StatusCode} as {type} for {description}");
        });
        Assert.True(wrong.IsEmpty, $"{wrong.Count} of {Cases} answered wrongly, e.g.:\n{string.Join("\n", wrong.Take(8))}");
        Assert.True(statuses.Keys.Count >= 5, $"the cases should reach several kinds of refusal: {string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}"))}");
        Assert.Equal("Healthy", await host.Http.GetStringAsync("/health"));
        using var normal = await host.Http.GetAsync("/api/users/after-fuzz/recommendations?count=3");
        Assert.Equal(HttpStatusCode.OK, normal.StatusCode);
    }

    private static string Truncate(string text) => text.Length > 120 ? text[..120] + "…" : text;

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static string Pick(Random random, params string[] options) => options[random.Next(options.Length)];

    private static string Garbage(Random random, int length) =>
        new([.. Enumerable.Range(0, length).Select(_ => (char)random.Next(1, 0x2FF))]);

    private static string BadId(Random random) => Pick(random,
        "", "   ", "a/b", "x\u0001y", new string('u', 129 + random.Next(500)), "\t");

    /// <summary>POST /api/events with one invalid field, broken JSON or the wrong shape.</summary>
    private static HttpRequestMessage BadEvent(Random random)
    {
        var good = new Dictionary<string, string> { ["userId"] = "\"u1\"", ["itemId"] = "\"P000001\"", ["type"] = "\"view\"" };
        var body = random.Next(6) switch
        {
            0 => Object(good, Pick(random, "userId", "itemId"), JsonString(BadId(random))),
            1 => Object(good, Pick(random, "userId", "itemId"), null),
            2 => Object(good, "type", JsonString(Pick(random, "teleport", "VIEWS", "", "purchase!", "1"))),
            3 => Object(good, "time", Pick(random, "\"yesterday\"", "\"3026-01-01T00:00:00Z\"", "\"1900-01-01T00:00:00Z\"", "12", "[]")),
            4 => Pick(random, Junk) + Garbage(random, random.Next(3)),
            _ => random.Next(2) == 0 ? "[]" : "[" + string.Join(",", Enumerable.Repeat("{\"userId\":\"u\",\"itemId\":\"i\"}", 1001)) + "]",
        };
        return new HttpRequestMessage(HttpMethod.Post, "/api/events") { Content = Json(body) };
    }

    /// <summary>PUT /api/items without a key, or with one and an invalid item.</summary>
    private static HttpRequestMessage BadItem(Random random)
    {
        var good = new Dictionary<string, string> { ["itemId"] = "\"FUZZ-1\"", ["title"] = "\"A title\"", ["price"] = "1.5" };
        var keyed = random.Next(4) != 0;
        var body = random.Next(5) switch
        {
            0 => Object(good, "itemId", random.Next(2) == 0 ? null : JsonString(BadId(random))),
            1 => Object(good, "price", Pick(random, "-1", "-0.01", "\"cheap\"", "[]", "1e400")),
            2 => Object(new Dictionary<string, string>(good) { ["title"] = "null" }, "description", random.Next(2) == 0 ? null : "\"  \""),
            3 => random.Next(3) switch
            {
                0 => Object(good, "title", JsonString(new string('t', 1001 + random.Next(5000)))),
                1 => Object(good, "brand", JsonString(new string('b', 201 + random.Next(500)))),
                _ => Object(good, "categories", Pick(random, "[[\"\"]]", "[[1,2]]", "[" + string.Join(",", Enumerable.Repeat("[\"a\"]", 21)) + "]", "\"flat\"", "[null]", "[[\"" + new string('c', 201) + "\"]]")),
            },
            _ => Pick(random, Junk),
        };
        var request = new HttpRequestMessage(HttpMethod.Put, "/api/items") { Content = Json(body) };
        request.Headers.Add("X-Api-Key", keyed ? HostFixture.CatalogKey : Pick(random, "nope", "x", HostFixture.CatalogKey + "x"));
        return request;
    }

    private static HttpRequestMessage BadRecommendation(Random random)
    {
        var user = Uri.EscapeDataString(random.Next(3) == 0 ? BadId(random) is { Length: > 0 } id && !id.Contains('/', StringComparison.Ordinal) ? id : new string('u', 200) : "fuzz-user");
        var count = user == "fuzz-user" ? Pick(random, "0", "-5", "101", "5000", "abc", "1.5", "99999999999") : "3";
        return new HttpRequestMessage(HttpMethod.Get, $"/api/users/{user}/recommendations?count={count}");
    }

    private static HttpRequestMessage BadSearch(Random random) => new(HttpMethod.Get, random.Next(3) switch
    {
        0 => "/api/search",
        1 => $"/api/search?q={Uri.EscapeDataString(new string('q', 600 + random.Next(2000)))}",
        _ => $"/api/search?q=serum&count={Pick(random, "0", "101", "-1", "x")}",
    });

    /// <summary>Unknown items, malformed ID prefixes, unknown routes and methods.</summary>
    private static HttpRequestMessage BadLookup(Random random) => random.Next(5) switch
    {
        0 => new(HttpMethod.Get, $"/api/items/no-such-{random.Next()}"),
        1 => new(HttpMethod.Get, $"/api/ids/{Pick(random, "x", "1.5", "99999999999999999999", "-")}/{random.Next(10)}"),
        2 => new(HttpMethod.Get, $"/api/{Garbage(random, 1 + random.Next(10)).Replace("/", "", StringComparison.Ordinal)}"),
        3 => new(HttpMethod.Delete, "/api/events"),
        _ => new(HttpMethod.Patch, "/api/items"),
    };

    private static HttpRequestMessage BadAdmin(Random random)
    {
        var request = new HttpRequestMessage(random.Next(2) == 0 ? HttpMethod.Post : HttpMethod.Get,
            Pick(random, "/api/admin/rollback", "/api/admin/versions", "/api/admin/backfills", "/api/admin/versions/v1/activate", "/api/admin/backfills/x/cancel"));
        if (random.Next(2) == 0)
            request.Headers.Add("X-Api-Key", Pick(random, "", "guess", HostFixture.CatalogKey, Garbage(random, 8).Replace("\r", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal).Trim() is { Length: > 0 } g && g.All(c => c is > ' ' and < (char)127) ? g : "z"));
        return request;
    }

    /// <summary>Bodies that are not JSON at all, or JSON sent as something else.</summary>
    private static HttpRequestMessage WrongShape(Random random)
    {
        var request = new HttpRequestMessage(random.Next(2) == 0 ? HttpMethod.Post : HttpMethod.Put, random.Next(2) == 0 ? "/api/events" : "/api/items");
        request.Content = random.Next(2) == 0
            ? new StringContent("userId=u1&itemId=P1", Encoding.UTF8, Pick(random, "text/plain", "application/x-www-form-urlencoded", "text/xml"))
            : new ByteArrayContent([.. Enumerable.Range(0, random.Next(1, 64)).Select(_ => (byte)random.Next(256))]) { Headers = { { "Content-Type", "application/json" } } };
        request.Headers.Add("X-Api-Key", HostFixture.CatalogKey);
        return request;
    }

    private static string JsonString(string value) => System.Text.Json.JsonSerializer.Serialize(value);

    /// <summary>The object with <paramref name="field"/> replaced by a raw JSON value, or removed (null).</summary>
    private static string Object(Dictionary<string, string> fields, string field, string? raw)
    {
        var copy = new Dictionary<string, string>(fields);
        if (raw is null)
            copy.Remove(field);
        else
            copy[field] = raw;
        return "{" + string.Join(",", copy.Select(kv => $"\"{kv.Key}\":{kv.Value}")) + "}";
    }
}
