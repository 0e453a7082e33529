namespace LMIndexer.Cli.Tests;

public sealed class CommandLineTests
{
    private static readonly TimeSpan Quick = TimeSpan.FromMinutes(1);

    [Theory]
    [InlineData("data stats /nonexistent/catalog", "does not exist")]
    [InlineData("data synth --out {tmp}/c --items 5", "At least 10 items")]
    [InlineData("model info {tmp}", "not a model bundle")]
    [InlineData("index eval {tmp}", "no ids.tsv")]
    [InlineData("index train --items {tmp}/missing.jsonl --out {tmp}/x", "does not exist")]
    [InlineData("index train --items {tmp}/missing.jsonl --out {tmp}/x --method bogus", "Unknown method 'bogus'")]
    [InlineData("model pretrain --catalog {tmp} --out {tmp}/b --steps 0", "--steps must be positive")]
    public void Bad_input_gives_one_line_and_exit_code_2(string commandLine, string expected)
    {
        using var temp = new TempDirectory();
        var args = commandLine.Replace("{tmp}", temp.Path, StringComparison.Ordinal).Split(' ');
        var result = CliProcess.Run(temp.Path, Quick, args);
        Assert.Equal(2, result.ExitCode);
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("lmindexer: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_command_lines_exit_non_zero_with_a_message()
    {
        using var temp = new TempDirectory();
        var result = CliProcess.Run(temp.Path, Quick, "data", "synth");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--out", result.Error + result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Synth_then_stats_describe_the_written_catalog()
    {
        using var temp = new TempDirectory();
        var synth = CliProcess.Run(temp.Path, Quick, "data", "synth", "--out", "cat", "--items", "120", "--users", "30");
        Assert.Equal(0, synth.ExitCode);
        Assert.True(File.Exists(Path.Combine(temp.Path, "cat", "items.jsonl")));
        var stats = CliProcess.Run(temp.Path, Quick, "data", "stats", "cat");
        Assert.Equal(0, stats.ExitCode);
        Assert.Matches(@"items\s+│\s+120", stats.Output);
        Assert.Matches(@"users\s+│\s+30", stats.Output);
    }

    [Fact]
    public void Miniature_demo_runs_end_to_end_and_reuses_its_artefacts()
    {
        using var temp = new TempDirectory();
        var first = CliProcess.Run(temp.Path, TimeSpan.FromMinutes(5), "demo", "--work", "demo", "--items", "120", "--users", "40", "--steps", "20", "--threads", "2");
        Assert.True(first.ExitCode == 0, $"demo failed ({first.ExitCode}): {first.Error}");
        Assert.Contains("Learn semantic IDs", first.Output, StringComparison.Ordinal);
        Assert.Contains("first code c1", first.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(temp.Path, "demo", "indexer", "ids.tsv")));
        Assert.Equal(120, File.ReadAllLines(Path.Combine(temp.Path, "demo", "indexer", "ids.tsv")).Length);

        var second = CliProcess.Run(temp.Path, TimeSpan.FromMinutes(2), "demo", "--work", "demo", "--items", "120", "--users", "40", "--steps", "20", "--threads", "2");
        Assert.Equal(0, second.ExitCode);
        Assert.Equal(3, second.Output.Split("reusing").Length - 1);
    }
}
