using System.Runtime.CompilerServices;
using LMIndexer.Core.Runtime;
using LMIndexer.Testing;

namespace LMIndexer.Lab.Tests;

internal static class LabTestRuntime
{
    // Every test process prepares libtorch the way the tools do, before any tensor exists.
    [ModuleInitializer]
    internal static void Initialize() => TorchRuntime.Initialize(new TorchRuntimeOptions { Threads = 2 });
}

/// <summary>The lab's tool (and the product's, for catalogs) as a researcher runs them.</summary>
internal static class BenchProcess
{
    public const string Tool = "lmindexer-bench";

    public static ToolProcess.Result Run(string workingDirectory, TimeSpan timeout, params string[] args) => ToolProcess.Run(Tool, workingDirectory, timeout, args);

    public static ToolProcess.Result RunProduct(string workingDirectory, TimeSpan timeout, params string[] args) => ToolProcess.Run("lmindexer", workingDirectory, timeout, args);

    public static Task<ToolProcess.Result> RunAsync(TimeSpan timeout, params string[] args) => Task.Run(() => Run(Path.GetTempPath(), timeout, args));
}
