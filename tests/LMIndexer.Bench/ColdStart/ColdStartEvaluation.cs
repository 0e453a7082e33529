using LMIndexer.Abstractions;
using LMIndexer.Core.Data;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Recipes;
using LMIndexer.Core.Text;
using LMIndexer.Grains.Inference;
using LMIndexer.Grains.Items;
using Microsoft.Extensions.Logging.Abstractions;

namespace LMIndexer.Bench.ColdStart;

/// <summary>One user's test item and what each system scored on it (hit in the top 10, its NDCG@10).</summary>
public sealed record ColdStartScores(IReadOnlyList<double> Recall, IReadOnlyList<double> Ndcg);

/// <summary>The figures of one trained seed.</summary>
public sealed record ColdStartSeedResult(
    int Seed, int ColdItems, int ColdItemsWithIds, double ProjectionCosine,
    IReadOnlyDictionary<string, ColdStartScores> ColdUsers, IReadOnlyDictionary<string, ColdStartScores> AllUsers);

/// <summary>
/// New items from their text alone: a share of the catalog's items (fixed by a seed) is left out of
/// every training stage (pretraining, semantic IDs, the recommender's sequences); after training they
/// join through the product's new-item path (IDs from the trained indexer with the next free
/// collision counter, dense vectors through the bundle's text projection) and the users whose test
/// item is one of them are ranked. Nothing is chosen here: the recipe is fixed before, and test
/// items are read once per trained seed.
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

    /// <summary>Adds the cold items to a trained run and ranks the full catalog's users with and without their text vectors.</summary>
    public static async Task<ColdStartSeedResult> EvaluateAsync(Catalog catalog, IReadOnlySet<string> cold, Catalog training, TrainingRun run, int seed, int overallUsers,
        string scratch, CancellationToken cancellation)
    {
        var byId = catalog.Items.ToDictionary(i => i.ItemId, StringComparer.Ordinal);
        var coldItems = catalog.Items.Where(i => cold.Contains(i.ItemId)).ToList();
        var serving = ServingBundle.Load(run.ServingDirectory);
        var projection = serving.Projection ?? throw new InvalidOperationException($"{run.ServingDirectory} has no text projection: the recipe's recommender needs a dense item head.");
        var entries = NewIds(run, serving.Table, coldItems);

        // The same bundle without its projection: new items rank by their IDs alone.
        var plain = Path.Combine(scratch, $"no-text-vectors-{seed}");
        if (Directory.Exists(plain))
            Directory.Delete(plain, recursive: true);
        ServingBundle.CopyAsVersion(run.ServingDirectory, plain, serving.Version + "-no-text");
        File.Delete(Path.Combine(plain, ItemTextProjection.FileName));

        using var withText = new InferenceEngine(serving, new InferenceOptions(), NullLogger.Instance);
        using var noText = new InferenceEngine(ServingBundle.Load(plain), new InferenceOptions(), NullLogger.Instance);
        withText.AddItems(entries, [.. entries.Select(e => ItemTextBuilder.Build(byId[e.ItemId]))]);
        noText.AddItems(entries);

        var withIds = entries.Select(e => e.ItemId).ToHashSet(StringComparer.Ordinal);
        var popular = training.Users.SelectMany(u => u.ItemIds).GroupBy(id => id, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Take(Cutoff).Select(g => g.Key).ToList();
        var testUsers = catalog.Users.Where(u => u.ItemIds.Count >= 3).ToList();
        // Fixed across seeds, so that a user's scores pair up: a cold item the indexer gave no ID counts as a miss.
        var coldUsers = testUsers.Where(u => cold.Contains(u.ItemIds[^1])).ToList();
        var sample = testUsers.ToArray();
        new Random(0).Shuffle(sample);
        var overall = sample.Take(overallUsers).ToList();
        var random = new Random(seed);
        var coldPool = withIds.Order(StringComparer.Ordinal).ToArray();

        async Task<Dictionary<string, ColdStartScores>> Score(IReadOnlyList<UserSequence> users, bool baselines)
        {
            var lists = new Dictionary<string, (List<double> Recall, List<double> Ndcg)>
            {
                [WithTextVectors] = ([], []),
                [NoTextVectors] = ([], []),
            };
            if (baselines)
            {
                lists[Popularity] = ([], []);
                lists[RandomCold] = ([], []);
            }
            foreach (var user in users)
            {
                cancellation.ThrowIfCancellationRequested();
                var target = user.ItemIds[^1];
                IReadOnlyList<ItemRecord> history = [.. user.ItemIds.SkipLast(1).Select(id => byId[id].ToRecord())];
                var answers = await Task.WhenAll(withText.GenerateAsync(history, 20), noText.GenerateAsync(history, 20));
                Add(WithTextVectors, answers[0].Ids.Select(g => g.ItemId));
                Add(NoTextVectors, answers[1].Ids.Select(g => g.ItemId));
                if (baselines)
                {
                    Add(Popularity, popular);
                    Add(RandomCold, coldPool.OrderBy(_ => random.Next()).Take(Cutoff));
                }

                void Add(string system, IEnumerable<string> ranked)
                {
                    var rank = ranked.Take(Cutoff).Select((id, i) => (id, i)).FirstOrDefault(p => p.id == target, (null!, -1)).Item2;
                    lists[system].Recall.Add(rank >= 0 ? 1 : 0);
                    lists[system].Ndcg.Add(rank >= 0 ? 1 / Math.Log2(rank + 2) : 0);
                }
            }
            return lists.ToDictionary(kv => kv.Key, kv => new ColdStartScores(kv.Value.Recall, kv.Value.Ndcg));
        }

        var coldScores = await Score(coldUsers, baselines: true);
        var allScores = await Score(overall, baselines: false);
        return new ColdStartSeedResult(seed, coldItems.Count, entries.Count, projection.HeldOutCosine, coldScores, allScores);
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
