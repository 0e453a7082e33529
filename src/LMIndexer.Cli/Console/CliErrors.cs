using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using LMIndexer.Abstractions;

namespace LMIndexer.Cli.Console;

/// <summary>A user-facing failure: printed as one line, exit code 2.</summary>
public sealed class CliUsageException(string message) : Exception(message);

/// <summary>Turns exceptions from commands into one line on stderr and an exit code.</summary>
public static class CliErrors
{
    public const int UserError = 2;
    public const int Interrupted = 130;

    // The lab's tool runs these commands too; each names itself in its messages.
    private static readonly string Tool = System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name ?? "lmindexer";

    /// <summary>
    /// Parses and runs a command line. One that does not parse (an unknown command or option, a
    /// missing option, a value outside its choices) is bad input like any other: one line and exit
    /// code 2, not System.CommandLine's help page and exit code 1. Help and version requests run as usual.
    /// </summary>
    public static Task<int> InvokeAsync(RootCommand root, string[] args, InvocationConfiguration? invocation = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (args.Length == 0)   // a bare tool name asks what it can do: its help, still a usage error for scripts
            return root.Parse(["--help"]).InvokeAsync(invocation).ContinueWith(_ => UserError, TaskScheduler.Default);
        var parsed = root.Parse(args);
        if (parsed.Action is not ParseErrorAction)
            return parsed.InvokeAsync(invocation);
        var path = new List<string>();
        for (var command = parsed.CommandResult; command.Parent is CommandResult parent; command = parent)
            path.Insert(0, command.Command.Name);
        var messages = string.Join(' ', parsed.Errors.Select(e => string.Join(' ', e.Message.Split((char[])['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))));
        System.Console.Error.WriteLine($"{Tool}: {messages} (see '{string.Join(' ', [Tool, .. path, "--help"])}')");
        return Task.FromResult(UserError);
    }

    public static int Run(Func<int> action) => RunAsync(() => Task.FromResult(action())).GetAwaiter().GetResult();

    public static async Task<int> RunAsync(Func<Task<int>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            System.Console.Error.WriteLine($"{Tool}: interrupted");
            return Interrupted;
        }
        catch (Exception e) when (IsUserError(e))
        {
            System.Console.Error.WriteLine($"{Tool}: {e.UserMessage().Split('\n', 2)[0].Trim()}");
            return UserError;
        }
    }

    // Bad files, flags and states are the user's to fix; anything else is a bug and keeps its trace.
    private static bool IsUserError(Exception e) =>
        e is CliUsageException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException
            or ArgumentException or KeyNotFoundException or NotSupportedException or InvalidOperationException or IOException or UnauthorizedAccessException;
}
