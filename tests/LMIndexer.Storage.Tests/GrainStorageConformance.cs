using LMIndexer.Testing;
using LMIndexer.Storage.LiteDb;
using LMIndexer.Storage.MongoDB;
using Orleans.Storage;

namespace LMIndexer.Storage.Tests;

/// <summary>A grain state with the shapes the LMIndexer grains keep: lists, maps, records, codes, money, time.</summary>
public sealed class SampleState
{
    public List<string> History { get; set; } = [];
    public Dictionary<string, long[]> Ids { get; set; } = new(StringComparer.Ordinal);
    public SampleRecord? Record { get; set; }
    public int Count { get; set; }
}

public sealed record SampleRecord(string Title, decimal? Price, DateTimeOffset Time, IReadOnlyList<IReadOnlyList<string>>? Categories);

/// <summary>
/// What every grain storage provider of the project must do: Orleans' etag contract (a write that
/// lost a race fails, never overwrites), clear, large state, concurrency across grains.
/// </summary>
public abstract class GrainStorageConformance
{
    private const string StateName = "sample";

    protected abstract IGrainStorage CreateStorage();

    private static GrainId Grain(string key) => GrainId.Create("sample", key);

    [Fact]
    public async Task Reading_a_missing_state_gives_a_default_state_without_etag()
    {
        var state = new GrainState<SampleState>();
        await CreateStorage().ReadStateAsync(StateName, Grain("missing"), state);
        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.NotNull(state.State);
        Assert.Empty(state.State!.History);
    }

    [Fact]
    public async Task A_written_state_reads_back_equal_with_its_etag()
    {
        var storage = CreateStorage();
        var written = new GrainState<SampleState>(new SampleState
        {
            History = ["a", "b", "ünïcødé ✓"],
            Ids = { ["v1"] = [3, 17, 0], ["v2"] = [long.MaxValue, 1], ["2026.11-retrained"] = [1, 2, 3] },   // version names may hold dots
            Record = new SampleRecord("Lipstick", 12.5m, new DateTimeOffset(2026, 11, 24, 10, 0, 0, TimeSpan.FromHours(1)), [["Beauty", "Makeup"]]),
            Count = 42,
        });
        await storage.WriteStateAsync(StateName, Grain("roundtrip"), written);
        Assert.NotNull(written.ETag);
        Assert.True(written.RecordExists);

        var read = new GrainState<SampleState>();
        await CreateStorage().ReadStateAsync(StateName, Grain("roundtrip"), read);
        Assert.True(read.RecordExists);
        Assert.Equal(written.ETag, read.ETag);
        Assert.Equal(written.State!.History, read.State!.History);
        Assert.Equal(written.State!.Ids.Keys.Order(), read.State!.Ids.Keys.Order());
        Assert.Equal(written.State!.Ids["v2"], read.State!.Ids["v2"]);
        Assert.Equal(written.State!.Record!.Title, read.State!.Record!.Title);
        Assert.Equal(written.State!.Record.Price, read.State!.Record.Price);
        Assert.Equal(written.State!.Record.Time, read.State!.Record.Time);
        Assert.Equal("Makeup", read.State!.Record.Categories![0][1]);
        Assert.Equal(42, read.State!.Count);
    }

    [Fact]
    public async Task Of_two_writers_holding_the_same_etag_only_the_first_succeeds()
    {
        var storage = CreateStorage();
        var grain = Grain("race");
        await storage.WriteStateAsync(StateName, grain, new GrainState<SampleState>(new SampleState { Count = 1 }));
        var first = new GrainState<SampleState>();
        var second = new GrainState<SampleState>();
        await storage.ReadStateAsync(StateName, grain, first);
        await storage.ReadStateAsync(StateName, grain, second);

        first.State!.Count = 2;
        await storage.WriteStateAsync(StateName, grain, first);
        second.State!.Count = 3;
        var lost = await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, grain, second));
        // The operator's log says which state of which grain, and with which etag.
        Assert.Contains($"state '{StateName}' of {grain} was written by someone else", lost.Message, StringComparison.Ordinal);
        Assert.Contains(second.ETag!, lost.Message, StringComparison.Ordinal);

        // A second first write (no etag) of an existing record also loses.
        var again = await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, grain, new GrainState<SampleState>(new SampleState { Count = 9 })));
        Assert.Contains("none", again.Message, StringComparison.Ordinal);
        var read = new GrainState<SampleState>();
        await storage.ReadStateAsync(StateName, grain, read);
        Assert.Equal(2, read.State!.Count);
    }

    [Fact]
    public async Task Clear_removes_the_state_and_a_stale_clear_fails()
    {
        var storage = CreateStorage();
        var grain = Grain("clear");
        var state = new GrainState<SampleState>(new SampleState { Count = 5 });
        await storage.WriteStateAsync(StateName, grain, state);
        var stale = new GrainState<SampleState> { ETag = "not-the-etag" };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync(StateName, grain, stale));

        await storage.ClearStateAsync(StateName, grain, state);
        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        var read = new GrainState<SampleState>();
        await storage.ReadStateAsync(StateName, grain, read);
        Assert.False(read.RecordExists);

        state.State!.Count = 6;   // written again after the clear: a first write
        await storage.WriteStateAsync(StateName, grain, state);
        await storage.ReadStateAsync(StateName, grain, read);
        Assert.Equal(6, read.State!.Count);
    }

    [Fact]
    public async Task A_large_state_round_trips()
    {
        var storage = CreateStorage();
        var big = new SampleState { History = [.. Enumerable.Range(0, 20_000).Select(i => $"item-{i:D6}")] };   // ~300 KB of JSON
        await storage.WriteStateAsync(StateName, Grain("large"), new GrainState<SampleState>(big));
        var read = new GrainState<SampleState>();
        await storage.ReadStateAsync(StateName, Grain("large"), read);
        Assert.Equal(big.History, read.State!.History);
    }

    [Fact]
    public async Task Concurrent_writes_to_different_grains_all_land()
    {
        var storage = CreateStorage();
        await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            var state = new GrainState<SampleState>(new SampleState { Count = i });
            for (var round = 0; round < 3; round++)
            {
                state.State!.History.Add($"r{round}");
                await storage.WriteStateAsync(StateName, Grain($"many-{i}"), state);
            }
        }));
        for (var i = 0; i < 50; i++)
        {
            var read = new GrainState<SampleState>();
            await storage.ReadStateAsync(StateName, Grain($"many-{i}"), read);
            Assert.Equal((i, 3), (read.State!.Count, read.State!.History.Count));
        }
    }
}

public sealed class LiteDbGrainStorageConformance : GrainStorageConformance, IDisposable
{
    private readonly string file = Path.Combine(Path.GetTempPath(), "lmindexer-tests", $"conformance-{Guid.NewGuid():N}.db");

    protected override IGrainStorage CreateStorage() => new LiteDbGrainStorage("test", new LiteDbStorageOptions { ConnectionString = $"Filename={file}" });

    public void Dispose() => TestEnvironment.DeleteLiteDb(file);
}

[Collection(nameof(MongoCollection))]
public sealed class MongoGrainStorageConformance(MongoServer server) : GrainStorageConformance
{
    private readonly string database = MongoServer.NewDatabase();

    protected override IGrainStorage CreateStorage() =>
        new MongoGrainStorage("test", new MongoDBStorageOptions { ConnectionString = server.ConnectionString, Database = database, CollectionPrefix = "Grains_" });
}
