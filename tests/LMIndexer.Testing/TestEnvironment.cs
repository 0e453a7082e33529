using System.Net;
using System.Net.Sockets;

namespace LMIndexer.Testing;

/// <summary>Where tests find the repository and free loopback ports.</summary>
public static class TestEnvironment
{
    /// <summary>A port nothing listens on right now (the OS's pick for a loopback listener).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The repository root: the first folder above the test binaries holding the solution.</summary>
    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "LMIndexer.Orleans.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("The repository root was not found above the test binaries.");
    }
}
