using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using LMIndexer.Testing;

namespace LMIndexer.EndToEnd.Tests;

/// <summary>
/// A retrained version through the admin API and the <c>lmindexer backfill</c> CLI against the real
/// host. Its own host: these tests switch the served version.
/// </summary>
public sealed class BackfillApiTests(HostFixture host) : IClassFixture<HostFixture>
{
    [Fact]
    public async Task A_new_version_is_backfilled_switched_to_and_rolled_back_through_the_admin_api()
    {
        using (var missing = await AdminAsync(HttpMethod.Post, "/api/admin/backfills", """{"bundlePath":"/nowhere"}"""))
            Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        using (var badJob = await AdminAsync(HttpMethod.Post, "/api/admin/backfills", $$"""{"bundlePath":{{JsonSerializer.Serialize(TestServingBundle.Version2Directory)}},"jobId":"no spaces"}"""))
            Assert.Equal(HttpStatusCode.BadRequest, badJob.StatusCode);
        using (var unknown = await AdminAsync(HttpMethod.Get, "/api/admin/backfills/nope"))
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using (var anonymous = await host.Http.PostAsync("/api/admin/backfills", new StringContent("{}", Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        var item = TestServingBundle.Catalog.Items[3].ItemId;
        using (var posted = await host.Http.PostAsync("/api/events", new StringContent($$"""{"userId":"switch-user","itemId":"{{item}}"}""", Encoding.UTF8, "application/json")))
            posted.EnsureSuccessStatusCode();
        var before = await RecommendAsync();
        Assert.Equal("v1", before.GetProperty("version").GetString());

        using (var started = await AdminAsync(HttpMethod.Post, "/api/admin/backfills", $$"""{"bundlePath":{{JsonSerializer.Serialize(TestServingBundle.Version2Directory)}}}"""))
        {
            Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
            Assert.Equal("/api/admin/backfills/backfill-v2", started.Headers.Location?.ToString());
        }
        var progress = await WaitAsync("/api/admin/backfills/backfill-v2");
        Assert.Equal("completed", progress.GetProperty("status").GetString());
        Assert.Equal(progress.GetProperty("total").GetInt32(), progress.GetProperty("done").GetInt32());

        using (var drift = await AdminAsync(HttpMethod.Get, "/api/admin/versions/v2/drift"))
        {
            drift.EnsureSuccessStatusCode();
            var report = await drift.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(TestServingBundle.Records.Count, report.GetProperty("commonItems").GetInt32());
            Assert.Equal(0, report.GetProperty("keptFullId").GetDouble());   // every item took its neighbour's ID
        }
        using (var activated = await AdminAsync(HttpMethod.Post, "/api/admin/versions/v2/activate"))
        {
            activated.EnsureSuccessStatusCode();
            Assert.Equal("v2", (await activated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("active").GetString());
        }
        Assert.Equal("v2", (await RecommendAsync()).GetProperty("version").GetString());

        using (var rolledBack = await AdminAsync(HttpMethod.Post, "/api/admin/rollback"))
            rolledBack.EnsureSuccessStatusCode();
        var after = await RecommendAsync();
        Assert.Equal("v1", after.GetProperty("version").GetString());
        Assert.Equal(Items(before), Items(after));
    }

    [Fact]
    public async Task The_backfill_cli_drives_a_running_cluster()
    {
        var bundle = TestServingBundle.MovedVersion("c3", 3);
        var gateway = $"127.0.0.1:{host.GatewayPort}";
        var start = await CliAsync("backfill", "start", bundle, "--gateway", gateway);
        Assert.True(start.ExitCode == 0, start.Error + start.Output);
        Assert.Contains("backfill-c3: completed, version c3", start.Output, StringComparison.Ordinal);

        var status = await CliAsync("backfill", "status", "backfill-c3", "--gateway", gateway);
        Assert.Equal(0, status.ExitCode);
        Assert.Contains("completed", status.Output, StringComparison.Ordinal);
        var versions = await CliAsync("backfill", "versions", "--gateway", gateway);
        Assert.Contains("c3", versions.Output, StringComparison.Ordinal);

        var activate = await CliAsync("backfill", "activate", "c3", "--gateway", gateway);
        Assert.True(activate.ExitCode == 0, activate.Error);
        Assert.Contains("active: c3", activate.Output, StringComparison.Ordinal);
        var rollback = await CliAsync("backfill", "rollback", "--gateway", gateway);
        Assert.Equal(0, rollback.ExitCode);

        var unknown = await CliAsync("backfill", "status", "no-such-job", "--gateway", gateway);
        Assert.Equal((2, "lmindexer: there is no backfill job 'no-such-job'."), (unknown.ExitCode, unknown.Error.Trim()));
        var notReady = await CliAsync("backfill", "activate", "nope", "--gateway", gateway);
        Assert.Equal(2, notReady.ExitCode);
        Assert.Contains("is not registered", notReady.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Backfilling_the_version_being_served_is_a_409_conflict_across_the_grain_boundary()
    {
        // The refusal is thrown inside the backfill grain: the conflict type must survive Orleans' serialisation.
        using var served = await AdminAsync(HttpMethod.Post, "/api/admin/backfills", $$"""{"bundlePath":{{JsonSerializer.Serialize(TestServingBundle.Directory)}},"jobId":"again-v1"}""");
        Assert.Equal(HttpStatusCode.Conflict, served.StatusCode);
        var problem = await served.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("is being served", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private static string Items(JsonElement result) =>
        string.Join(',', result.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("itemId").GetString()));

    private async Task<JsonElement> RecommendAsync() =>
        await host.Http.GetFromJsonAsync<JsonElement>("/api/users/switch-user/recommendations?count=5");

    private async Task<JsonElement> WaitAsync(string path)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var response = await AdminAsync(HttpMethod.Get, path);
            response.EnsureSuccessStatusCode();
            var progress = await response.Content.ReadFromJsonAsync<JsonElement>();
            if (progress.GetProperty("status").GetString() != "running")
                return progress;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "the backfill did not finish in a minute");
            await Task.Delay(100);
        }
    }

    private async Task<HttpResponseMessage> AdminAsync(HttpMethod method, string path, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Add("X-Api-Key", HostFixture.ApiKey);
        if (body is not null)
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        return await host.Http.SendAsync(request);
    }

    // The host runs in this process: the tool is waited for off the test's thread.
    private static async Task<(int ExitCode, string Output, string Error)> CliAsync(params string[] args)
    {
        var result = await Task.Run(() => ToolProcess.Run("lmindexer", Path.GetTempPath(), TimeSpan.FromSeconds(90), args));
        return (result.ExitCode, result.Output, result.Error);
    }
}
