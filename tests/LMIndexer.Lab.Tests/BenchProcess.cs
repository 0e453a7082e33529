using System.Diagnostics;
using System.Runtime.CompilerServices;
using LMIndexer.Core.Runtime;

namespace LMIndexer.Lab.Tests;

internal static class LabTestRuntime
{
    // Every test process prepares libtorch the way the tools do, before any tensor exists.
    [ModuleInitializer]
    internal static void Initialize() => TorchRuntime.Initialize(new TorchRuntimeOptions { Threads = 2 });
}

/// <summary>Runs the built <c>lmindexer-bench</c> (or the product's <c>lmindexer</c>) as a child process, as a researcher would.</summary>
internal static class BenchProcess
{
    public const string Tool = "lmindexer-bench";
    public const string ProductTool = "lmindexer";

    public sealed record Result(int ExitCode, string Output, string Error);

    public static Result Run(string workingDirectory, TimeSpan timeout, params string[] args) => RunTool(Tool, workingDirectory, timeout, args);

    public static Result RunProduct(string workingDirectory, TimeSpan timeout, params string[] args) => RunTool(ProductTool, workingDirectory, timeout, args);

    public static async Task<Result> RunAsync(TimeSpan timeout, params string[] args) => await Task.Run(() => RunTool(Tool, Path.GetTempPath(), timeout, args));

    private static Result RunTool(string tool, string workingDirectory, TimeSpan timeout, string[] args)
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

/// <summary>A temporary directory removed after the test.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lmindexer-lab-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(Path))
            Directory.Delete(Path, recursive: true);
    }
}
