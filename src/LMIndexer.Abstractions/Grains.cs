using Orleans.Concurrency;

namespace LMIndexer.Abstractions;

/// <summary>A user: bounded history, seen set, recommendations. Key: user id.</summary>
public interface IUserGrain : IGrainWithStringKey
{
    Task<EventReceipt> RecordAsync(UserEvent userEvent);

    /// <summary>Several events of this user in order, with one state write (what batched ingestion uses).</summary>
    Task<EventReceipt> RecordBatchAsync(IReadOnlyList<UserEvent> userEvents);

    Task<IReadOnlyList<HistoryEntry>> GetHistoryAsync();

    /// <summary>History → inference → resolution → seen filter → popularity padding.</summary>
    Task<RecommendationResult> RecommendAsync(int count);
}

/// <summary>A catalog item and its semantic ID per index version. Key: item id.</summary>
public interface IItemGrain : IGrainWithStringKey
{
    Task UpsertAsync(ItemRecord record);

    /// <summary>
    /// Interleaves with a running upsert: the search shard that the upsert calls may be waking up and
    /// reading its items, this one included, and would otherwise wait on it forever.
    /// </summary>
    [AlwaysInterleave]
    Task<ItemRecord?> GetAsync();

    Task<ItemDetails?> GetDetailsAsync();

    Task SetSemanticIdAsync(VersionedSemanticId id);

    /// <summary>Forgets the item's ID in a retired version.</summary>
    Task RemoveSemanticIdAsync(string version);
}

/// <summary>
/// The ID trie below one first code: (c2 …, counter) → item id. Key: <c>{version}/{c1}</c>.
/// </summary>
public interface IIdPrefixGrain : IGrainWithStringKey
{
    /// <summary>Adds or moves items (full codes, c1 included) in this prefix.</summary>
    Task AddAsync(IReadOnlyList<PrefixEntry> entries);

    /// <summary>Item ids of full codes (null where the ID is unknown), in order.</summary>
    Task<IReadOnlyList<string?>> ResolveAsync(IReadOnlyList<long[]> codes);

    /// <summary>Items under a prefix (c1 plus optional later codes), up to <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<PrefixEntry>> ListAsync(long[] prefix, int limit);

    /// <summary>
    /// Items that got their IDs here from <see cref="AllocateAsync"/> (added to the catalog after the
    /// version was trained): what a freshly loaded model must add to its bundle's trie.
    /// </summary>
    Task<IReadOnlyList<PrefixEntry>> ListAllocatedAsync();

    Task<int> CountAsync();

    /// <summary>Drops this part of the trie (retired versions).</summary>
    Task ClearAsync();

    /// <summary>
    /// Gives a new item the first free collision counter of its learned codes (c1 first), skipping
    /// <paramref name="reserved"/> (counters the version's ID table holds for items not written yet),
    /// and stores it; an item already here keeps its ID. Throws when all <paramref name="counterSize"/> are taken.
    /// </summary>
    Task<long[]> AllocateAsync(string itemId, long[] learnedCodes, long[] reserved, int counterSize);
}

/// <summary>
/// Registered index versions and the active one. Singleton key: 0. Reads interleave with the slow
/// calls (activation warms inference grains, which read the registry while they load).
/// </summary>
public interface IIndexVersionGrain : IGrainWithIntegerKey
{
    /// <summary>Registers (or re-registers) a version; <paramref name="ready"/> false while its backfill runs.</summary>
    Task<IndexVersionInfo> RegisterAsync(string version, string bundlePath, int items, string task = "recommendation", bool ready = true);

    /// <summary>Marks a version's IDs as fully written (the end of its backfill).</summary>
    Task MarkReadyAsync(string version);

    /// <summary>
    /// Activates a ready version for its task once its inference grains have warmed up; then retires
    /// versions beyond the retention limit. Throws <see cref="InvalidOperationException"/> while the
    /// version's backfill is not complete.
    /// </summary>
    Task<ActivationResult> ActivateAsync(string version);

    /// <summary>Serves the previously active version again; returns it.</summary>
    Task<string> RollbackAsync();

    [AlwaysInterleave]
    Task<IndexVersionsState> GetAsync();

    [AlwaysInterleave]
    Task<string?> GetActiveAsync();

    [AlwaysInterleave]
    Task<string?> GetActiveSearchAsync();

    /// <summary>
    /// Subscribes a silo's cache of the registry to every change, for a minute (subscribe again to
    /// stay subscribed); returns the registry now. A change returns to its caller only once every
    /// subscriber has it (or did not answer within a couple of seconds).
    /// </summary>
    [AlwaysInterleave]
    Task<IndexVersionsState> SubscribeAsync(IIndexVersionObserver observer);
}

/// <summary>A silo's cache of the version registry, told of every change.</summary>
public interface IIndexVersionObserver : IGrainObserver
{
    Task OnVersionsChangedAsync(IndexVersionsState state);
}

/// <summary>
/// Writes a new version's IDs into a live cluster (key: job id): item grains and prefix grains in
/// batches, the cursor persisted after each batch, resumed by a reminder after a crash.
/// </summary>
public interface IBackfillGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts backfilling the serving bundle at <paramref name="bundlePath"/> (a path on the silos'
    /// disk). Starting a job again with the same bundle returns its progress.
    /// </summary>
    Task<BackfillProgress> StartAsync(string bundlePath);

    /// <summary>
    /// Starts removing a retired version from the cluster (job id <c>retire-{version}</c> by
    /// convention): its models unloaded, then each item's ID of it in batches, the cursor persisted
    /// after each, then its prefix grains. Starting it again returns its progress.
    /// </summary>
    Task<BackfillProgress> RetireAsync(IndexVersionInfo version);

    [AlwaysInterleave]
    Task<BackfillProgress?> GetProgressAsync();

    /// <summary>Stops the job after the batch in flight; what was written stays (the version is not marked ready).</summary>
    Task<BackfillProgress?> CancelAsync();
}

/// <summary>
/// The fine-tuned model of one version with dynamic batching. Key: <c>{version}/{replica}</c>.
/// Placed only on silos whose role is <c>gpu</c> (or anywhere, when configured to fall back).
/// </summary>
public interface IIndexerInferenceGrain : IGrainWithStringKey
{
    /// <summary>Generates up to <paramref name="beams"/> IDs for a history given oldest first.</summary>
    Task<GenerationResult> GenerateAsync(IReadOnlyList<ItemRecord> history, int beams);

    /// <summary>
    /// Generates for a history of item ids, oldest first: for versions whose model reads only the
    /// items' IDs (<see cref="IndexVersionInfo.ItemText"/> false), so no catalog records travel.
    /// </summary>
    Task<GenerationResult> GenerateFromItemIdsAsync(IReadOnlyList<string> history, int beams);

    /// <summary>Generates IDs for a free-text query (search bundles).</summary>
    Task<GenerationResult> SearchAsync(string query, int beams);

    Task<InferenceStats> GetStatsAsync();

    /// <summary>Loads the model and runs one generation, so that the first user request is not the slow one.</summary>
    Task WarmUpAsync();

    /// <summary>Unloads the model on this silo and deactivates (retired versions).</summary>
    Task UnloadAsync();

    /// <summary>Items that joined the catalog after the bundle was trained: their IDs join this replica's trie. Returns how many were new to it.</summary>
    Task<int> AddItemsAsync(IReadOnlyList<PrefixEntry> entries);

    /// <summary>The dense vector this version's model scores the item by (<see cref="ItemVector"/>).</summary>
    Task<ItemVector> GetItemVectorAsync(string itemId);
}

/// <summary>Item popularity of the whole cluster, merged from every silo's counts. Singleton key: 0.</summary>
public interface IPopularityGrain : IGrainWithIntegerKey
{
    /// <summary>Adds a silo's counts since its last merge.</summary>
    Task MergeAsync(IReadOnlyList<ItemEventCount> counts);

    Task<IReadOnlyList<PopularItem>> TopAsync(int count);
}

/// <summary>
/// A silo's popularity counter (one local activation per silo, key 0): users hand it their event
/// weights one-way, it merges them into <see cref="IPopularityGrain"/> every half second, and it
/// answers the top items from a copy at most a second old, so neither events nor fallbacks wait on
/// the singleton.
/// </summary>
public interface IPopularityCounterGrain : IGrainWithIntegerKey
{
    [OneWay]
    Task RecordAsync(IReadOnlyList<PopularItem> weights);

    Task<IReadOnlyList<PopularItem>> TopAsync(int count);
}
