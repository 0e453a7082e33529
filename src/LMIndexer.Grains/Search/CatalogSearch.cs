using LMIndexer.Abstractions;
using LMIndexer.Core.Retrieval;
using LMIndexer.Grains.Inference;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LMIndexer.Grains.Search;

/// <summary>What a search found: fused items best first, the generative version that took part, and whether a ranker was left out.</summary>
public sealed record CatalogSearchResult(string? Version, IReadOnlyList<ScoredItem> Items, bool Degraded);

/// <summary>
/// Product search over the catalog the cluster holds: word BM25 and dense ranking from the search
/// shards, fused by reciprocal rank with the active search version's generated IDs when those are
/// weighted in. A generative model that has not answered by the deadline (counted from the start of
/// the request) or that fails is left out, and the answer is marked degraded.
/// </summary>
public sealed class CatalogSearch(
    IGrainFactory grains,
    IOptions<SearchOptions> options,
    IOptions<InferenceOptions> inference,
    ItemTextEmbedder embedder,
    Versions.ServedVersions versions,
    InferenceRoute route,
    ILogger<CatalogSearch> logger)
{
    /// <summary>The active search version's items for a query, best first, by the deadline; no version: (null, none).</summary>
    public delegate Task<(string? Version, IReadOnlyList<string> ItemIds)> GenerativeRanker(string query, int beams, DateTime deadline, CancellationToken cancellationToken);

    public Task<CatalogSearchResult> SearchAsync(string query, int count, CancellationToken cancellationToken = default) =>
        SearchAsync(query, count, GenerateAsync, cancellationToken);

    /// <param name="generate">The generative ranker; tests give one that is slow or fails.</param>
    public async Task<CatalogSearchResult> SearchAsync(string query, int count, GenerativeRanker generate, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var settings = options.Value;
        var candidates = Math.Max(settings.Candidates, count);
        var deadline = DateTime.UtcNow.AddMilliseconds(settings.GenerativeTimeoutMilliseconds);
        // The model runs while the shards search.
        var generative = settings.GenerativeWeight > 0 ? generate(query, Math.Max(count, inference.Value.Beams), deadline, cancellationToken) : null;
        var request = new CatalogQuery(SearchTextAnalyzer.Terms(query), embedder.Enabled && settings.DenseWeight > 0 ? embedder.EmbedQuery(query) : null, candidates);
        var shards = await Task.WhenAll(CatalogSearchShards.All(grains).Select(shard => shard.SearchAsync(request)));
        List<WeightedRanking> rankings =
        [
            new(Best(shards.SelectMany(s => s.Lexical), candidates), settings.LexicalWeight),
            new(Best(shards.SelectMany(s => s.Dense), candidates), settings.DenseWeight),
        ];
        string? version = null;
        var degraded = false;
        if (generative is not null)
        {
            try
            {
                var (generatedVersion, ids) = await generative.WaitAsync(Deadline.Left(deadline), cancellationToken);
                if (generatedVersion is not null)
                {
                    version = generatedVersion;
                    rankings.Add(new(ids, settings.GenerativeWeight));
                }
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Search answered without the generative model");
                degraded = true;
            }
        }
        var fused = RankFusion.Reciprocal(rankings, count);
        return new CatalogSearchResult(version, [.. fused.Select(f => new ScoredItem(f.Key, f.Score))], degraded);
    }

    private static List<string> Best(IEnumerable<ScoredItem> hits, int candidates) =>
        [.. hits.OrderByDescending(h => h.Score).ThenBy(h => h.ItemId, StringComparer.Ordinal).Take(candidates).Select(h => h.ItemId)];

    private async Task<(string? Version, IReadOnlyList<string> ItemIds)> GenerateAsync(string query, int beams, DateTime deadline, CancellationToken cancellationToken)
    {
        if (await versions.ActiveSearchAsync() is not { } version)
            return (null, []);
        var generated = await route.SearchAsync(version, query, beams, deadline, cancellationToken);
        return (generated.Version, [.. generated.Ids.Select(g => g.ItemId).Distinct(StringComparer.Ordinal)]);
    }
}
