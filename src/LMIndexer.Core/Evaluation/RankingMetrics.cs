namespace LMIndexer.Core.Evaluation;

/// <summary>Which definition of NDCG and MAP to use when a query has several relevant items.</summary>
public enum MetricDefinition
{
    /// <summary>
    /// The LMIndexer reference code: the ideal DCG is built from the retrieved list and AP is divided
    /// by the number of retrieved relevant items. Identical to Standard with one relevant item.
    /// </summary>
    Reference,

    /// <summary>Textbook IR: ideal DCG and AP normalised by min(|relevant|, k).</summary>
    Standard,
}

/// <summary>Scores of one ranked list at one cutoff.</summary>
public readonly record struct RankingScores(double Recall, double Ndcg, double Map, double Mrr, double Precision, double Hit);

/// <summary>
/// Ranking metrics over a ranked prediction list (duplicates collapsed first: a repeated item is
/// refused, since it would count one hit twice) and a set of relevant items, as
/// <c>metrics.py::evaluate_rec</c> in the reference defines them.
/// </summary>
public static class RankingMetrics
{
    public static RankingScores Score<T>(IReadOnlyList<T> ranked, IReadOnlySet<T> relevant, int k, MetricDefinition definition = MetricDefinition.Reference)
    {
        ArgumentNullException.ThrowIfNull(ranked);
        ArgumentNullException.ThrowIfNull(relevant);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (relevant.Count == 0)
            throw new ArgumentException("A query needs at least one relevant item.", nameof(relevant));
        if (new HashSet<T>(ranked).Count != ranked.Count)
            throw new ArgumentException("The ranked list repeats an item; collapse duplicates first (Deduplicate).", nameof(ranked));

        var cutoff = Math.Min(k, ranked.Count);
        var hits = 0;
        double dcg = 0, precisionSum = 0, reciprocal = 0;
        for (var i = 0; i < cutoff; i++)
        {
            if (!relevant.Contains(ranked[i]))
                continue;
            hits++;
            dcg += 1.0 / Math.Log2(i + 2);
            precisionSum += (double)hits / (i + 1);
            if (reciprocal == 0)
                reciprocal = 1.0 / (i + 1);
        }

        // Reference: ideal = the retrieved relevant items moved to the top. Standard: min(|R|, k) ones.
        var idealCount = definition == MetricDefinition.Reference ? hits : Math.Min(relevant.Count, k);
        double idealDcg = 0;
        for (var i = 0; i < idealCount; i++)
            idealDcg += 1.0 / Math.Log2(i + 2);
        var ndcg = idealDcg > 0 ? dcg / idealDcg : 0;
        var apDenominator = definition == MetricDefinition.Reference ? hits : Math.Min(relevant.Count, k);
        var ap = apDenominator > 0 ? precisionSum / apDenominator : 0;

        return new RankingScores(
            Recall: (double)hits / relevant.Count,
            Ndcg: ndcg,
            Map: ap,
            Mrr: reciprocal,
            Precision: (double)hits / k,
            Hit: hits > 0 ? 1 : 0);
    }

    /// <summary>Collapses repeated items, keeping the first (best-ranked) occurrence.</summary>
    public static List<T> Deduplicate<T>(IEnumerable<T> ranked)
    {
        var seen = new HashSet<T>();
        return ranked.Where(seen.Add).ToList();
    }
}

/// <summary>Averages <see cref="RankingScores"/> over queries, for several cutoffs at once.</summary>
public sealed class RankingAccumulator
{
    private readonly int[] cutoffs;
    private readonly MetricDefinition definition;
    private readonly double[,] sums;
    private readonly List<double>[,] perQuery;

    public RankingAccumulator(IEnumerable<int> cutoffs, MetricDefinition definition = MetricDefinition.Reference)
    {
        this.cutoffs = [.. cutoffs];
        this.definition = definition;
        sums = new double[this.cutoffs.Length, 6];
        perQuery = new List<double>[this.cutoffs.Length, 6];
        for (var c = 0; c < this.cutoffs.Length; c++)
        {
            for (var m = 0; m < 6; m++)
                perQuery[c, m] = [];
        }
    }

    private static readonly string[] Names = ["recall", "ndcg", "map", "mrr", "precision", "hit"];

    public int Count { get; private set; }

    public void Add<T>(IReadOnlyList<T> ranked, IReadOnlySet<T> relevant)
    {
        for (var c = 0; c < cutoffs.Length; c++)
        {
            var s = RankingMetrics.Score(ranked, relevant, cutoffs[c], definition);
            double[] values = [s.Recall, s.Ndcg, s.Map, s.Mrr, s.Precision, s.Hit];
            for (var m = 0; m < values.Length; m++)
            {
                sums[c, m] += values[m];
                perQuery[c, m].Add(values[m]);
            }
        }
        Count++;
    }

    /// <summary>Mean metrics keyed like <c>recall@5</c>, <c>ndcg@10</c>.</summary>
    public IReadOnlyDictionary<string, double> Means()
    {
        var result = new SortedDictionary<string, double>(StringComparer.Ordinal);
        for (var c = 0; c < cutoffs.Length; c++)
        {
            for (var m = 0; m < Names.Length; m++)
                result[$"{Names[m]}@{cutoffs[c]}"] = Count == 0 ? 0 : sums[c, m] / Count;
        }
        return result;
    }

    /// <summary>Each query's value, in the order added, keyed like <see cref="Means"/>: what paired tests resample.</summary>
    public IReadOnlyDictionary<string, double[]> PerQuery()
    {
        var result = new SortedDictionary<string, double[]>(StringComparer.Ordinal);
        for (var c = 0; c < cutoffs.Length; c++)
        {
            for (var m = 0; m < Names.Length; m++)
                result[$"{Names[m]}@{cutoffs[c]}"] = [.. perQuery[c, m]];
        }
        return result;
    }
}
