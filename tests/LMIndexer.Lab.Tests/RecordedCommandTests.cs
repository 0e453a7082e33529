using System.CommandLine;
using System.Diagnostics;
using LMIndexer.Bench.Reporting;

namespace LMIndexer.Lab.Tests;

/// <summary>A recorded command is one a reviewer can paste into a shell and get the same arguments.</summary>
public sealed class RecordedCommandTests
{
    [Fact]
    public void Tokens_with_spaces_quotes_or_shell_characters_come_back_whole_through_bash()
    {
        string[] tokens = ["rec", "bench", "--sasrec-grid", "hidden=64,128 dropout=0.2,0.5", "--name", "it's", "$HOME", "*", "a;b", "", "--data", "../shared/data/amazon-beauty"];

        var line = string.Join(' ', tokens.Select(RecordedCommand.Quote));

        Assert.Equal(tokens, ShellWords(line));
        Assert.Equal("--data ../shared/data/amazon-beauty", string.Join(' ', tokens[^2..].Select(RecordedCommand.Quote)));   // plain tokens stay bare
    }

    [Fact]
    public void The_recorded_line_is_the_tool_and_every_parsed_token()
    {
        var grid = new Option<string>("--grid");
        var root = new RootCommand { new Command("bench") { grid } };

        var recorded = RecordedCommand.Of(root.Parse(["bench", "--grid", "hidden=128 dropout=0.5"]));

        Assert.Equal("lmindexer-bench bench --grid 'hidden=128 dropout=0.5'", recorded);
    }

    // The words bash makes of a line, one per output line.
    private static string[] ShellWords(string line)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("for w in " + line + "; do printf '%s\\n' \"$w\"; done");
        info.ArgumentList.Add("words");
        using var bash = Process.Start(info)!;
        var output = bash.StandardOutput.ReadToEnd();
        bash.WaitForExit();
        return output.Split('\n')[..^1];
    }
}
