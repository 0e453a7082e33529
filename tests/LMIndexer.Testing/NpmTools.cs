using System.Diagnostics;

namespace LMIndexer.Testing;

/// <summary>Test tools from npm, installed under <c>.tools/</c> by their <c>.ci/install-*</c> script (CI runs them; a developer's first test run does).</summary>
public static class NpmTools
{
    /// <summary>The tool's executable (relative to the repository root), installed first when it is missing.</summary>
    public static string Ensure(string executable, string installScript)
    {
        var root = TestEnvironment.RepositoryRoot();
        var path = Path.Combine(root, executable);
        if (File.Exists(path))
            return path;
        var script = Path.Combine(root, installScript);
        using var install = Process.Start(new ProcessStartInfo("bash", [script]) { UseShellExecute = false })
            ?? throw new InvalidOperationException($"bash is needed to run {script}.");
        if (!install.WaitForExit(TimeSpan.FromMinutes(3)) || install.ExitCode != 0 || !File.Exists(path))
            throw new InvalidOperationException($"Install {executable} with 'bash {script}' (npm needed).");
        return path;
    }
}
