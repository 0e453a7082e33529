using LMIndexer.Core.Downstream;
using LMIndexer.Core.Evaluation;
using LMIndexer.Core.Retrieval;

namespace LMIndexer.Core.Encoders;

/// <summary>How well a sentence encoder retrieves: NDCG@10 of exact inner-product search over every item, alone or fused with BM25 as search serves it.</summary>
public static class DenseRetrievalScore
{
    /// <summary>The dense weights a hybrid choice tries (BM25's is 1; 0 is BM25 alone).</summary>
    public static readonly double[] HybridWeights = [0, 0.1, 0.25, 0.5, 1, 2, 4];

    /// <summary>
    /// NDCG@10 (binary relevance) over the distinct query texts of <paramref name="queries"/>, each
    /// with every item its pairs name, ranking all of <paramref name="texts"/>' items.
    /// </summary>
    public static double Ndcg10(TrainableSentenceEncoder encoder, IReadOnlyList<QueryPair> queries, IReadOnlyDictionary<string, string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        var (ids, grouped, dense) = Rank(t => encoder.Embed(t, cancellationToken: cancellationToken), encoder.Package.QueryPrefix, queries, texts, 10);
        return grouped.Select((q, i) => Ndcg10(dense[i].Select(r => ids[r]), q.Relevant)).Average();
    }

    /// <summary>
    /// NDCG@10 of the ranking <c>/api/search</c> serves for each dense weight: word BM25 (weight 1) and
    /// the encoder's dense ranking, <paramref name="candidates"/> each, fused by reciprocal rank.
    /// </summary>
    /// <param name="embed">The encoder as it will be served (texts to unit vectors).</param>
    /// <param name="queryPrefix">What the encoder puts before a query (its package's).</param>
    public static double[] HybridNdcg10(Func<IReadOnlyList<string>, float[][]> embed, string queryPrefix, IReadOnlyList<QueryPair> queries, IReadOnlyDictionary<string, string> texts,
        IReadOnlyList<double> weights, int candidates = 100)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var (ids, grouped, dense) = Rank(embed, queryPrefix, queries, texts, candidates);
        var lexical = new Bm25Index<string>();
        foreach (var id in ids)
            lexical.Upsert(id, SearchTextAnalyzer.Terms(texts[id]));
        var scores = new double[weights.Count];
        for (var q = 0; q < grouped.Count; q++)
        {
            var bm25 = lexical.Search(SearchTextAnalyzer.Terms(grouped[q].Text), candidates).Select(h => h.Key).ToList();
            var denseKeys = dense[q].Select(r => ids[r]).ToList();
            for (var w = 0; w < weights.Count; w++)
            {
                var fused = RankFusion.Reciprocal([new(bm25, 1), new(denseKeys, weights[w])], 10);
                scores[w] += Ndcg10(fused.Select(f => f.Key), grouped[q].Relevant);
            }
        }
        return [.. scores.Select(s => s / grouped.Count)];
    }

    private static (string[] Ids, List<(string Text, HashSet<string> Relevant)> Grouped, int[][] Dense) Rank(Func<IReadOnlyList<string>, float[][]> embed, string queryPrefix,
        IReadOnlyList<QueryPair> queries, IReadOnlyDictionary<string, string> texts, int top)
    {
        ArgumentNullException.ThrowIfNull(embed);
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(texts);
        var ids = texts.Keys.Order(StringComparer.Ordinal).ToArray();
        var grouped = queries.Where(q => texts.ContainsKey(q.ItemId))
            .GroupBy(q => q.Query, StringComparer.Ordinal)
            .Select(g => (Text: g.Key, Relevant: g.Select(q => q.ItemId).ToHashSet(StringComparer.Ordinal)))
            .ToList();
        if (grouped.Count == 0)
            throw new ArgumentException("No query names an item of the catalog.", nameof(queries));
        using var items = new ExactVectorIndex(embed([.. ids.Select(id => texts[id])]));
        var found = items.Search(embed([.. grouped.Select(q => queryPrefix + q.Text)]), Math.Min(top, ids.Length));
        return (ids, grouped, found);
    }

    // Binary relevance, ideal over min(|relevant|, 10): the textbook definition.
    private static double Ndcg10(IEnumerable<string> ranked, HashSet<string> relevant) =>
        RankingMetrics.Score([.. ranked], relevant, 10, MetricDefinition.Standard).Ndcg;
}
