using System.Globalization;
using LMIndexer.Cli.Console;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Encoders;
using LMIndexer.Core.Evaluation;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Retrieval;
using LMIndexer.Core.Text;
using TorchSharp;

namespace LMIndexer.Bench.Commands;

/// <summary>
/// The query benchmarks' rankers that the hybrid fuses: word BM25 (what <c>/api/search</c> serves
/// with no model), sentence encoders (packaged, or fine-tuned in the run), and seq2seq models
/// fine-tuned in the run; their reciprocal-rank fusion with weights chosen on the validation
/// queries. Examples are the same grouped queries the seq2seq systems are scored on.
/// </summary>
public sealed class TextQueryRankers : IDisposable
{
    // Candidates each ranker gives the fusion: far beyond the cut-offs scored, as the served search does.
    public const int Candidates = 100;

    /// <summary>Dense weights (BM25's is 1) tried on validation; 0 is BM25 alone, ∞ (<see cref="double.PositiveInfinity"/>) dense alone.</summary>
    public static readonly double[] DenseWeights = [0, 0.1, 0.25, 0.5, 1, 2, 4, double.PositiveInfinity];

    /// <summary>Generative weights (BM25's is 1) tried on validation when the run fine-tunes a seq2seq model for the hybrid; 0 leaves it out.</summary>
    public static readonly double[] GenerativeWeights = [0, 0.1, 0.25, 0.5, 1];

    private readonly QueryCorpus corpus;
    private readonly SemanticIdTable table;
    private readonly Bm25Index<string> lexical = new();
    private readonly Dictionary<string, int> itemIndex = new(StringComparer.Ordinal);
    // Dense rankers by name: a packaged encoder's (ONNX, as served) or a fine-tuned one's.
    private readonly Dictionary<string, DenseRanker> dense = new(StringComparer.Ordinal);
    // Seq2seq models of this run by system name, kept for the hybrid.
    private readonly Dictionary<string, GenerativeQueryRanker> generative = new(StringComparer.Ordinal);

    public TextQueryRankers(QueryCorpus corpus, SemanticIdTable table, CatalogTokenizer tokenizer, int maxSourceTokens)
    {
        this.corpus = corpus;
        this.table = table;
        var data = QueryTask.Build(corpus.Split, table, tokenizer, maxSourceTokens);
        // The examples group queries by their tokens: find each group's text again.
        string Key(IEnumerable<int> tokens) => string.Join(',', tokens);
        var texts = corpus.Split.Validation.Concat(corpus.Split.Test)
            .GroupBy(p => Key(tokenizer.EncodeWithEos(p.Query, maxSourceTokens)), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().Query, StringComparer.Ordinal);
        Validation = [.. data.Validation.Select(e => (e, texts[Key(e.Source)]))];
        Test = [.. data.Test.Select(e => (e, texts[Key(e.Source)]))];
        for (var i = 0; i < table.Count; i++)
        {
            itemIndex[table.ItemIds[i]] = i;
            lexical.Upsert(table.ItemIds[i], SearchTextAnalyzer.Terms(corpus.Texts[table.ItemIds[i]]));
        }
    }

    public IReadOnlyList<(GenerativeExample Example, string Text)> Validation { get; }

    public IReadOnlyList<(GenerativeExample Example, string Text)> Test { get; }

    /// <summary>Word BM25, k1 1.2, b 0.75. // item indices, best first</summary>
    public int[][] Bm25(IReadOnlyList<(GenerativeExample Example, string Text)> queries) =>
        [.. queries.Select(q => lexical.Search(SearchTextAnalyzer.Terms(q.Text), Candidates).Select(h => itemIndex[h.Key]).ToArray())];

    /// <summary>Dense rankers of this run, packaged or fine-tuned, by name.</summary>
    public IReadOnlyCollection<string> DenseNames => dense.Keys;

    /// <summary>Inner-product top-k of the package's sentence vectors (ONNX Runtime, as served), queries with its query prefix. // item indices, best first</summary>
    public int[][] Dense(PretrainedEncoderPackage package, IReadOnlyList<(GenerativeExample Example, string Text)> queries, CancellationToken cancellationToken)
    {
        if (!dense.ContainsKey(package.Name))
        {
            var encoder = new OnnxSentenceEncoder(package, torch.get_num_threads());
            var vectors = ProgressBar.Run($"dense-{package.Name} items", table.Count,
                progress => encoder.Embed([.. table.ItemIds.Select(id => corpus.Texts[id])], progress: progress, cancellationToken: cancellationToken));
            dense[package.Name] = new DenseRanker(new ExactVectorIndex(vectors), texts => encoder.Embed([.. texts.Select(t => package.QueryPrefix + t)], cancellationToken: cancellationToken), encoder);
        }
        return Dense(package.Name, queries);
    }

    /// <summary>The top-k of a ranker added by <see cref="AddDense"/> or made by the packaged overload. // item indices, best first</summary>
    public int[][] Dense(string name, IReadOnlyList<(GenerativeExample Example, string Text)> queries)
    {
        var ranker = dense[name];
        return ranker.Items.Search(ranker.EmbedQueries([.. queries.Select(q => q.Text)]), Candidates);
    }

    /// <summary>
    /// Registers a dense ranker under <paramref name="name"/> (a fine-tuned encoder): its vectors of
    /// every item in table order, and how it embeds query texts (its query prefix included).
    /// </summary>
    public void AddDense(string name, float[][] itemVectors, Func<IReadOnlyList<string>, float[][]> embedQueries, IDisposable? owner = null)
    {
        if (itemVectors.Length != table.Count)
            throw new ArgumentException($"Expected a vector per item ({table.Count}), got {itemVectors.Length}.", nameof(itemVectors));
        if (dense.Remove(name, out var old))
            old.Dispose();
        dense[name] = new DenseRanker(new ExactVectorIndex(itemVectors), embedQueries, owner);
    }

    /// <summary>Seq2seq models of this run kept for the hybrid, by system name.</summary>
    public IReadOnlyCollection<string> GenerativeNames => generative.Keys;

    /// <summary>Keeps a fine-tuned seq2seq model for the hybrid under its system's name; the rankers own it from here.</summary>
    public void AddGenerative(string name, GenerativeQueryRanker ranker)
    {
        ArgumentNullException.ThrowIfNull(ranker);
        if (generative.Remove(name, out var old))
            old.Dispose();
        generative[name] = ranker;
    }

    /// <summary>The generated items of a model added by <see cref="AddGenerative"/>. // item indices, best first</summary>
    public int[][] Generative(string name, IReadOnlyList<(GenerativeExample Example, string Text)> queries) =>
        generative[name].Rank([.. queries.Select(q => q.Example)], id => itemIndex[id]);

    /// <summary>Every item's text, in table order (what item vectors are made from).</summary>
    public IReadOnlyList<string> ItemTexts => [.. table.ItemIds.Select(id => corpus.Texts[id])];

    /// <summary>
    /// Reciprocal-rank fusion per query (weights: BM25 1, dense <paramref name="denseWeight"/>, generated
    /// <paramref name="generativeWeight"/>), as <c>/api/search</c> fuses them; a dense weight of ∞ is dense alone. // item indices
    /// </summary>
    public static int[][] Fuse(int[][] bm25, int[][] denseRanking, double denseWeight, int[][]? generated = null, double generativeWeight = 0)
    {
        if (generated is not null && generated.Length != bm25.Length)
            throw new ArgumentException($"{generated.Length} generated rankings for {bm25.Length} queries.", nameof(generated));
        static WeightedRanking Weighted(int[] ranking, double weight) => new([.. ranking.Select(i => i.ToString(CultureInfo.InvariantCulture))], weight);
        return [.. bm25.Select((lexicalRanking, q) => double.IsPositiveInfinity(denseWeight) ? denseRanking[q]
            : RankFusion.Reciprocal(
                generated is not null && generativeWeight > 0
                    ? [Weighted(lexicalRanking, 1), Weighted(denseRanking[q], denseWeight), Weighted(generated[q], generativeWeight)]
                    : [Weighted(lexicalRanking, 1), Weighted(denseRanking[q], denseWeight)], Candidates)
                .Select(f => int.Parse(f.Key, CultureInfo.InvariantCulture)).ToArray())];
    }

    /// <summary>Scores rankings given per query, in the order of <paramref name="queries"/>.</summary>
    public static EvaluationResult Evaluate(IReadOnlyList<(GenerativeExample Example, string Text)> queries, int[][] rankings, EvaluationOptions options)
    {
        var position = new Dictionary<GenerativeExample, int>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < queries.Count; i++)
            position[queries[i].Example] = i;
        return GenerativeEvaluator.EvaluateRanking([.. queries.Select(q => q.Example)], example => rankings[position[example]], options);
    }

    public void Dispose()
    {
        foreach (var ranker in dense.Values)
            ranker.Dispose();
        foreach (var ranker in generative.Values)
            ranker.Dispose();
    }

    private sealed record DenseRanker(ExactVectorIndex Items, Func<IReadOnlyList<string>, float[][]> EmbedQueries, IDisposable? Owner) : IDisposable
    {
        public void Dispose()
        {
            Items.Dispose();
            Owner?.Dispose();
        }
    }
}
