using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using LMIndexer.Testing;
using Xunit.Abstractions;

namespace LMIndexer.Cli.Tests;

/// <summary>
/// Two <c>lmindexer serve</c> processes in one cluster (MongoDB membership and storage on the
/// wire-protocol test server, loopback only), one killed with SIGKILL or frozen with SIGSTOP under
/// events and recommendations: what a crashed or hung machine does to the survivor's clients.
/// </summary>
public sealed class CrossProcessFailoverTests(ITestOutputHelper output)
{
    private static readonly TimeSpan BeforeKill = TimeSpan.FromSeconds(3), AfterKill = TimeSpan.FromSeconds(10);

    /// <summary>One client request: when it was sent, what it was, and how it ended.</summary>
    private sealed record Call(DateTime At, bool Recommendation, bool Ok, bool Degraded, bool Rerouted, string? Error)
    {
        public DateTime Ended { get; init; } = DateTime.UtcNow;

        /// <summary>Anything a shopper would notice: an error, a popularity answer, a second server, or a wait over a second.</summary>
        public bool Disturbed => !Ok || Degraded || Rerouted || Ended - At > TimeSpan.FromSeconds(1);
    }

    /// <param name="freeze">SIGSTOP instead of SIGKILL: no connection closes, so only failure detection finds the silo gone.</param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_serve_process_killed_or_frozen_under_load_fails_no_request_and_loses_no_acknowledged_event(bool freeze)
    {
        var mongo = new MongoServer();
        await mongo.InitializeAsync();
        try
        {
            using var temp = new TempDirectory();
            var database = MongoServer.NewDatabase();
            Dictionary<string, string> Environment() => new()
            {
                ["Cluster__Clustering"] = "MongoDB",
                ["Cluster__AdvertisedAddress"] = "127.0.0.1",
                ["Cluster__SiloPort"] = TestEnvironment.FreePort().ToString(CultureInfo.InvariantCulture),
                ["Cluster__GatewayPort"] = TestEnvironment.FreePort().ToString(CultureInfo.InvariantCulture),
                ["Storage__Provider"] = "MongoDB",
                ["Storage__MongoDB__ConnectionString"] = mongo.ConnectionString,
                ["Storage__MongoDB__Database"] = database,
                // Probes, votes and death declarations in the output a failure prints.
                ["Logging__LogLevel__Orleans.Runtime.MembershipService"] = "Information",
            };
            using var survivor = ServeProcess.Start(temp.Path, Environment(), out var survivorAddress);
            (await ServeProcess.WaitUntilHealthyAsync(survivor, survivorAddress)).Dispose();
            using var victim = ServeProcess.Start(temp.Path, Environment(), out var victimAddress);
            (await ServeProcess.WaitUntilHealthyAsync(victim, victimAddress)).Dispose();
            // A client gives up after 10 s, a third of Orleans' response timeout. The load balancer in
            // front of the victim gives it 3 s (an upstream timeout) before it sends the request on.
            using var survivorHttp = new HttpClient { BaseAddress = new Uri(survivorAddress), Timeout = TimeSpan.FromSeconds(10) };
            using var victimHttp = new HttpClient { BaseAddress = new Uri(victimAddress), Timeout = TimeSpan.FromSeconds(3) };

            // Half the users come in through the victim's API, so their grains activate there
            // (placement prefers the local silo); after the kill a load balancer sends everyone to
            // the survivor, and a request the victim cut off or left unanswered is sent there again.
            var items = TestServingBundle.Catalog.Items.Select(i => i.ItemId).ToList();
            var calls = new ConcurrentBag<Call>();
            var acknowledged = new ConcurrentDictionary<string, int>();
            var start = DateTime.UtcNow;
            var killAt = start + BeforeKill;
            var end = killAt + AfterKill;
            var killed = 0;

            async Task<Call> SendAsync(bool viaVictim, bool recommendation, Func<HttpClient, Task<HttpResponseMessage>> send)
            {
                var at = DateTime.UtcNow;
                var rerouted = false;
                HttpResponseMessage? response = null;
                try
                {
                    if (viaVictim && Volatile.Read(ref killed) == 0)
                    {
                        try
                        {
                            response = await send(victimHttp);
                        }
                        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && Volatile.Read(ref killed) == 1)
                        {
                            // Cut off (killed) or unanswered (frozen): events carry their ids, so sending one again is safe.
                            rerouted = true;
                        }
                    }
                    response ??= await send(survivorHttp);
                    if (!response.IsSuccessStatusCode)
                        return new Call(at, recommendation, false, false, rerouted, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    var degraded = recommendation && (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("degraded").GetBoolean();
                    return new Call(at, recommendation, true, degraded, rerouted, null);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    return new Call(at, recommendation, false, false, rerouted, e.GetType().Name + ": " + e.Message);
                }
                finally
                {
                    response?.Dispose();
                }
            }

            async Task UserAsync(int u)
            {
                var user = $"failover-user-{u}";
                for (var step = 0; DateTime.UtcNow < end; step++)
                {
                    var body = new { userId = user, itemId = items[((u * 7) + step) % items.Count], type = "view", eventId = $"{user}-{step}" };
                    var sent = await SendAsync(u % 2 == 1, false, http => http.PostAsJsonAsync("/api/events", body));
                    calls.Add(sent);
                    if (sent.Ok)
                        acknowledged.AddOrUpdate(user, 1, (_, n) => n + 1);
                    if (step % 3 == 2)
                        calls.Add(await SendAsync(u % 2 == 1, true, http => http.GetAsync($"/api/users/{user}/recommendations?count=5")));
                    await Task.Delay(250);
                }
            }

            var load = Task.WhenAll(Enumerable.Range(0, 24).Select(UserAsync));
            await Task.Delay(killAt - DateTime.UtcNow);
            Volatile.Write(ref killed, 1);
            if (freeze)
                victim.Freeze();
            else
                victim.Kill();
            var killedAt = DateTime.UtcNow;
            await load;

            var failed = calls.Where(c => !c.Ok).ToList();
            // Recovery: from the kill to the end of the last disturbed request.
            var disturbed = calls.Where(c => c.Disturbed).Select(c => c.Ended).DefaultIfEmpty(killedAt).Max();
            var recovery = Math.Max(0, (disturbed - killedAt).TotalSeconds);
            var after = calls.Where(c => c.At >= killedAt).Select(c => (c.Ended - c.At).TotalMilliseconds).Order().ToList();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{(freeze ? "frozen" : "killed")}: requests {calls.Count} ({after.Count} after the kill, p50 {after[after.Count / 2]:F0} ms, max {after[^1]:F0} ms), failed {failed.Count}, rerouted {calls.Count(c => c.Rerouted)}, degraded {calls.Count(c => c.Degraded)}, disturbed {calls.Count(c => c.Disturbed)}, recovered {recovery:F1} s after the kill"));
            Assert.True(failed.Count == 0, $"{failed.Count} failed requests, e.g. {failed.FirstOrDefault()}\n{survivor.Output}");
            Assert.True(calls.Any(c => c.At >= killedAt + TimeSpan.FromSeconds(2)), "the load went on after the kill");

            // Every acknowledged event is in its user's history, read through the survivor.
            foreach (var (user, count) in acknowledged)
            {
                var history = await survivorHttp.GetFromJsonAsync<List<JsonElement>>($"/api/users/{user}/history");
                Assert.True(history!.Count >= count, $"{user}: {count} events acknowledged, {history.Count} in the history");
            }
            // Far below Orleans' 30 s response timeout: nothing waited out a call to the dead silo.
            Assert.True(recovery <= 15, $"the last disturbed request ended {recovery:F1} s after the kill");
        }
        finally
        {
            await mongo.DisposeAsync();
        }
    }
}
