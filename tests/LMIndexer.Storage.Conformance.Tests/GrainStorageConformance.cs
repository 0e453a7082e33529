using LMIndexer.Testing;
using LMIndexer.Storage.LiteDb;
using LMIndexer.Storage.MongoDB;
using MongoDB.Bson;
using MongoDB.Driver;
using Orleans.Storage;

namespace LMIndexer.Storage.Conformance.Tests;

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
/// What every grain storage provider of the project must do (the cases of Orleans.Persistence.TestKit's
/// GrainStorageTestRunner and more): Orleans' etag contract (a write that lost a race fails, never
/// overwrites), clear, every kind of grain key, named states of one grain kept apart, large state,
/// concurrency, and records written by the layout before state names were part of the key.
/// </summary>
public abstract class GrainStorageConformance
{
    private const string StateName = "sample";

    protected abstract IGrainStorage CreateStorage();

    /// <summary>Stores a record as the provider laid it out before state names were part of the key: <c>{_id: grain key, _etag, _doc}</c>.</summary>
    protected abstract Task WriteLegacyRecordAsync(GrainId grainId, string json, string etag);

    /// <summary>Whether a record of the old layout is still stored for the grain.</summary>
    protected abstract Task<bool> LegacyRecordExistsAsync(GrainId grainId);

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
        Assert.Contains(first.ETag!, lost.Message, StringComparison.Ordinal);
        Assert.Equal((first.ETag, second.ETag), (lost.StoredEtag, lost.CurrentEtag));   // Orleans' own fields carry both

        // A second first write (no etag) of an existing record also loses.
        var again = await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, grain, new GrainState<SampleState>(new SampleState { Count = 9 })));
        Assert.Contains("none", again.Message, StringComparison.Ordinal);
        Assert.Equal((first.ETag, ""), (again.StoredEtag, again.CurrentEtag));
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
    public async Task A_write_with_an_etag_that_was_never_stored_fails()
    {
        var storage = CreateStorage();
        var state = new GrainState<SampleState>(new SampleState { Count = 1 }) { ETag = "never-stored" };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, Grain("inconsistent"), state));
        var read = new GrainState<SampleState>();
        await storage.ReadStateAsync(StateName, Grain("inconsistent"), read);
        Assert.False(read.RecordExists);
    }

    [Fact]
    public async Task Every_kind_of_grain_key_round_trips_and_keys_stay_apart()
    {
        var storage = CreateStorage();
        GrainId[] grains =
        [
            GrainId.Create(GrainType.Create("sample"), GrainIdKeyExtensions.CreateIntegerKey(0)),
            GrainId.Create(GrainType.Create("sample"), GrainIdKeyExtensions.CreateIntegerKey(long.MinValue)),
            GrainId.Create(GrainType.Create("sample"), GrainIdKeyExtensions.CreateGuidKey(Guid.Parse("7d5c8e0c-1a2b-4c3d-9e8f-001122334455"))),
            GrainId.Create(GrainType.Create("sample"), GrainIdKeyExtensions.CreateIntegerKey(42, "shard-7")),
            GrainId.Create("sample", "Пользователь-ёж"),
            GrainId.Create("образец", "ключ"),
            GrainId.Create("sample", "a/b|c%2F d.e$f"),
            GrainId.Create("sample", new string('x', 400)),
        ];
        for (var i = 0; i < grains.Length; i++)
            await storage.WriteStateAsync(StateName, grains[i], new GrainState<SampleState>(new SampleState { Count = i, History = [grains[i].ToString()] }));
        for (var i = 0; i < grains.Length; i++)
        {
            var read = new GrainState<SampleState>();
            await CreateStorage().ReadStateAsync(StateName, grains[i], read);
            Assert.Equal((i, grains[i].ToString()), (read.State!.Count, read.State.History.Single()));
        }
    }

    [Fact]
    public async Task Named_states_of_one_grain_are_independent_records()
    {
        var storage = CreateStorage();
        var grain = Grain("two-states");
        var profile = new GrainState<SampleState>(new SampleState { Count = 1, History = ["profile"] });
        var history = new GrainState<SampleState>(new SampleState { Count = 2, History = ["history"] });
        await storage.WriteStateAsync("profile", grain, profile);
        await storage.WriteStateAsync("history", grain, history);   // a first write: it must not find the other state's record
        await storage.WriteStateAsync("his/tory", grain, new GrainState<SampleState>(new SampleState { Count = 3 }));   // separators in a state name do not alias

        var read = new GrainState<SampleState>();
        await storage.ReadStateAsync("profile", grain, read);
        Assert.Equal((1, profile.ETag), (read.State!.Count, read.ETag));
        await storage.ReadStateAsync("history", grain, read);
        Assert.Equal((2, history.ETag), (read.State!.Count, read.ETag));

        await storage.ClearStateAsync("profile", grain, profile);
        await storage.ReadStateAsync("profile", grain, read);
        Assert.False(read.RecordExists);
        await storage.ReadStateAsync("history", grain, read);
        Assert.Equal(2, read.State!.Count);
        await storage.ReadStateAsync("his/tory", grain, read);
        Assert.Equal(3, read.State!.Count);
    }

    [Fact]
    public async Task A_grain_whose_key_looks_like_another_record_id_does_not_read_that_record()
    {
        var storage = CreateStorage();
        // State "sample" of grain "k" is stored under "sample/k": exactly the key of another grain,
        // which must not take that record for one of its own in the old layout.
        await storage.WriteStateAsync(StateName, Grain("k"), new GrainState<SampleState>(new SampleState { Count = 1 }));
        var other = new GrainState<SampleState>();
        await storage.ReadStateAsync(StateName, Grain($"{StateName}/k"), other);
        Assert.False(other.RecordExists);
        var own = new GrainState<SampleState>();
        await storage.ReadStateAsync(StateName, Grain("k"), own);
        Assert.Equal(1, own.State!.Count);
    }

    [Fact]
    public async Task A_record_of_the_old_layout_is_read_and_moved_to_the_new_key()
    {
        var storage = CreateStorage();
        var grain = Grain("written-before-state-names");
        await WriteLegacyRecordAsync(grain, """{"History":["old"],"Ids":{},"Count":7}""", "legacy-etag");

        var read = new GrainState<SampleState>();
        await storage.ReadStateAsync(StateName, grain, read);
        Assert.True(read.RecordExists);
        Assert.Equal((7, "old", "legacy-etag"), (read.State!.Count, read.State.History.Single(), read.ETag));
        Assert.False(await LegacyRecordExistsAsync(grain));

        read.State.Count = 8;   // the etag it was read with still guards the next write
        await storage.WriteStateAsync(StateName, grain, read);
        var again = new GrainState<SampleState>();
        await CreateStorage().ReadStateAsync(StateName, grain, again);
        Assert.Equal((8, read.ETag), (again.State!.Count, again.ETag));
        var stale = new GrainState<SampleState>(new SampleState()) { ETag = "legacy-etag" };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, grain, stale));
    }

    [Fact]
    public async Task An_old_layout_record_that_holds_a_new_key_is_reported_until_its_own_grain_moves_it()
    {
        var storage = CreateStorage();
        // Grain "sample/k" wrote under its bare key before state names joined the key: "sample/k" is
        // also where state "sample" of grain "k" lives now. Taking it as k's state would hand k another grain's data.
        var owner = Grain($"{StateName}/k");
        await WriteLegacyRecordAsync(owner, """{"History":[],"Ids":{},"Count":3}""", "owner-etag");

        var blocked = new GrainState<SampleState>();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => storage.ReadStateAsync(StateName, Grain("k"), blocked));
        Assert.Contains("Read that grain's state once", error.Message);
        // A write is refused too (as a collision or as a conflict); it must not replace the owner's record.
        await Assert.ThrowsAnyAsync<Exception>(() => storage.WriteStateAsync(StateName, Grain("k"), new GrainState<SampleState>(new SampleState())));

        var moved = new GrainState<SampleState>();
        await storage.ReadStateAsync(StateName, owner, moved);   // the owner's first read moves its record away
        Assert.Equal((3, "owner-etag"), (moved.State!.Count, moved.ETag));
        var free = new GrainState<SampleState>();
        await storage.ReadStateAsync(StateName, Grain("k"), free);
        Assert.False(free.RecordExists);
    }

    [Fact]
    public async Task States_written_and_read_in_parallel_change_etag_on_every_write()
    {
        var storage = CreateStorage();
        var states = Enumerable.Range(0, 60).Select(i => (Grain: Grain($"parallel-{i}"), State: new GrainState<SampleState>(new SampleState()))).ToList();
        foreach (var (grain, state) in states)
            await storage.WriteStateAsync(StateName, grain, state);
        await Parallel.ForEachAsync(states, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount * 3 }, async (entry, _) =>
        {
            for (var round = 0; round < 10; round++)
            {
                var before = entry.State.ETag;
                entry.State.State!.Count++;
                await storage.WriteStateAsync(StateName, entry.Grain, entry.State);
                Assert.NotEqual(before, entry.State.ETag);
                var read = new GrainState<SampleState>();
                await storage.ReadStateAsync(StateName, entry.Grain, read);
                Assert.Equal((entry.State.ETag, entry.State.State.Count), (read.ETag, read.State!.Count));
            }
        });
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

    protected override Task WriteLegacyRecordAsync(GrainId grainId, string json, string etag) => Database().RunAsync(db =>
        db.GetCollection(GrainStorageKeys.Collection("", grainId)).Insert(new LiteDB.BsonDocument
        {
            ["_id"] = grainId.Key.ToString(),
            ["_etag"] = etag,
            ["_doc"] = LiteDB.JsonSerializer.Deserialize(json),
        }));

    protected override Task<bool> LegacyRecordExistsAsync(GrainId grainId) => Database().RunAsync(db =>
        db.GetCollection(GrainStorageKeys.Collection("", grainId)).FindById(grainId.Key.ToString()) is not null);

    private SharedLiteDatabase Database() => SharedLiteDatabase.Acquire($"Filename={file}");

    public void Dispose() => TestEnvironment.DeleteLiteDb(file);
}

[Collection(nameof(MongoCollection))]
public sealed class MongoGrainStorageConformance(MongoServer server) : GrainStorageConformance
{
    private readonly string database = MongoServer.NewDatabase();

    protected override IGrainStorage CreateStorage() =>
        new MongoGrainStorage("test", new MongoDBStorageOptions { ConnectionString = server.ConnectionString, Database = database, CollectionPrefix = "Grains_" });

    private IMongoCollection<BsonDocument> Collection(GrainId grainId) =>
        new MongoClient(server.ConnectionString).GetDatabase(database).GetCollection<BsonDocument>(GrainStorageKeys.Collection("Grains_", grainId));

    protected override Task WriteLegacyRecordAsync(GrainId grainId, string json, string etag) =>
        Collection(grainId).InsertOneAsync(new BsonDocument { { "_id", grainId.Key.ToString() }, { "_etag", etag }, { "_doc", BsonDocument.Parse(json) } });

    protected override async Task<bool> LegacyRecordExistsAsync(GrainId grainId) =>
        await Collection(grainId).Find(Builders<BsonDocument>.Filter.Eq("_id", grainId.Key.ToString())).AnyAsync();
}
