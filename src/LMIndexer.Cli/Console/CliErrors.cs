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
