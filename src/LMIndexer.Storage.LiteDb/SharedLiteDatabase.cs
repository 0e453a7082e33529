using LiteDB;

namespace LMIndexer.Storage.LiteDb;

/// <summary>
/// One open <see cref="LiteDatabase"/> per file in the process, shared by every provider that
/// names it (grain storage and reminders of one silo, or the silos of an in-process test cluster):
/// LiteDB's direct mode locks the file, so a second instance on it would fail.
/// </summary>
public sealed class SharedLiteDatabase : IDisposable
{
    private static readonly Dictionary<string, (LiteDatabase Database, object Gate, int Users)> Open = new(StringComparer.Ordinal);
    private readonly string file;
    private bool disposed;

    private SharedLiteDatabase(string file, LiteDatabase database, object gate)
    {
        this.file = file;
        Database = database;
        Gate = gate;
    }

    public LiteDatabase Database { get; }

    /// <summary>
    /// Serialises read-check-write sequences: LiteDB has no conditional update, so the etag check
    /// and the write it guards must not interleave with another writer.
    /// </summary>
    public object Gate { get; }

    public static SharedLiteDatabase Acquire(string connectionString)
    {
        var parsed = new ConnectionString(connectionString);
        var file = Path.GetFullPath(parsed.Filename);
        lock (Open)
        {
            if (!Open.TryGetValue(file, out var entry))
            {
                if (Path.GetDirectoryName(file) is { Length: > 0 } directory)
                    Directory.CreateDirectory(directory);
                parsed.Filename = file;
                entry = (new LiteDatabase(parsed), new object(), 0);
            }
            Open[file] = (entry.Database, entry.Gate, entry.Users + 1);
            return new SharedLiteDatabase(file, entry.Database, entry.Gate);
        }
    }

    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        lock (Open)
        {
            var entry = Open[file];
            if (entry.Users > 1)
            {
                Open[file] = (entry.Database, entry.Gate, entry.Users - 1);
                return;
            }
            Open.Remove(file);
            entry.Database.Dispose();
        }
    }
}
