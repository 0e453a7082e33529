using LMIndexer.Testing;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace LMIndexer.Cli.Tests;

/// <summary>The built <c>lmindexer</c>, run as a child process as a user would.</summary>
internal static class CliProcess
{
    public const string Tool = "lmindexer";

    public static ToolProcess.Result Run(string workingDirectory, TimeSpan timeout, params string[] args) => ToolProcess.Run(Tool, workingDirectory, timeout, args);

    public static ToolProcess.Result Run(string tool, string workingDirectory, TimeSpan timeout, params string[] args) => ToolProcess.Run(tool, workingDirectory, timeout, args);
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
