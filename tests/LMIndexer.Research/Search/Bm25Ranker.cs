using LMIndexer.Core.Text;

namespace LMIndexer.Research.Search;

/// <summary>
/// Okapi BM25 over the catalog tokenizer's tokens: the lexical baseline that generative retrieval
/// is measured against. Scoring sub-word tokens instead of words keeps query and document
/// processing identical to what the seq2seq models see (same truncation, same vocabulary).
/// score(q, d) = Σ_t idf(t) · tf(t,d)·(k1+1) / (tf(t,d) + k1·(1 − b + b·|d|/avgdl)),
/// idf(t) = ln(1 + (N − df + 0.5)/(df + 0.5)) — Lucene's non-negative idf.
/// </summary>
public sealed class Bm25Ranker
{
    private readonly Dictionary<int, (int Document, int Count)[]> postings;
    private readonly double[] lengthNorm;   // k1·(1 − b + b·|d|/avgdl) per document
    private readonly int documents;
    private readonly double k1;

    /// <param name="documentTokens">Per document (index = item index): its tokens.</param>
    public Bm25Ranker(IReadOnlyList<int[]> documentTokens, double k1 = 1.2, double b = 0.75)
    {
        ArgumentNullException.ThrowIfNull(documentTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(k1);
        if (b is < 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(b), b, "b lies in [0, 1].");
        this.k1 = k1;
        documents = documentTokens.Count;
        var lists = new Dictionary<int, List<(int, int)>>();
        long totalLength = 0;
        for (var d = 0; d < documents; d++)
        {
            var tokens = documentTokens[d].Where(t => !IsSpecial(t)).ToArray();
            totalLength += tokens.Length;
            foreach (var group in tokens.GroupBy(t => t))
            {
                if (!lists.TryGetValue(group.Key, out var list))
                    lists[group.Key] = list = [];
                list.Add((d, group.Count()));
            }
        }
        postings = lists.ToDictionary(p => p.Key, p => p.Value.ToArray());
        var averageLength = documents == 0 ? 0 : (double)totalLength / documents;
        lengthNorm = [.. documentTokens.Select(t => k1 * (1 - b + b * (averageLength == 0 ? 0 : t.Count(x => !IsSpecial(x)) / averageLength)))];
    }

    /// <summary>BM25 score of every document for the query. // [documents]</summary>
    public double[] Scores(IEnumerable<int> queryTokens)
    {
        var scores = new double[documents];
        foreach (var token in queryTokens.Where(t => !IsSpecial(t)))   // repeated query terms count again, as in Lucene
        {
            if (!postings.TryGetValue(token, out var list))
                continue;
            var idf = Math.Log(1 + (documents - list.Length + 0.5) / (list.Length + 0.5));
            foreach (var (document, count) in list)
                scores[document] += idf * count * (k1 + 1) / (count + lengthNorm[document]);
        }
        return scores;
    }

    /// <summary>The <paramref name="top"/> best documents, best first; ties go to the lower index.</summary>
    public IReadOnlyList<int> Rank(IEnumerable<int> queryTokens, int top)
    {
        var scores = Scores(queryTokens);
        return [.. Enumerable.Range(0, documents).OrderByDescending(d => scores[d]).ThenBy(d => d).Take(top)];
    }

    private static bool IsSpecial(int token) => token < CatalogTokenizer.SpecialCount;
}
