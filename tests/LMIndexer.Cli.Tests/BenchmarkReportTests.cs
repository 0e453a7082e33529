using System.Diagnostics;
using LMIndexer.Bench.Reporting;

namespace LMIndexer.Cli.Tests;

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
}
