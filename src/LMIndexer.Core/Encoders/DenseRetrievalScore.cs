using LMIndexer.Core.Downstream;
using LMIndexer.Core.Retrieval;

namespace LMIndexer.Core.Encoders;

/// <summary>How well a sentence encoder retrieves: NDCG@10 of exact inner-product search over every item, for fine-tuning's validations.</summary>
public static class DenseRetrievalScore
{
    /// <summary>
    /// NDCG@10 (binary relevance) over the distinct query texts of <paramref name="queries"/>, each
    /// with every item its pairs name, ranking all of <paramref name="texts"/>' items.
    /// </summary>
    public static double Ndcg10(TrainableSentenceEncoder encoder, IReadOnlyList<QueryPair> queries, IReadOnlyDictionary<string, string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        var ids = texts.Keys.Order(StringComparer.Ordinal).ToArray();
        var row = ids.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i, StringComparer.Ordinal);
        var grouped = queries.Where(q => row.ContainsKey(q.ItemId))
            .GroupBy(q => q.Query, StringComparer.Ordinal)
            .Select(g => (Text: g.Key, Relevant: g.Select(q => row[q.ItemId]).ToHashSet()))
            .ToList();
        if (grouped.Count == 0)
            throw new ArgumentException("No query names an item of the catalog.", nameof(queries));
        using var items = new ExactVectorIndex(encoder.Embed([.. ids.Select(id => texts[id])], cancellationToken: cancellationToken));
        var found = items.Search(encoder.Embed([.. grouped.Select(q => encoder.Package.QueryPrefix + q.Text)], cancellationToken: cancellationToken), 10);
        return grouped.Select((q, i) =>
        {
            var dcg = found[i].Select((item, rank) => q.Relevant.Contains(item) ? 1 / Math.Log2(rank + 2) : 0).Sum();
            var ideal = Enumerable.Range(0, Math.Min(10, q.Relevant.Count)).Sum(rank => 1 / Math.Log2(rank + 2));
            return dcg / ideal;
        }).Average();
    }
}
