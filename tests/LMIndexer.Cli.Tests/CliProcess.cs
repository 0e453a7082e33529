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
