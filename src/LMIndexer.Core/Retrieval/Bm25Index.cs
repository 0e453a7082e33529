namespace LMIndexer.Core.Retrieval;

/// <summary>
/// Okapi BM25 over documents that can be added, replaced and removed while it serves; the lexical
/// ranker of <c>/api/search</c> and the lexical baseline of the query benchmarks.
/// score(q, d) = Σ_t idf(t) · tf(t,d)·(k1+1) / (tf(t,d) + k1·(1 − b + b·|d|/avgdl)),
/// idf(t) = ln(1 + (N − df + 0.5)/(df + 0.5)) — Lucene's non-negative idf. Only the postings of the
/// query's terms are read, so a query costs the length of those lists, not the catalog's size.
/// </summary>
/// <typeparam name="TTerm">Words for serving (<see cref="SearchTextAnalyzer"/>), token ids for the benchmarks.</typeparam>
public sealed class Bm25Index<TTerm> where TTerm : notnull
{
    private readonly Dictionary<TTerm, Dictionary<int, int>> postings = [];   // term → (slot → term frequency)
    private readonly Dictionary<string, int> slots = new(StringComparer.Ordinal);
    private readonly List<string> keys = [];
    private readonly List<TTerm[]?> terms = [];                                // null: removed
    private readonly Stack<int> freeSlots = new();
    private long totalLength;

    public Bm25Index(double k1 = 1.2, double b = 0.75)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k1);
        if (b is < 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(b), b, "b lies in [0, 1].");
        K1 = k1;
        B = b;
    }

    public double K1 { get; }

    public double B { get; }

    /// <summary>Documents in the index.</summary>
    public int Count => slots.Count;

    public bool Contains(string key) => slots.ContainsKey(key);

    /// <summary>Adds a document, or replaces the terms of one with the same key.</summary>
    public void Upsert(string key, IReadOnlyList<TTerm> documentTerms)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(documentTerms);
        Remove(key);
        var slot = freeSlots.Count > 0 ? freeSlots.Pop() : keys.Count;
        if (slot == keys.Count)
        {
            keys.Add(key);
            terms.Add(null);
        }
        keys[slot] = key;
        terms[slot] = [.. documentTerms];
        slots[key] = slot;
        totalLength += documentTerms.Count;
        foreach (var term in documentTerms)
        {
            if (!postings.TryGetValue(term, out var list))
                postings[term] = list = [];
            list[slot] = list.GetValueOrDefault(slot) + 1;
        }
    }

    /// <summary>Removes a document; false when the key is not indexed.</summary>
    public bool Remove(string key)
    {
        if (!slots.Remove(key, out var slot))
            return false;
        var old = terms[slot]!;
        totalLength -= old.Length;
        foreach (var term in old.Distinct())
        {
            var list = postings[term];
            list.Remove(slot);
            if (list.Count == 0)
                postings.Remove(term);
        }
        terms[slot] = null;
        freeSlots.Push(slot);
        return true;
    }

    /// <summary>
    /// The <paramref name="top"/> best documents with a positive score, best first; equal scores keep
    /// the order in which the documents were first added. Repeated query terms count again, as in Lucene.
    /// </summary>
    public IReadOnlyList<(string Key, double Score)> Search(IEnumerable<TTerm> queryTerms, int top)
    {
        ArgumentNullException.ThrowIfNull(queryTerms);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        var documents = Count;
        if (documents == 0)
            return [];
        var averageLength = (double)totalLength / documents;
        var scores = new Dictionary<int, double>();
        foreach (var term in queryTerms)
        {
            if (!postings.TryGetValue(term, out var list))
                continue;
            var idf = Math.Log(1 + (documents - list.Count + 0.5) / (list.Count + 0.5));
            foreach (var (slot, count) in list)
            {
                var lengthNorm = K1 * (1 - B + B * (averageLength == 0 ? 0 : terms[slot]!.Length / averageLength));
                scores[slot] = scores.GetValueOrDefault(slot) + idf * count * (K1 + 1) / (count + lengthNorm);
            }
        }
        return [.. scores.Where(s => s.Value > 0)
            .OrderByDescending(s => s.Value).ThenBy(s => s.Key).Take(top)
            .Select(s => (keys[s.Key], s.Value))];
    }
}
