using System.Runtime.CompilerServices;
using LMIndexer.Core.Runtime;

// torch has one global random generator: tests that seed it must not interleave.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace LMIndexer.Core.Tests;

internal static class TestRuntime
{
    // Every test process prepares libtorch the way the CLI and silo do, before any tensor exists.
    [ModuleInitializer]
    internal static void Initialize() => TorchRuntime.Initialize(new TorchRuntimeOptions { Threads = 1 });
}

/// <summary>A temporary directory removed after the test.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lmindexer-tests", Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path))
            Directory.Delete(Path, recursive: true);
    }
}
