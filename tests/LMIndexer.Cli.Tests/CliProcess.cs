using System.Diagnostics;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace LMIndexer.Cli.Tests;

/// <summary>Runs the built <c>lmindexer</c> as a child process, as a user would.</summary>
internal static class CliProcess
{
    public const string Tool = "lmindexer";

    public sealed record Result(int ExitCode, string Output, string Error);

    public static Result Run(string workingDirectory, TimeSpan timeout, params string[] args) => Run(Tool, workingDirectory, timeout, args);

    public static Result Run(string tool, string workingDirectory, TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, tool + ".dll"));
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        info.Environment["OMP_NUM_THREADS"] = "2";
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} {string.Join(' ', args)} ran past {timeout}.");
        }
        return new Result(process.ExitCode, output.Result, error.Result);
    }
}

internal sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lmindexer-cli-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(Path))
            Directory.Delete(Path, recursive: true);
    }
}
