using LMIndexer.Abstractions;
using LMIndexer.Core.Data;
using LMIndexer.Core.Generation;
using LMIndexer.Core.Runtime;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Recipes;
using LMIndexer.Core.Text;
using LMIndexer.Grains.Inference;
using LMIndexer.Grains.Items;
using Microsoft.Extensions.Logging.Abstractions;

namespace LMIndexer.Bench.ColdStart;

/// <summary>Each user's hit in the top 10 and NDCG@10 under one system, users in a fixed order.</summary>
public sealed record ColdStartScores(IReadOnlyList<double> Recall, IReadOnlyList<double> Ndcg)
{
    /// <summary>Share of the top-10 slots that went to cold items, over the users (how far the cold path reaches into every answer).</summary>
    public double ColdShare { get; init; }
}

/// <summary>How the served recommender treats items added with vectors from their text: the candidates chosen between on validation.</summary>
public sealed record ColdStartCandidate(NewItemSequence Sequence, NewItemVectorScale Scale, double Boost, NewItemVectorSource Source = NewItemVectorSource.Projection)
{
    /// <summary>The boosts (nats) the recorded run chooses between.</summary>
    public static readonly IReadOnlyList<double> DefaultBoosts = [0, 2, 3, 4, 6];

    /// <summary>Every combination at these boosts and vector sources (all three when none are given), the product's plainest first, so that a tie keeps it.</summary>
    public static IReadOnlyList<ColdStartCandidate> Grid(IReadOnlyList<double> boosts, IReadOnlyList<NewItemVectorSource>? sources = null) =>
        [.. from source in sources ?? Enum.GetValues<NewItemVectorSource>()
            from boost in boosts
            from scale in new[] { NewItemVectorScale.Projected, NewItemVectorScale.TrainedNorm }
            from sequence in new[] { NewItemSequence.FullId, NewItemSequence.Prefix }
            select new ColdStartCandidate(sequence, scale, boost, source)];

    /// <summary>The sequence, the vector source (unless it is the linear projection, so that earlier runs' names still read the same), the scale and the boost.</summary>
    public string Name => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{OptionSpelling.Name(Sequence)}/{(Source == NewItemVectorSource.Projection ? "" : OptionSpelling.Name(Source) + "/")}{OptionSpelling.Name(Scale)}/boost-{Boost:0.#}");

    public InferenceOptions Options() => new() { NewItemSequence = Sequence, NewItemVectorScale = Scale, NewItemBoost = Boost, NewItemVectorSource = Source };
}

/// <summary>One split's users: a history (oldest first) and the item that followed it.</summary>
public sealed record ColdStartQueries(IReadOnlyList<(IReadOnlyList<ItemRecord> History, string Target)> Users);

/// <summary>
/// One trained seed with the cold items added back: engines for every <see cref="ColdStartCandidate"/>
/// and for the bundle without its projection, ranking the users of either split.
/// </summary>
public sealed class ColdStartSeed : IDisposable
{
    private readonly Func<ColdStartCandidate?, InferenceEngine> engineFor;
    private readonly HashSet<string> cold;
    // One engine at a time: each holds its bundle and a sentence encoder, and thirteen per seed
    // held together ran a 23 GiB machine out of memory.
    private (ColdStartCandidate? Candidate, InferenceEngine Engine)? current;

    internal ColdStartSeed(int seed, int coldItems, IReadOnlyList<PrefixEntry> entries, ItemTextProjection projection, Func<ColdStartCandidate?, InferenceEngine> engine, HashSet<string> cold)
    {
        Seed = seed;
        ColdItems = coldItems;
        Entries = entries;
        ProjectionCosine = projection.HeldOutCosine;
        NeighboursCosine = projection.Neighbours!.HeldOutCosine;
        Ranking = projection.Ranking!;
        engineFor = engine;
        this.cold = cold;
    }

    public int Seed { get; }
    public int ColdItems { get; }
    public IReadOnlyList<PrefixEntry> Entries { get; }
    public double ProjectionCosine { get; }
    public double NeighboursCosine { get; }

    /// <summary>How the ranking map was chosen: held-out training items ranked through it and through the ridge map.</summary>
    public RankingMapReport Ranking { get; }

    /// <summary>
    /// Ranks <paramref name="queries"/> with the candidate's engine (null: without text vectors).
    /// The engine is made on first use and kept until another candidate is asked for, so callers
    /// should finish one candidate before the next.
    /// </summary>
    public async Task<ColdStartScores> ScoreAsync(ColdStartCandidate? candidate, ColdStartQueries queries, CancellationToken cancellation)
    {
        if (current is not { } held || !Equals(held.Candidate, candidate))
        {
            current?.Engine.Dispose();
            current = null;
            current = (candidate, engineFor(candidate));
        }
        var engine = current.Value.Engine;
        var answers = new List<IReadOnlyList<string>>(queries.Users.Count);
        // 64 at a time, so the engine decodes them in batches as it does under load.
        foreach (var chunk in queries.Users.Chunk(64))
        {
            cancellation.ThrowIfCancellationRequested();
            var generated = await Task.WhenAll(chunk.Select(user => engine.GenerateAsync(user.History, 20)));
            answers.AddRange(generated.Select(g => (IReadOnlyList<string>)[.. g.Ids.Select(id => id.ItemId)]));
        }
        return ColdStartEvaluation.Score(queries, answers, cold);
    }

    /// <summary>Releases the engine held; a later <see cref="ScoreAsync"/> makes a new one.</summary>
    public void Dispose()
    {
        current?.Engine.Dispose();
        current = null;
    }
}

/// <summary>
/// New items from their text alone: a share of the catalog's items (fixed by a seed) is left out of
/// every training stage (pretraining, semantic IDs, the recommender's sequences); after training they
/// join through the product's new-item path (IDs from the trained indexer with the next free
/// collision counter, dense vectors through the bundle's text projection) and the users whose last
/// item is one of them are ranked. How new items are scored (<see cref="ColdStartCandidate"/>) is
/// chosen on the users whose validation item (their second-to-last) is cold; test items are read
/// once, for the choice.
/// </summary>
public static class ColdStartEvaluation
{
    public const int Cutoff = 10;
    public const string WithTextVectors = "lmindexer", NoTextVectors = "no-text-vectors", Popularity = "popularity", RandomCold = "random-cold";

    /// <summary>The items left out of training: <paramref name="share"/> of the catalog, drawn by <paramref name="seed"/>.</summary>
    public static HashSet<string> ColdItems(Catalog catalog, double share, int seed)
    {
        var ids = catalog.Items.Select(i => i.ItemId).Order(StringComparer.Ordinal).ToArray();
        new Random(seed).Shuffle(ids);
        return new HashSet<string>(ids.Take((int)Math.Ceiling(share * ids.Length)), StringComparer.Ordinal);
    }

    /// <summary>The catalog without the cold items: they leave the item list and every sequence (users left with fewer than 3 items leave too).</summary>
    public static Catalog WithoutCold(Catalog catalog, IReadOnlySet<string> cold) => new(
        [.. catalog.Items.Where(i => !cold.Contains(i.ItemId))],
        [.. catalog.Users.Select(u => u with { ItemIds = [.. u.ItemIds.Where(id => !cold.Contains(id))] }).Where(u => u.ItemIds.Count >= 3)]);

    /// <summary>
    /// The queries of a split over the full catalog's users with at least 3 items: <paramref name="fromEnd"/>
    /// 1 is test (the last item), 2 validation (the second-to-last, with the history before it).
    /// <paramref name="keep"/> picks the users (by their target); the order is the catalog's.
    /// </summary>
    public static ColdStartQueries Queries(Catalog catalog, int fromEnd, Func<UserSequence, string, bool> keep)
    {
        var byId = catalog.Items.ToDictionary(i => i.ItemId, StringComparer.Ordinal);
        return new([.. catalog.Users.Where(u => u.ItemIds.Count >= 3 && keep(u, u.ItemIds[^fromEnd]))
            .Select(u => ((IReadOnlyList<ItemRecord>)[.. u.ItemIds.Take(u.ItemIds.Count - fromEnd).Select(id => byId[id].ToRecord())], u.ItemIds[^fromEnd]))]);
    }

    /// <summary>A fixed sample of the users with at least 3 items (the same for every seed and split, so scores pair up).</summary>
    public static HashSet<string> Sample(Catalog catalog, int count)
    {
        var users = catalog.Users.Where(u => u.ItemIds.Count >= 3).Select(u => u.UserId).ToArray();
        new Random(0).Shuffle(users);
        return [.. users.Take(count)];
    }

    /// <summary>Hits and NDCG@10 of ranked answers against the queries' targets, and the cold items' share of the slots.</summary>
    public static ColdStartScores Score(ColdStartQueries queries, IReadOnlyList<IReadOnlyList<string>> answers, IReadOnlySet<string> cold)
    {
        var recall = new List<double>(queries.Users.Count);
        var ndcg = new List<double>(queries.Users.Count);
        var coldSlots = 0;
        for (var u = 0; u < queries.Users.Count; u++)
        {
            var top = answers[u].Take(Cutoff).ToList();
            var rank = top.IndexOf(queries.Users[u].Target);
            recall.Add(rank >= 0 ? 1 : 0);
            ndcg.Add(rank >= 0 ? 1 / Math.Log2(rank + 2) : 0);
            coldSlots += top.Count(cold.Contains);
        }
        return new ColdStartScores(recall, ndcg) { ColdShare = queries.Users.Count == 0 ? 0 : coldSlots / (double)(queries.Users.Count * Cutoff) };
    }

    /// <summary>Adds the cold items to a trained run: their IDs, and engines for every candidate and for the bundle without its projection.</summary>
    public static ColdStartSeed Prepare(Catalog catalog, IReadOnlySet<string> cold, TrainingRun run, int seed, string scratch)
    {
        var byId = catalog.Items.ToDictionary(i => i.ItemId, StringComparer.Ordinal);
        var coldItems = catalog.Items.Where(i => cold.Contains(i.ItemId)).ToList();
        var serving = ServingBundle.Load(run.ServingDirectory);
        var projection = serving.Projection ?? throw new InvalidOperationException($"{run.ServingDirectory} has no text projection: the recipe's recommender needs a dense item head.");
        if (projection.Neighbours is null || projection.Ranking is null)
        {
            // A run trained before the neighbour pool or the ranking map existed: fitted again from its
            // training sequences (the linear map comes out the same; the ranking map's sample of
            // examples may differ from the one training would draw, which counts every pass).
            var items = catalog.Items.ToDictionary(i => i.ItemId, StringComparer.Ordinal);
            var source = new HistorySource(serving.Bundle.Tokenizer, items, serving.Table, serving.Source);
            var windows = Enum.Parse<TrainingWindows>(serving.Bundle.Manifest.Properties.GetValueOrDefault("windows", nameof(TrainingWindows.Reference)));
            var examples = RecommendationTask.Build(WithoutCold(catalog, cold), serving.Table, source, windows, passes: 1, seed).Train;
            projection = ColdStartProjection.Fit(serving.Bundle, serving.Table, catalog.Items, training: examples)!;
            projection.Save(run.ServingDirectory);
        }
        var entries = NewIds(run, serving.Table, coldItems);
        var version = serving.Version;
        serving.Dispose();
        var texts = entries.Select(e => ItemTextBuilder.Build(byId[e.ItemId])).ToList();

        // The same bundle without its projection: new items rank by their IDs alone.
        var plain = Path.Combine(scratch, $"no-text-vectors-{seed}");
        if (Directory.Exists(plain))
            Directory.Delete(plain, recursive: true);
        ServingBundle.CopyAsVersion(run.ServingDirectory, plain, version + "-no-text");
        File.Delete(Path.Combine(plain, ItemTextProjection.FileName));

        InferenceEngine Engine(ColdStartCandidate? candidate)
        {
            var options = candidate?.Options() ?? new InferenceOptions();
            var engine = new InferenceEngine(ServingBundle.Load(candidate is null ? plain : run.ServingDirectory), options, NullLogger.Instance);
            if (candidate is null)
                engine.AddItems(entries);
            else
                engine.AddItems(entries, texts);
            return engine;
        }
        return new ColdStartSeed(seed, coldItems.Count, entries, projection, Engine, new HashSet<string>(cold, StringComparer.Ordinal));
    }

    /// <summary>The most popular training items (the popularity baseline's answer for everyone).</summary>
    public static IReadOnlyList<string> Popular(Catalog training) => [.. training.Users.SelectMany(u => u.ItemIds).GroupBy(id => id, StringComparer.Ordinal)
        .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Take(Cutoff).Select(g => g.Key)];

    /// <summary>Ten cold items drawn at random for each user, among those that got an ID.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> RandomColdAnswers(ColdStartQueries queries, IReadOnlyList<PrefixEntry> entries, int seed)
    {
        var pool = entries.Select(e => e.ItemId).Order(StringComparer.Ordinal).ToArray();
        var random = new Random(seed);
        return [.. queries.Users.Select(_ => (IReadOnlyList<string>)[.. pool.OrderBy(_ => random.Next()).Take(Cutoff)])];
    }

    /// <summary>IDs for new items as the cluster gives them: the indexer's learned codes and the first collision counter no item holds.</summary>
    private static List<PrefixEntry> NewIds(TrainingRun run, SemanticIdTable table, IReadOnlyList<CatalogItem> items)
    {
        using var indexer = IndexerBundle.Load(run.IndexerDirectory);
        var maxTokens = int.Parse(indexer.Bundle.Manifest.Properties.GetValueOrDefault("maxTokens", "64"), System.Globalization.CultureInfo.InvariantCulture);
        var counters = indexer.Bundle.Tokenizer.IdPositionSizes[^1];
        var learned = indexer.AssignCodes([.. items.Select(ItemTextBuilder.Build)], maxTokens);
        var taken = table.Ids.GroupBy(id => string.Join('-', id[..^1])).ToDictionary(g => g.Key, g => g.Select(id => id[^1]).ToHashSet(), StringComparer.Ordinal);
        var entries = new List<PrefixEntry>();
        for (var i = 0; i < items.Count; i++)
        {
            var key = string.Join('-', learned[i]);
            var used = taken.TryGetValue(key, out var set) ? set : taken[key] = [];
            var counter = Enumerable.Range(0, counters).Select(c => (long)c).FirstOrDefault(c => !used.Contains(c), -1);
            if (counter < 0)
                continue;   // every counter of these codes is taken: the cluster refuses such an item too
            used.Add(counter);
            entries.Add(new PrefixEntry([.. learned[i], counter], items[i].ItemId));
        }
        return entries;
    }
}
