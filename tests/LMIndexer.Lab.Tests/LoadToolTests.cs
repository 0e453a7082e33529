using LMIndexer.EndToEnd.Tests;

namespace LMIndexer.Lab.Tests;

/// <summary><c>lmindexer-bench load</c> against the real host: bounded, loopback only.</summary>
[Collection(nameof(HostCollection))]
public sealed class LoadToolTests(HostFixture host)
{
    [Fact]
    public async Task The_load_tool_mixes_events_and_recommendations_and_reports_percentiles()
    {
        var (exitCode, output, error) = await BenchProcess.RunAsync(TimeSpan.FromSeconds(90), "load", "--target", host.BaseAddress.ToString(), "--rate", "40", "--seconds", "2", "--users", "20");
        Assert.True(exitCode == 0, error + output);
        foreach (var expected in new[] { "recommend", "event", "all", "p99 ms" })
            Assert.Contains(expected, output, StringComparison.Ordinal);
        Assert.Matches(@"all\s*│\s*80\s*│\s*80\s*│\s*0\s*│", output);   // 40/s × 2 s, all answered
    }

    [Theory]
    [InlineData("http://10.1.2.3:5080", "loopback")]
    [InlineData("http://example.com", "loopback")]
    [InlineData("not a url", "is not an http(s) address")]
    public async Task The_load_tool_refuses_targets_off_this_machine(string target, string message)
    {
        var (exitCode, _, error) = await BenchProcess.RunAsync(TimeSpan.FromSeconds(90), "load", "--target", target, "--seconds", "1");
        Assert.Equal(2, exitCode);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }
}
