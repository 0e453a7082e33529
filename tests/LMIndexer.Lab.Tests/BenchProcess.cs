using System.Runtime.CompilerServices;
using LMIndexer.Core.Runtime;
using LMIndexer.Testing;

namespace LMIndexer.Lab.Tests;

internal static class LabTestRuntime
{
    // Every test process prepares libtorch the way the tools do, before any tensor exists.
    [ModuleInitializer]
    internal static void Initialize() => TorchRuntime.Initialize(new TorchRuntimeOptions { Threads = 1 });
}

/// <summary>The lab's tool (and the product's, for catalogs) as a researcher runs them.</summary>
internal static class BenchProcess
{
    public const string Tool = "lmindexer-bench";

    public static ToolProcess.Result Run(string workingDirectory, TimeSpan timeout, params string[] args) => ToolProcess.Run(Tool, workingDirectory, timeout, args);

    public static ToolProcess.Result RunProduct(string workingDirectory, TimeSpan timeout, params string[] args) => ToolProcess.Run("lmindexer", workingDirectory, timeout, args);

    public static Task<ToolProcess.Result> RunAsync(TimeSpan timeout, params string[] args) => Task.Run(() => Run(Path.GetTempPath(), timeout, args));

    /// <summary>
    /// The rec bench's smallest real inputs in <paramref name="workingDirectory"/>: an 80-item, 120-user
    /// synthetic catalog in <c>cat/</c> and k-means-tree IDs on the scratch T5 (5 pretraining steps, K = 8)
    /// in <paramref name="indexOut"/>.
    /// </summary>
    public static void SynthesizeAndIndex(string workingDirectory, string indexOut)
    {
        Assert.Equal(0, RunProduct(workingDirectory, TimeSpan.FromMinutes(1), "data", "synth", "--out", "cat", "--items", "80", "--users", "120").ExitCode);
        var index = Run(workingDirectory, TimeSpan.FromMinutes(3), "index", "train", "--items", "cat/items.jsonl", "--out", indexOut, "--method", "kmeans-tree",
            "--size", "tiny", "--pretrain-steps", "5", "--codebook-size", "8", "--threads", "1");
        Assert.True(index.ExitCode == 0, index.Error);
    }
}
