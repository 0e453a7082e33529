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

    /// <summary>
    /// Lets go of a test's LiteDB file (the process keeps databases open; see SharedLiteDatabase)
    /// and deletes it with its companion files. Call once nothing uses it any more.
    /// </summary>
    public static void DeleteLiteDb(string file)
    {
        Storage.LiteDb.SharedLiteDatabase.Close($"Filename={file}");
        foreach (var leftover in Directory.GetFiles(Path.GetDirectoryName(file)!, Path.GetFileNameWithoutExtension(file) + "*"))
            File.Delete(leftover);
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
