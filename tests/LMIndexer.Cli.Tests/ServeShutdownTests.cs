using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using LMIndexer.Testing;

namespace LMIndexer.Cli.Tests;

/// <summary><c>lmindexer serve</c> and <c>demo</c> stopped as docker and systemd stop them: SIGTERM, ten seconds, then SIGKILL.</summary>
public sealed class ServeShutdownTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Sigterm_stops_serve_within_ten_seconds_and_every_acknowledged_event_is_there_after_a_restart()
    {
        using var temp = new TempDirectory();
        var environment = new Dictionary<string, string> { ["Storage__LiteDb__ConnectionString"] = $"Filename={Path.Combine(temp.Path, "cluster.db")}" };
        var items = TestServingBundle.Catalog.Items.Take(12).Select(i => i.ItemId).ToList();

        using (var first = ServeProcess.Start(temp.Path, environment, out var address))
        {
            using var http = await ServeProcess.WaitUntilHealthyAsync(first, address);
            for (var i = 0; i < items.Count; i++)
            {
                using var response = await http.PostAsJsonAsync("/api/events", new { userId = "stopped-user", itemId = items[i], type = "view", eventId = $"e{i}" });
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }
            AssertStopsOnSigterm(first);
        }

        using var second = ServeProcess.Start(temp.Path, environment, out var secondAddress);
        using (var http = await ServeProcess.WaitUntilHealthyAsync(second, secondAddress))
        {
            var history = await http.GetFromJsonAsync<List<HistoryRow>>("/api/users/stopped-user/history");
            Assert.Equal(items, history!.Select(h => h.ItemId));
        }
        AssertStopsOnSigterm(second);
    }

    [Fact]
    public async Task Sigterm_stops_a_serving_demo_within_ten_seconds()
    {
        using var temp = new TempDirectory();
        using var demo = ToolProcess.Start(CliProcess.Tool, temp.Path, new Dictionary<string, string>(),
            "demo", "--work", "demo", "--items", "120", "--users", "60", "--steps", "20", "--rec-steps", "20", "--threads", "1", "--port", "0");
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (!demo.Output.Contains("Serving. Press", StringComparison.Ordinal))
        {
            Assert.False(demo.HasExited, $"the demo exited before it served:\n{demo.Output}");
            Assert.True(DateTime.UtcNow < deadline, $"the demo did not serve within five minutes:\n{demo.Output}");
            await Task.Delay(250);
        }
        AssertStopsOnSigterm(demo);
    }

    private sealed record HistoryRow(string ItemId);

    private static void AssertStopsOnSigterm(ToolProcess.Running serve)
    {
        var clock = Stopwatch.StartNew();
        serve.Terminate();
        Assert.True(serve.WaitForExit(Grace), $"serve still ran {Grace.TotalSeconds} s after SIGTERM:\n{serve.Output}");
        Assert.True(serve.ExitCode == 0, $"exit code {serve.ExitCode} after {clock.Elapsed.TotalSeconds:F1} s:\n{serve.Output}");
    }
}
