using LMIndexer.Storage.LiteDb;
using LMIndexer.Storage.MongoDB;
using LMIndexer.Testing;
using Orleans.Configuration;

namespace LMIndexer.Storage.Conformance.Tests;

/// <summary>
/// What every reminder table of the project must do for Orleans: rows by grain, by name and by a
/// range of the hash ring (wrapping around zero), removal only with the current etag, and rows that
/// a new table instance on the same store still finds (a restarted silo).
/// </summary>
public abstract class ReminderTableConformance
{
    protected abstract IReminderTable CreateTable();

    private static ReminderEntry Entry(GrainId grain, string name, TimeSpan period) =>
        new() { GrainId = grain, ReminderName = name, StartAt = new DateTime(2026, 12, 5, 10, 30, 15, 250, DateTimeKind.Utc), Period = period };

    [Fact]
    public async Task Rows_are_found_by_grain_by_name_and_by_hash_range_with_their_fields()
    {
        var table = CreateTable();
        await table.StartAsync();
        var grain = GrainId.Create("backfill", "job-1");
        var other = GrainId.Create("backfill", "job-2");
        var etag = await table.UpsertRow(Entry(grain, "backfill", TimeSpan.FromMinutes(1)));
        await table.UpsertRow(Entry(grain, "second", TimeSpan.FromMinutes(3)));
        await table.UpsertRow(Entry(other, "backfill", TimeSpan.FromMinutes(2)));

        var row = await table.ReadRow(grain, "backfill");
        Assert.NotNull(row);
        Assert.Equal((grain, "backfill", TimeSpan.FromMinutes(1), etag), (row.GrainId, row.ReminderName, row.Period, row.ETag));
        Assert.Equal(new DateTime(2026, 12, 5, 10, 30, 15, 250, DateTimeKind.Utc), row.StartAt.ToUniversalTime(), TimeSpan.FromMilliseconds(1));
        Assert.Null(await table.ReadRow(grain, "no-such-reminder"));
        Assert.Equal(["backfill", "second"], (await table.ReadRows(grain)).Reminders.Select(r => r.ReminderName).Order());

        var hash = grain.GetUniformHashCode();
        Assert.Contains((await table.ReadRows(hash - 1, hash)).Reminders, r => r.GrainId == grain);                           // (begin, end] holds end
        Assert.DoesNotContain((await table.ReadRows(hash, hash == uint.MaxValue ? 0 : hash + 1)).Reminders, r => r.GrainId == grain);   // and not begin
        Assert.Contains((await table.ReadRows(hash == uint.MaxValue ? 0 : hash + 1, hash)).Reminders, r => r.GrainId == grain);      // wrapping around zero
        Assert.DoesNotContain((await table.ReadRows(hash, hash - 1)).Reminders, r => r.GrainId == grain);
        Assert.Equal(3, (await table.ReadRows(0, 0)).Reminders.Count);                                                        // the whole ring
    }

    [Fact]
    public async Task Parallel_upserts_each_land_with_their_own_etag()
    {
        var table = CreateTable();
        await table.StartAsync();
        var grains = Enumerable.Range(0, 50).Select(i => GrainId.Create("user", $"parallel-{i}")).ToArray();
        var etags = await Task.WhenAll(grains.Select(g => table.UpsertRow(Entry(g, "refresh", TimeSpan.FromMinutes(1)))));
        Assert.Equal(grains.Length, etags.Distinct().Count());
        var rows = (await table.ReadRows(0, 0)).Reminders;
        Assert.Equal(grains.Select(g => g.ToString()).Order(StringComparer.Ordinal), rows.Select(r => r.GrainId.ToString()).Order(StringComparer.Ordinal));
    }

    /// <summary>A silo that takes over a share of the ring reads many ranges at once; none may fail for want of connections.</summary>
    [Fact]
    public async Task A_thousand_parallel_range_reads_all_answer()
    {
        var table = CreateTable();
        await table.StartAsync();
        var grains = Enumerable.Range(0, 20).Select(i => GrainId.Create("user", $"range-{i}")).ToArray();
        foreach (var grain in grains)
            await table.UpsertRow(Entry(grain, "refresh", TimeSpan.FromMinutes(1)));
        var hashes = grains.Select(g => g.GetUniformHashCode()).ToArray();

        // Ten slices of the ring, a hundred readers each; together the slices cover the ring exactly once.
        const uint Slice = uint.MaxValue / 10;
        var reads = await Task.WhenAll(Enumerable.Range(0, 1000).Select(i =>
        {
            var begin = (uint)(i % 10) * Slice;
            var end = i % 10 == 9 ? 0u : begin + Slice;
            return table.ReadRows(begin, end);
        }));
        for (var slice = 0; slice < 10; slice++)
        {
            var begin = (uint)slice * Slice;
            var expected = hashes.Count(h => h > begin && (slice == 9 ? h > begin || h == 0 : h <= begin + Slice));
            Assert.All(reads.Where((_, i) => i % 10 == slice), r => Assert.Equal(expected, r.Reminders.Count));
        }
        Assert.Equal(grains.Length, reads.Take(10).Sum(r => r.Reminders.Count));
    }

    [Fact]
    public async Task A_row_is_removed_only_with_its_current_etag_and_survives_a_new_table_instance()
    {
        var table = CreateTable();
        await table.StartAsync();
        var grain = GrainId.Create("backfill", "job-etag");
        var first = await table.UpsertRow(Entry(grain, "backfill", TimeSpan.FromMinutes(1)));
        var second = await table.UpsertRow(Entry(grain, "backfill", TimeSpan.FromMinutes(5)));   // updated: a new etag
        Assert.NotEqual(first, second);

        var restarted = CreateTable();
        await restarted.StartAsync();
        Assert.Equal(TimeSpan.FromMinutes(5), (await restarted.ReadRow(grain, "backfill"))!.Period);
        Assert.False(await restarted.RemoveRow(grain, "backfill", first!));
        Assert.False(await restarted.RemoveRow(grain, "backfill", "stale"));
        Assert.NotNull(await restarted.ReadRow(grain, "backfill"));
        Assert.True(await restarted.RemoveRow(grain, "backfill", second!));
        Assert.Null(await table.ReadRow(grain, "backfill"));
        Assert.False(await table.RemoveRow(grain, "backfill", second!));   // already gone
    }
}

public sealed class LiteDbReminderTableConformance : ReminderTableConformance, IDisposable
{
    private readonly string file = Path.Combine(Path.GetTempPath(), "lmindexer-tests", $"reminders-{Guid.NewGuid():N}.db");
    private readonly List<LiteDbReminderTable> tables = [];

    protected override IReminderTable CreateTable()
    {
        var table = new LiteDbReminderTable(new LiteDbStorageOptions { ConnectionString = $"Filename={file}" });
        tables.Add(table);
        return table;
    }

    public void Dispose()
    {
        foreach (var table in tables)
            table.Dispose();
        TestEnvironment.DeleteLiteDb(file);
    }
}

[Collection(nameof(MongoCollection))]
public sealed class MongoReminderTableConformance(MongoServer server) : ReminderTableConformance
{
    private readonly string database = MongoServer.NewDatabase();

    protected override IReminderTable CreateTable() => new MongoReminderTable(
        Microsoft.Extensions.Options.Options.Create(new ClusterOptions { ServiceId = "svc" }),
        new MongoDBStorageOptions { ConnectionString = server.ConnectionString, Database = database });
}
