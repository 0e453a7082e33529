using LMIndexer.Core.Data;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Text;
using LMIndexer.Core.Training;

namespace LMIndexer.Core.Downstream;

/// <summary>A text query and the item it should find.</summary>
public sealed record QueryPair(string Query, string ItemId);

/// <summary>Query pairs of a search or retrieval task, by split.</summary>
public sealed record QuerySplit(IReadOnlyList<QueryPair> Train, IReadOnlyList<QueryPair> Validation, IReadOnlyList<QueryPair> Test);

/// <summary>
/// Query → item ID tasks (product search, document retrieval). Training uses one row per
/// (query, item) pair; evaluation groups identical queries into one example with every item they
/// name, as the reference does.
/// </summary>
public static class QueryTask
{
    public static TaskData Build(QuerySplit split, SemanticIdTable table, CatalogTokenizer tokenizer, int maxSourceTokens, IEnumerable<QueryPair>? extraTraining = null)
    {
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(table);
        var itemIndex = new Dictionary<string, int>(table.Count, StringComparer.Ordinal);
        for (var i = 0; i < table.Count; i++)
            itemIndex[table.ItemIds[i]] = i;
        var encoded = new Dictionary<string, int[]>(StringComparer.Ordinal);
        int[] Encode(string query)
        {
            if (!encoded.TryGetValue(query, out var tokens))
                encoded[query] = tokens = tokenizer.EncodeWithEos(query, maxSourceTokens);
            return tokens;
        }
        List<GenerativeExample> Rows(IEnumerable<QueryPair> pairs) =>
            [.. pairs.Where(p => itemIndex.ContainsKey(p.ItemId)).Select(p => new GenerativeExample(Encode(p.Query), [itemIndex[p.ItemId]]))];
        List<GenerativeExample> Grouped(IEnumerable<QueryPair> pairs) =>
            [.. pairs.Where(p => itemIndex.ContainsKey(p.ItemId))
                .GroupBy(p => string.Join(',', Encode(p.Query)), StringComparer.Ordinal)
                .Select(g => new GenerativeExample(Encode(g.First().Query), [.. g.Select(p => itemIndex[p.ItemId]).Distinct()]))];
        var train = Rows(split.Train.Concat(extraTraining ?? []));
        var counts = new int[table.Count];
        foreach (var row in train)
            counts[row.Targets[0]]++;
        var popularity = Enumerable.Range(0, table.Count).OrderByDescending(i => counts[i]).ThenBy(i => i).ToList();
        return new TaskData(train, Grouped(split.Validation), Grouped(split.Test), popularity);
    }
}

/// <summary>
/// Product-search queries built from the catalog itself (no public query log is available here;
/// design §6): an item's title words are shuffled and cut into two halves. Two training queries use
/// the first half (leaf category + two words; brand + two words); the held-out query uses words of
/// the second half with the leaf category, so no test query is a training query of its item. One
/// item in ten holds its query out for validation, the rest for test. A proxy, reported as one.
/// </summary>
public static class ProxySearchQueries
{
    private static readonly HashSet<string> StopWords = new(["and", "for", "the", "with", "of", "in", "to", "oz", "fl", "pack", "set"], StringComparer.Ordinal);

    public static QuerySplit Build(IReadOnlyList<CatalogItem> items, int seed = 2023)
    {
        ArgumentNullException.ThrowIfNull(items);
        var random = new Random(seed);
        var train = new List<QueryPair>();
        var validation = new List<QueryPair>();
        var test = new List<QueryPair>();
        foreach (var item in items)
        {
            var leaf = item.PrimaryCategoryPath.Count > 0 ? item.PrimaryCategoryPath[^1].ToLowerInvariant() : string.Empty;
            var brand = item.Brand?.ToLowerInvariant() ?? string.Empty;
            // Brand and category words reach every query of the item anyway; the halves split the rest.
            var shared = Words(leaf + " " + brand).ToHashSet(StringComparer.Ordinal);
            var words = Words(item.Title ?? string.Empty).Where(w => !shared.Contains(w)).ToArray();
            random.Shuffle(words);
            var half = (words.Length + 1) / 2;
            var seen = words[..half];
            var held = words[half..];
            if (seen.Length == 0)
                continue;
            train.Add(new QueryPair(Join(leaf, seen.Take(2)), item.ItemId));
            train.Add(new QueryPair(Join(brand, seen.Skip(1).Take(2)), item.ItemId));
            if (held.Length == 0)
                continue;
            var query = new QueryPair(Join(leaf, held.Take(2)), item.ItemId);
            (random.Next(10) == 0 ? validation : test).Add(query);
        }
        return new QuerySplit(train, validation, test);
    }

    private static string[] Words(string title) =>
        [.. title.ToLowerInvariant()
            .Split([' ', ',', '-', '/', '(', ')', '&', '.', ':', ';', '"', '!'], StringSplitOptions.RemoveEmptyEntries)
            .Where(w => w.Length >= 3 && !StopWords.Contains(w) && !w.All(char.IsDigit))
            .Distinct()];

    private static string Join(string head, IEnumerable<string> words) =>
        string.Join(' ', new[] { head }.Concat(words).Where(w => w.Length > 0));
}

/// <summary>
/// Document retrieval over a Cranfield-style corpus: queries are split by a seeded shuffle (70 %
/// train, 10 % validation, 20 % test); every relevant document of a query is a target. The
/// documents' own texts can be added as training queries (DSI-style indexing examples).
/// </summary>
public static class RetrievalQueries
{
    public static QuerySplit Build(RetrievalCorpus corpus, int seed = 2023)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        var queries = corpus.Queries.Where(q => q.Relevant.Count > 0).ToArray();
        new Random(seed).Shuffle(queries);
        var trainEnd = (int)(queries.Length * 0.7);
        var validationEnd = (int)(queries.Length * 0.8);
        static List<QueryPair> Pairs(IEnumerable<RetrievalQuery> qs) =>
            [.. qs.SelectMany(q => q.Relevant.Keys.Order(StringComparer.Ordinal).Select(doc => new QueryPair(q.Text, doc)))];
        return new QuerySplit(Pairs(queries[..trainEnd]), Pairs(queries[trainEnd..validationEnd]), Pairs(queries[validationEnd..]));
    }

    /// <summary>Each document's own text as a query for itself.</summary>
    public static IEnumerable<QueryPair> DocumentQueries(RetrievalCorpus corpus) =>
        corpus.Documents.Select(d => new QueryPair(string.IsNullOrEmpty(d.Title) ? d.Text : $"{d.Title}. {d.Text}", d.Id));

    /// <summary>The corpus as catalog items, so that <c>index train</c> can learn the documents' IDs.</summary>
    public static IReadOnlyList<CatalogItem> AsItems(RetrievalCorpus corpus) =>
        [.. corpus.Documents.Select(d => new CatalogItem(d.Id, d.Title, d.Text))];
}

/// <summary>Trains search and retrieval models from index bundles.</summary>
public static class QueryTraining
{
    public static GenerativeOutcome Search(IReadOnlyList<CatalogItem> items, string indexBundleDirectory, GenerativePlan plan, bool itemTextQueries, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var split = ProxySearchQueries.Build(items, plan.FineTune.Seed);
        var extra = itemTextQueries ? items.Select(i => new QueryPair(ItemTextBuilder.Build(i), i.ItemId)) : null;
        var hash = Checkpoints.ModelBundle.HashOf(items.Select(ItemTextBuilder.Build));
        return GenerativeTraining.Run(indexBundleDirectory, plan, "search", hash,
            (bundle, table) => QueryTask.Build(split, table, bundle.Tokenizer, plan.Source.MaxSourceTokens, extra), progress, cancellationToken);
    }

    public static GenerativeOutcome Retrieval(RetrievalCorpus corpus, string indexBundleDirectory, GenerativePlan plan, bool documentQueries, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var split = RetrievalQueries.Build(corpus, plan.FineTune.Seed);
        var extra = documentQueries ? RetrievalQueries.DocumentQueries(corpus) : null;
        var hash = Checkpoints.ModelBundle.HashOf(corpus.Queries.Select(q => q.Id + "\t" + q.Text));
        return GenerativeTraining.Run(indexBundleDirectory, plan, "retrieval", hash,
            (bundle, table) => QueryTask.Build(split, table, bundle.Tokenizer, plan.Source.MaxSourceTokens, extra), progress, cancellationToken);
    }
}
