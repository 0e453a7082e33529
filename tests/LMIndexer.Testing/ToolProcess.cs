using System.Diagnostics;

namespace LMIndexer.Testing;

/// <summary>Runs a built tool (<c>lmindexer</c>, <c>lmindexer-bench</c>) beside the tests as a child process, as its users do.</summary>
public static class ToolProcess
{
    public sealed record Result(int ExitCode, string Output, string Error);

    /// <exception cref="TimeoutException">The tool ran past <paramref name="timeout"/>; it is killed.</exception>
    public static Result Run(string tool, string workingDirectory, TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, tool + ".dll"));
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        info.Environment["OMP_NUM_THREADS"] = "2";
        info.Environment["COLUMNS"] = "200";   // tables on one line each
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
