using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace LMIndexer.Bench.Load;

/// <summary>One request of a load run: its kind, when it left, how long it took, its status and (recommendations) the version that answered.</summary>
public sealed record LoadSample(string Kind, TimeSpan Sent, double Milliseconds, int Status, string? Version)
{
    public bool Ok => Status is >= 200 and < 300;
}

/// <summary>
/// Open-loop HTTP load on a loopback host: requests leave on schedule at a fixed rate whatever the
/// latency, until cancelled or a bound on requests or time is reached.
/// </summary>
public sealed class RecommendationLoad
{
    public const string Recommend = "recommend";
    public const string Event = "event";

    private readonly ConcurrentQueue<LoadSample> samples = new();

    public IReadOnlyCollection<LoadSample> Samples => samples;

    /// <summary>Refuses any target that is not a loopback address: load tools must never leave the machine.</summary>
    public static Uri RequireLoopback(string address)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"'{address}' is not an http(s) address.");
        if (!IsLoopbackHost(uri.Host))
            throw new ArgumentException($"Load only targets loopback addresses (127.0.0.1, ::1, localhost), not '{uri.Host}'.");
        return uri;
    }

    /// <summary>Whether a host name or address stays on this machine (localhost, 127.0.0.0/8, ::1).</summary>
    public static bool IsLoopbackHost(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>Recommendation requests only, for the users <paramref name="nextUser"/> names.</summary>
    public Task RunAsync(HttpClient http, Func<string> nextUser, int rate, int maxRequests, TimeSpan maxDuration, CancellationToken cancellation) =>
        RunAsync(http, _ => RecommendationRequest(nextUser()), rate, maxRequests, maxDuration, cancellation);

    /// <summary>Any mix of requests: <paramref name="next"/> makes the i-th.</summary>
    public Task RunAsync(HttpClient http, Func<int, (string Kind, HttpRequestMessage Request)> next, int rate, int maxRequests, TimeSpan maxDuration, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(next);
        return OpenLoop.RunAsync(rate, maxRequests, maxDuration, (i, clock) =>
        {
            var (kind, request) = next(i);
            return SendAsync(http, kind, request, clock);
        }, cancellation);   // requests already sent finish (bounded by the client's timeout)
    }

    public static (string Kind, HttpRequestMessage Request) RecommendationRequest(string user, int count = 10) =>
        (Recommend, new HttpRequestMessage(HttpMethod.Get, $"/api/users/{Uri.EscapeDataString(user)}/recommendations?count={count}"));

    public const string Search = "search";

    public static (string Kind, HttpRequestMessage Request) SearchRequest(string query, int count = 10) =>
        (Search, new HttpRequestMessage(HttpMethod.Get, $"/api/search?q={Uri.EscapeDataString(query)}&count={count}"));

    public static (string Kind, HttpRequestMessage Request) EventRequest(string user, string item, string eventId) =>
        (Event, new HttpRequestMessage(HttpMethod.Post, "/api/events")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { userId = user, itemId = item, eventId, type = "view" }), System.Text.Encoding.UTF8, "application/json"),
        });

    private async Task SendAsync(HttpClient http, string kind, HttpRequestMessage request, Stopwatch clock)
    {
        var sent = clock.Elapsed;
        var status = 0;
        string? version = null;
        try
        {
            using (request)
            using (var response = await http.SendAsync(request))
            {
                status = (int)response.StatusCode;
                if (response.IsSuccessStatusCode && kind == Recommend)
                {
                    using var body = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync());
                    version = body.RootElement.TryGetProperty("version", out var v) ? v.GetString() : null;
                }
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            // status 0: no (usable) answer
        }
        samples.Enqueue(new LoadSample(kind, sent, (clock.Elapsed - sent).TotalMilliseconds, status, version));
    }

    /// <summary>The q-quantile (0 … 1) of latencies, ms; NaN when there are none.</summary>
    public static double Percentile(IEnumerable<LoadSample> samples, double q) => Percentile(samples.Select(s => s.Milliseconds), q);

    /// <summary>The q-quantile (0 … 1) of <paramref name="values"/> (nearest rank); NaN when there are none.</summary>
    public static double Percentile(IEnumerable<double> values, double q)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}
