using System.Security.Cryptography;
using System.Text;

namespace LMIndexer.Testing;

/// <summary>
/// Folders built once per build of the code and shared by every test process on the machine: the
/// first process to need one builds it under a file lock while the others wait, then all read it.
/// Nothing may write into a shared folder after it is built; per-process files go to <see cref="ProcessFolder"/>.
/// </summary>
internal static class SharedBundles
{
    private static readonly string Tests = Path.Combine(Path.GetTempPath(), "lmindexer-tests");
    private static readonly TimeSpan LongestWait = TimeSpan.FromMinutes(15);

    // Keyed by the assemblies that train and describe the bundles (deterministic builds give the same
    // code the same module ids): changed Core, Testing or TorchSharp code gets new bundles.
    private static readonly Lazy<string> Root = new(() =>
    {
        var versions = string.Join(',', new[] { typeof(Core.Indexing.SemanticIndexing), typeof(SharedBundles), typeof(TorchSharp.torch) }.Select(t => t.Assembly.ManifestModule.ModuleVersionId));
        var root = Path.Combine(Tests, "shared-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(versions)))[..16]);
        if (!Directory.Exists(root))
            RemoveStale(root);
        Directory.CreateDirectory(root);
        return root;
    });

    /// <summary>The folder <paramref name="name"/>, built by <paramref name="build"/> (into it, empty) unless a process already did.</summary>
    public static string Build(string name, Action<string> build)
    {
        // Built in place, not in a staging folder renamed at the end: bundles record absolute paths (a
        // serving bundle names its indexer). The marker, written last, says the folder is complete.
        var folder = Path.Combine(Root.Value, name);
        var complete = Path.Combine(folder, ".complete");
        if (File.Exists(complete))
            return folder;
        using var claim = Claim(Path.Combine(Root.Value, name + ".lock"));
        if (File.Exists(complete))   // built by another process while this one waited
            return folder;
        if (Directory.Exists(folder))
            Directory.Delete(folder, recursive: true);   // a process killed mid-build
        Directory.CreateDirectory(folder);
        build(folder);
        File.WriteAllText(complete, "");
        return folder;
    }

    /// <summary>A folder of this process's own, removed when it exits.</summary>
    public static string ProcessFolder()
    {
        var folder = Path.Combine(Tests, "process-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteQuietly(folder);
        return folder;
    }

    // The lock is an open file with no sharing (flock on Linux): released when its process ends, even by a crash.
    private static FileStream Claim(string path)
    {
        var deadline = DateTime.UtcNow + LongestWait;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(200);
            }
        }
    }

    // Bundles of earlier builds, unused for an hour (a concurrent run of another build may still read newer ones).
    private static void RemoveStale(string current)
    {
        if (!Directory.Exists(Tests))
            return;
        foreach (var folder in Directory.EnumerateDirectories(Tests, "shared-*"))
        {
            if (folder != current && Directory.GetLastWriteTimeUtc(folder) < DateTime.UtcNow.AddHours(-1))
                DeleteQuietly(folder);
        }
    }

    private static void DeleteQuietly(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Still in use by a child process: left for the next run's clean-up.
        }
    }
}
