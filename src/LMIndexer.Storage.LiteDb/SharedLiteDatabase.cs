using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using LiteDB;

namespace LMIndexer.Storage.LiteDb;

/// <summary>
/// One open <see cref="LiteDatabase"/> per file in the process, shared by every provider that
/// names it (grain storage and reminders of one silo, or the silos of an in-process test cluster):
/// LiteDB's direct mode locks the file, so a second instance on it would fail.
/// </summary>
/// <remarks>
/// Every operation runs on one thread that applies everything queued since its last commit in a
/// single transaction (group commit). That keeps LiteDB's synchronous I/O off the Orleans
/// scheduler's threads — blocking them starves the silo — and turns thousands of small journal
/// flushes into a few large ones. Because one thread applies the operations in order, an etag
/// check and the write it guards cannot interleave with another writer. Reads take the same path:
/// LiteDB 5 corrupts pages when reads on other threads meet an open write transaction, and a read
/// in a batch whose commit fails fails with it, so no caller sees state that was never durable.
/// The database stays open until the process exits: a silo that stops and starts again in the same
/// process (tests, the CLI's embedded host) finds it as it left it, and a provider that the host
/// disposes early cannot pull the file from under another silo.
/// </remarks>
public sealed class SharedLiteDatabase : IDisposable
{
    public const string MeterName = "LMIndexer.Storage.LiteDb";
    private const int MaxWritesPerCommit = 2048;
    private static readonly Meter Meter = new(MeterName);
    private static readonly Histogram<int> CommitOperations = Meter.CreateHistogram<int>("lmindexer.litedb.commit.operations", description: "Operations applied in one group commit.");
    private static readonly Histogram<double> CommitDuration = Meter.CreateHistogram<double>("lmindexer.litedb.commit.duration", "ms", "Time to apply and commit one group (disk flush included).");
    private static readonly Dictionary<string, Entry> Open = new(StringComparer.Ordinal);
    private readonly Entry entry;
    private bool disposed;

    static SharedLiteDatabase() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        lock (Open)
        {
            foreach (var open in Open.Values)
                open.Dispose();
            Open.Clear();
        }
    };

    private SharedLiteDatabase(Entry entry) => this.entry = entry;

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
                entry = new Entry(new LiteDatabase(parsed), file);
                Open[file] = entry;
            }
            return new SharedLiteDatabase(entry);
        }
    }

    /// <summary>Runs <paramref name="operation"/> on the database thread inside the next group commit.</summary>
    public async Task<T> RunAsync<T>(Func<LiteDatabase, T> operation)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var pending = new PendingWrite(db => operation(db), new TaskCompletionSource<object?>(TaskCreationOptions.RunContinuationsAsynchronously));
        entry.Queue.Add(pending);
        return (T)(await pending.Completion.Task)!;
    }

    /// <summary>
    /// Closes a database file: pending operations finish, the file is released. Only for when no
    /// silo of the process uses it any more (a host restart drill, deleting test files); a provider
    /// still holding it fails its next call.
    /// </summary>
    public static void Close(string connectionString)
    {
        var file = Path.GetFullPath(new ConnectionString(connectionString).Filename);
        Entry? entry;
        lock (Open)
        {
            if (!Open.Remove(file, out entry))
                return;
        }
        entry.Dispose();
    }

    /// <summary>Ends this provider's use; the database itself stays open for the process (see remarks).</summary>
    public void Dispose() => disposed = true;

    private sealed record PendingWrite(Func<LiteDatabase, object?> Write, TaskCompletionSource<object?> Completion);

    private sealed class Entry : IDisposable
    {
        private readonly Thread writer;
        private readonly KeyValuePair<string, object?> fileTag;

        public Entry(LiteDatabase database, string file)
        {
            Database = database;
            fileTag = new("file", Path.GetFileName(file));
            writer = new Thread(Run) { IsBackground = true, Name = $"litedb {Path.GetFileName(file)}" };
            writer.Start();
        }

        public LiteDatabase Database { get; }
        public BlockingCollection<PendingWrite> Queue { get; } = [];

        private void Run()
        {
            var batch = new List<(PendingWrite Write, object? Result, Exception? Error)>(MaxWritesPerCommit);
            foreach (var first in Queue.GetConsumingEnumerable())
            {
                batch.Clear();
                var started = Stopwatch.GetTimestamp();
                Exception? commitError = null;
                try
                {
                    Database.BeginTrans();
                    Apply(first);
                    while (batch.Count < MaxWritesPerCommit && Queue.TryTake(out var next))
                        Apply(next);
                    Database.Commit();
                }
                catch (Exception e)
                {
                    // Nothing of this batch is durable: every write in it fails (Orleans retries or reports).
                    commitError = e;
                    try
                    {
                        Database.Rollback();
                    }
                    catch (Exception)
                    {
                        // the database is gone (shutting down); the writes fail with the first error
                    }
                    if (batch.Count == 0)
                        batch.Add((first, null, e));
                }
                CommitOperations.Record(batch.Count, fileTag);
                CommitDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, fileTag);
                foreach (var (write, result, error) in batch)
                {
                    var failure = commitError ?? error;
                    if (failure is not null)
                        write.Completion.TrySetException(failure);
                    else
                        write.Completion.TrySetResult(result);
                }
            }

            void Apply(PendingWrite write)
            {
                try
                {
                    // A write that throws (an etag conflict) has changed nothing: it checks first.
                    batch.Add((write, write.Write(Database), null));
                }
                catch (Exception e)
                {
                    batch.Add((write, null, e));
                }
            }
        }

        public void Dispose()
        {
            Queue.CompleteAdding();
            writer.Join(TimeSpan.FromSeconds(30));
            Database.Dispose();
            Queue.Dispose();
        }
    }
}
