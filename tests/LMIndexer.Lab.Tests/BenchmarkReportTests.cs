using System.Diagnostics;
using LMIndexer.Bench.Reporting;

namespace LMIndexer.Lab.Tests;

public sealed class BenchmarkReportTests
{
    [Fact]
    public void The_git_field_names_the_commit_the_code_was_built_from()
    {
        using var git = Process.Start(new ProcessStartInfo("git", "rev-parse HEAD") { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var head = git.StandardOutput.ReadToEnd().Trim();
        git.WaitForExit();
        var revision = BenchmarkReport.GitRevision();
        Assert.Matches("^[0-9a-f]{7}$", revision);
        Assert.StartsWith(revision, head, StringComparison.Ordinal);   // the tests are built from this checkout's HEAD
    }

    [Fact]
    public void A_section_is_replaced_in_place_and_a_new_one_appended()
    {
        var path = Path.Combine(Path.GetTempPath(), $"bench-{Guid.NewGuid():N}.md");
        try
        {
            BenchmarkReport.ReplaceSection(path, "a", "## a\n\nfirst\n");
            BenchmarkReport.ReplaceSection(path, "b", "## b\n\nsecond\n");
            BenchmarkReport.ReplaceSection(path, "a", "## a\n\nrewritten\n");
            var text = File.ReadAllText(path);
            Assert.Contains("## a\n\nrewritten\n\n## b\n\nsecond\n", text, StringComparison.Ordinal);
            Assert.DoesNotContain("first", text, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_protocol_run_is_recorded_in_the_shared_format_with_seeds_sd_and_paired_intervals()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"bench-{Guid.NewGuid():N}");
        try
        {
            var protocol = new LMIndexer.Research.Protocol.ValidationProtocol<string, int>(0, [1, 2, 3], "ndcg@10", c => c);
            protocol.Choose(["hybrid", "dense"], c => c == "dense" ? 0.06 : 0.05);
            protocol.DecodeTest((_, _) => 0);
            BenchmarkRow[] rows =
            [
                BenchmarkRow.OverSeeds("lmindexer", "ndcg@10", LMIndexer.Research.Protocol.SeedSummary.Of([0.040, 0.044, 0.048])),
                BenchmarkRow.Difference("lmindexer", "sasrec", "ndcg@10", new LMIndexer.Research.Protocol.PairedInterval(0.0049, 0.0021, 0.0077, 1000, 0.95)),
            ];
            BenchmarkReport.Write(directory, "rec-test", "lmindexer-bench rec bench", 12, rows, "d", "| t |", "i", protocol.Record());
            using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "results", "rec-test.json")));
            var root = json.RootElement;
            var block = root.GetProperty("protocol");
            Assert.Equal(("validation", 1, "dense"), (block.GetProperty("selected_on").GetString(), block.GetProperty("test_decodes").GetInt32(), block.GetProperty("choice").GetString()));
            Assert.Equal([1, 2, 3], block.GetProperty("seeds").EnumerateArray().Select(s => s.GetInt32()));
            Assert.Equal(0.05, block.GetProperty("validation").GetProperty("hybrid").GetDouble());
            var seeds = root.GetProperty("rows")[0];
            Assert.Equal((0.044, 0.004, 3), (seeds.GetProperty("value").GetDouble(), seeds.GetProperty("sd").GetDouble(), seeds.GetProperty("n").GetInt32()));
            var difference = root.GetProperty("rows")[1];
            Assert.Equal(("lmindexer-minus-sasrec", 0.0021, 0.0077), (difference.GetProperty("system").GetString(), difference.GetProperty("ci_low").GetDouble(), difference.GetProperty("ci_high").GetDouble()));
            Assert.False(difference.TryGetProperty("sd", out _));
            Assert.Contains("## rec-test", File.ReadAllText(Path.Combine(directory, "experiments.md")), StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
    }
}
