using Orleans.Concurrency;

namespace LMIndexer.Abstractions;

/// <summary>
/// One shard of the catalog's search index: word BM25 and, when the silos have a text encoder,
/// sentence vectors of the items whose id hashes to it. Key: shard number (see <c>CatalogSearchShards</c>).
/// Searches read the shard concurrently; upserts wait for running searches.
/// </summary>
public interface ICatalogSearchGrain : IGrainWithIntegerKey
{
    /// <summary>Indexes or re-indexes items (their text from title, brand, categories, description).</summary>
    Task UpsertAsync(IReadOnlyList<ItemRecord> records);

    [ReadOnly]
    Task<CatalogSearchHits> SearchAsync(CatalogQuery query);

    [ReadOnly]
    Task<int> CountAsync();
}

/// <summary>A search query prepared once by the caller: its words and, with an encoder, its unit vector.</summary>
[GenerateSerializer, Immutable]
public sealed record CatalogQuery(
    [property: Id(0)] IReadOnlyList<string> Terms,
    [property: Id(1)] float[]? Vector,
    [property: Id(2)] int Candidates);

/// <summary>A shard's best items by BM25 and by cosine, each best first.</summary>
[GenerateSerializer, Immutable]
public sealed record CatalogSearchHits(
    [property: Id(0)] IReadOnlyList<ScoredItem> Lexical,
    [property: Id(1)] IReadOnlyList<ScoredItem> Dense);

[GenerateSerializer, Immutable]
public sealed record ScoredItem([property: Id(0)] string ItemId, [property: Id(1)] double Score);
