using System.CommandLine;
using System.Text.RegularExpressions;

namespace LMIndexer.Bench.Reporting;

/// <summary>The command line a result records, quoted so that pasting it into a shell runs the same command.</summary>
public static partial class RecordedCommand
{
    public static string Of(ParseResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return string.Join(' ', ["lmindexer-bench", .. result.Tokens.Select(t => Quote(t.Value))]);
    }

    /// <summary>A token as a POSIX shell reads it back: bare when it has no character the shell treats specially, else in single quotes.</summary>
    public static string Quote(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return token.Length > 0 && Plain().IsMatch(token) ? token : "'" + token.Replace("'", @"'\''", StringComparison.Ordinal) + "'";
    }

    [GeneratedRegex(@"^[A-Za-z0-9_./:=,@%+\-]+$")]
    private static partial Regex Plain();
}
