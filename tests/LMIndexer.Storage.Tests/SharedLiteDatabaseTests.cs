using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using LiteDB;
using LMIndexer.Storage.LiteDb;

namespace LMIndexer.Storage.Tests;

/// <summary>The one open LiteDB file per process that the embedded store's providers share.</summary>
public sealed class SharedLiteDatabaseTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "lmindexer-tests", $"shared-{Guid.NewGuid():N}");

    private string ConnectionString(string name) => $"Filename={Path.Combine(directory, "not", "yet", "there", name)}";

    public void Dispose()
    {
        if (Directory.Exists(directory))
            Directory.Delete(directory, recursive: true);
    }

    private static Task<int> CountAsync(SharedLiteDatabase database) => database.RunAsync(db => db.GetCollection("things").Count());

    private static Task<BsonValue> InsertAsync(SharedLiteDatabase database, string id) => database.RunAsync(db => db.GetCollection("things").Insert(new BsonDocument { ["_id"] = id }));

    [Fact]
    public async Task A_provider_that_ended_its_use_is_refused_while_the_others_on_the_file_go_on()
    {
        var connection = ConnectionString("ended.db");   // in folders that do not exist yet
        var first = SharedLiteDatabase.Acquire(connection);
        var second = SharedLiteDatabase.Acquire(connection);
        try
        {
            await InsertAsync(first, "a");
            first.Dispose();

            await Assert.ThrowsAsync<ObjectDisposedException>(() => CountAsync(first));
            await InsertAsync(second, "b");
            Assert.Equal(2, await CountAsync(second));   // one database under both: the file stayed open
        }
        finally
        {
            second.Dispose();
            SharedLiteDatabase.Close(connection);
        }
    }

    [Fact]
    public async Task Closing_releases_the_file_and_acquiring_it_again_finds_what_was_written()
    {
        var connection = ConnectionString("closed.db");
        var database = SharedLiteDatabase.Acquire(connection);
        await InsertAsync(database, "kept");

        SharedLiteDatabase.Close(connection);
        SharedLiteDatabase.Close(connection);   // closing a file that is not open does nothing

        // Released: another instance can open the file in LiteDB's exclusive direct mode.
        using (var direct = new LiteDatabase(connection))
            Assert.Equal(1, direct.GetCollection("things").Count());
        await Assert.ThrowsAnyAsync<Exception>(() => CountAsync(database).WaitAsync(TimeSpan.FromSeconds(10)));   // the old handle's database is gone
        var reopened = SharedLiteDatabase.Acquire(connection);
        try
        {
            Assert.Equal(1, await CountAsync(reopened));
        }
        finally
        {
            reopened.Dispose();
            SharedLiteDatabase.Close(connection);
        }
    }

    [Fact]
    public async Task An_operation_that_throws_fails_alone_and_the_rest_of_its_commit_is_kept()
    {
        var connection = ConnectionString("failing.db");
        using var database = SharedLiteDatabase.Acquire(connection);
        // Queued together, so they share a group commit.
        var writes = Enumerable.Range(0, 50).Select(i => InsertAsync(database, $"ok-{i}")).ToList();
        var failing = database.RunAsync<int>(_ => throw new InvalidOperationException("etag conflict"));
        writes.AddRange(Enumerable.Range(50, 50).Select(i => InsertAsync(database, $"ok-{i}")));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => failing);
        Assert.Equal("etag conflict", error.Message);
        await Task.WhenAll(writes);
        Assert.Equal(100, await CountAsync(database));
        SharedLiteDatabase.Close(connection);
    }

    /// <summary>Listens to the commit metrics of one database file (other tests' files report to the same meter).</summary>
    private static MeterListener ListenToCommits(string fileName, ConcurrentQueue<int> operations, ConcurrentQueue<double> durations)
    {
        var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == SharedLiteDatabase.MeterName)
                l.EnableMeasurementEvents(instrument);
        };
        bool Mine(ReadOnlySpan<KeyValuePair<string, object?>> tags) => tags.ToArray().Contains(new("file", fileName));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "lmindexer.litedb.commit.operations" && Mine(tags))
                operations.Enqueue(value);
        });
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "lmindexer.litedb.commit.duration" && Mine(tags))
                durations.Enqueue(value);
        });
        listener.Start();
        return listener;
    }

    [Fact]
    public async Task Each_group_commit_reports_how_many_operations_it_applied_and_how_long_it_took()
    {
        var connection = ConnectionString("metered.db");
        var operations = new ConcurrentQueue<int>();
        var durations = new ConcurrentQueue<double>();
        using var listener = ListenToCommits("metered.db", operations, durations);
        using var database = SharedLiteDatabase.Acquire(connection);

        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => InsertAsync(database, $"m-{i}")));
        Assert.Equal(200, await CountAsync(database));

        Assert.Equal(201, operations.Sum());   // the inserts and the count, each in exactly one commit
        Assert.True(operations.Count < 201, "concurrent inserts were never committed together");
        Assert.Equal(operations.Count, durations.Count);
        Assert.All(durations, d => Assert.True(d >= 0));
        SharedLiteDatabase.Close(connection);
    }

    [Fact]
    public async Task A_long_queue_is_committed_in_groups_of_at_most_2048_operations()
    {
        var connection = ConnectionString("bounded.db");
        var operations = new ConcurrentQueue<int>();
        using var listener = ListenToCommits("bounded.db", operations, new ConcurrentQueue<double>());
        using var database = SharedLiteDatabase.Acquire(connection);
        using var gate = new ManualResetEventSlim();
        // The writer is held inside a first operation until all the inserts are queued behind it.
        var held = database.RunAsync(_ => gate.Wait(TimeSpan.FromSeconds(30)));
        var inserts = Enumerable.Range(0, 5000).Select(i => InsertAsync(database, $"b-{i}")).ToList();
        gate.Set();
        Assert.True(await held);
        await Task.WhenAll(inserts);

        Assert.Equal(5001, operations.Sum());
        Assert.Equal([2048, 2048, 905], operations.ToArray());
        SharedLiteDatabase.Close(connection);
    }
}
