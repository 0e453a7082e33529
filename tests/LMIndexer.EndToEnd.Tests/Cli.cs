using System.Diagnostics;

namespace LMIndexer.EndToEnd.Tests;

/// <summary>Runs the built <c>lmindexer</c> against the test host, as an operator would.</summary>
internal static class Cli
{
    public static Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args) => RunToolAsync("lmindexer", args);

    private static async Task<(int ExitCode, string Output, string Error)> RunToolAsync(string tool, string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, tool + ".dll"));
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        info.Environment["COLUMNS"] = "200";   // tables on one line each
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} {string.Join(' ', args)} ran past 90 s.");
        }
        return (process.ExitCode, await output, await error);
    }
}
