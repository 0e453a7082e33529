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

    Task<ItemRecord?> GetAsync();

    Task<ItemDetails?> GetDetailsAsync();

    Task SetSemanticIdAsync(VersionedSemanticId id);
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

    Task<int> CountAsync();
}

/// <summary>Registered index versions and the active one. Singleton key: 0.</summary>
public interface IIndexVersionGrain : IGrainWithIntegerKey
{
    Task<IndexVersionInfo> RegisterAsync(string version, string bundlePath, int items, string task = "recommendation");

    /// <summary>Activates a version for its task: recommendation versions serve recommendations, search versions serve search.</summary>
    Task ActivateAsync(string version);

    Task<string> RollbackAsync();

    Task<IndexVersionsState> GetAsync();

    Task<string?> GetActiveAsync();

    Task<string?> GetActiveSearchAsync();
}

/// <summary>
/// The fine-tuned model of one version with dynamic batching. Key: <c>{version}/{replica}</c>.
/// Placed only on silos whose role is <c>gpu</c> (or anywhere, when configured to fall back).
/// </summary>
public interface IIndexerInferenceGrain : IGrainWithStringKey
{
    /// <summary>Generates up to <paramref name="beams"/> IDs for a history given oldest first.</summary>
    Task<GenerationResult> GenerateAsync(IReadOnlyList<ItemRecord> history, int beams);

    /// <summary>Generates IDs for a free-text query (search bundles).</summary>
    Task<GenerationResult> SearchAsync(string query, int beams);

    Task<InferenceStats> GetStatsAsync();
}

/// <summary>Item popularity from events. Singleton key: 0.</summary>
public interface IPopularityGrain : IGrainWithIntegerKey
{
    [OneWay]
    Task RecordAsync(IReadOnlyList<PopularItem> weights);

    Task<IReadOnlyList<PopularItem>> TopAsync(int count);
}
