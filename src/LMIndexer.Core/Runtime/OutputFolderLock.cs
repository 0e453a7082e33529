namespace LMIndexer.Core.Runtime;

/// <summary>
/// An exclusive claim on an output folder for the length of one run, so that two runs writing the
/// same checkpoints and bundles fail at once instead of overwriting each other's files halfway.
/// The claim is an open lock file (<c>.run.lock</c>) held without sharing; the operating system
/// drops it when the process ends, so a crashed run never leaves the folder claimed.
/// </summary>
public sealed class OutputFolderLock : IDisposable
{
    public const string FileName = ".run.lock";

    private readonly FileStream stream;

    private OutputFolderLock(FileStream stream) => this.stream = stream;

    /// <summary>Creates <paramref name="directory"/> when missing and claims it.</summary>
    /// <exception cref="InvalidOperationException">Another run (in this or another process) holds the folder.</exception>
    public static OutputFolderLock Acquire(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var root = Path.GetFullPath(directory);
        Directory.CreateDirectory(root);
        try
        {
            return new OutputFolderLock(new FileStream(Path.Combine(root, FileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException e)
        {
            throw new InvalidOperationException($"{root} is in use by another run; wait for it to end or choose another output folder.", e);
        }
    }

    public void Dispose() => stream.Dispose();
}
