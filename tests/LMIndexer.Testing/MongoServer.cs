using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit;

namespace LMIndexer.Testing;

/// <summary>
/// The MongoDB server of the tests: <c>MONGODB_URI</c> when set (a real mongod, e.g. from
/// docker-compose), otherwise the npm wire-protocol server jongodb, started on a free loopback port
/// from <c>.tools/jongodb</c> (installed there by <c>.ci/install-jongodb</c>, or here when npm is
/// available). Each test takes a fresh database name. A test project shares one server through an
/// xUnit collection fixture (<c>[CollectionDefinition]</c> must sit in the test assembly itself).
/// </summary>
public sealed class MongoServer : IAsyncLifetime
{
    public const string Package = "@jongodb/memory-server-bin-linux-x64-gnu@0.1.6";
    private Process? process;

    public string ConnectionString { get; private set; } = "";

    public static string NewDatabase() => "t" + Guid.NewGuid().ToString("N")[..12];

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable("MONGODB_URI") is { Length: > 0 } uri)
        {
            ConnectionString = uri;
            return;
        }
        var binary = NpmTools.Ensure(Path.Combine(".tools", "jongodb", "node_modules", "@jongodb", "memory-server-bin-linux-x64-gnu", "bin", "jongodb"), Path.Combine(".ci", "install-jongodb"));
        var port = TestEnvironment.FreePort();
        var info = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("--host=127.0.0.1");
        info.ArgumentList.Add($"--port={port}");
        process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {binary}.");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("JONGODB_URI=", StringComparison.Ordinal))
            {
                ConnectionString = $"mongodb://127.0.0.1:{port}/";
                _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);   // keep draining
                _ = process.StandardError.ReadToEndAsync(CancellationToken.None);
                return;
            }
        }
        throw new InvalidOperationException($"jongodb exited before it was ready: {await process.StandardError.ReadToEndAsync(timeout.Token)}");
    }

    public Task DisposeAsync()
    {
        if (process is { HasExited: false })
            process.Kill(entireProcessTree: true);
        process?.Dispose();
        return Task.CompletedTask;
    }
}
