namespace LMIndexer.Core.Evaluation;

/// <summary>
/// Information-theoretic agreement between two labelings, computed as scikit-learn does
/// (natural logarithms; AMI with arithmetic normalisation and the exact expected MI under the
/// hypergeometric model of Vinh, Epps &amp; Bailey 2010).
/// </summary>
public static class ClusteringMetrics
{
    /// <summary>Mutual information in nats.</summary>
    public static double MutualInformation<TA, TB>(IReadOnlyList<TA> labelsTrue, IReadOnlyList<TB> labelsPred)
        where TA : notnull where TB : notnull =>
        MutualInformation(Contingency.Build(labelsTrue, labelsPred));

    /// <summary>The gap between 1 and the next double (numpy's <c>finfo(float64).eps</c>, 2.22e-16).</summary>
    public static readonly double MachineEpsilon = Math.BitIncrement(1.0) - 1.0;

    /// <summary>Adjusted mutual information, arithmetic mean normalisation (sklearn's default).</summary>
    public static double AdjustedMutualInformation<TA, TB>(IReadOnlyList<TA> labelsTrue, IReadOnlyList<TB> labelsPred)
        where TA : notnull where TB : notnull
    {
        var table = Contingency.Build(labelsTrue, labelsPred);
        // sklearn: both labelings a single cluster (or empty) are a perfect match by convention.
        if (table.RowSums.Length == table.ColumnSums.Length && table.RowSums.Length <= 1)
            return 1.0;
        var mi = MutualInformation(table);
        var emi = ExpectedMutualInformation(table);
        var normalizer = (Entropy(table.RowSums, table.Total) + Entropy(table.ColumnSums, table.Total)) / 2;
        var denominator = normalizer - emi;
        // sklearn's guard against a zero denominator: numpy's machine epsilon, not the smallest double.
        denominator = denominator < 0 ? Math.Min(denominator, -MachineEpsilon) : Math.Max(denominator, MachineEpsilon);
        return (mi - emi) / denominator;
    }

    /// <summary>Shannon entropy (nats) of a labeling.</summary>
    public static double Entropy<T>(IReadOnlyList<T> labels) where T : notnull
    {
        var counts = labels.GroupBy(l => l).Select(g => (long)g.Count()).ToArray();
        return Entropy(counts, labels.Count);
    }

    /// <summary>Perplexity exp(H) of the code histogram: the effective number of codes in use.</summary>
    public static double Perplexity<T>(IReadOnlyList<T> codes) where T : notnull => Math.Exp(Entropy(codes));

    internal static double MutualInformation(Contingency table)
    {
        double n = table.Total, mi = 0;
        foreach (var ((row, column), count) in table.Cells)
        {
            var nij = (double)count;
            mi += nij / n * (Math.Log(nij) + Math.Log(n) - Math.Log(table.RowSums[row]) - Math.Log(table.ColumnSums[column]));
        }
        return Math.Max(mi, 0);
    }

    /// <summary>E[MI] over all labelings with the same marginals (sklearn's _expected_mutual_info_fast).</summary>
    internal static double ExpectedMutualInformation(Contingency table)
    {
        var a = table.RowSums;
        var b = table.ColumnSums;
        double n = table.Total;
        var maxCount = (int)Math.Max(a.Max(), b.Max());
        var logNnij = new double[maxCount + 1];
        var glnNnij = new double[maxCount + 1];
        for (var nij = 1; nij <= maxCount; nij++)
        {
            logNnij[nij] = Math.Log(n) + Math.Log(nij);
            glnNnij[nij] = MathFunctions.LogGamma(nij + 1);
        }
        var glnN = MathFunctions.LogGamma(n + 1);
        double emi = 0;
        foreach (var ai in a)
        {
            var glnA = MathFunctions.LogGamma(ai + 1);
            var glnNa = MathFunctions.LogGamma(n - ai + 1);
            foreach (var bj in b)
            {
                var glnB = MathFunctions.LogGamma(bj + 1);
                var glnNb = MathFunctions.LogGamma(n - bj + 1);
                var start = (int)Math.Max(1, ai - n + bj);
                var end = (int)Math.Min(ai, bj);
                for (var nij = start; nij <= end; nij++)
                {
                    var term2 = logNnij[nij] - Math.Log(ai) - Math.Log(bj);
                    var gln = glnA + glnB + glnNa + glnNb - glnN - glnNnij[nij]
                              - MathFunctions.LogGamma(ai - nij + 1)
                              - MathFunctions.LogGamma(bj - nij + 1)
                              - MathFunctions.LogGamma(n - ai - bj + nij + 1);
                    emi += nij / n * term2 * Math.Exp(gln);
                }
            }
        }
        return emi;
    }

    private static double Entropy(long[] counts, long total)
    {
        if (total == 0)
            return 0;
        double h = 0;
        foreach (var c in counts)
        {
            if (c == 0)
                continue;
            var p = (double)c / total;
            h -= p * Math.Log(p);
        }
        return h;
    }
}

/// <summary>A sparse contingency table between two labelings.</summary>
internal sealed class Contingency
{
    private Contingency(Dictionary<(int, int), long> cells, long[] rowSums, long[] columnSums, long total)
    {
        Cells = cells;
        RowSums = rowSums;
        ColumnSums = columnSums;
        Total = total;
    }

    public Dictionary<(int Row, int Column), long> Cells { get; }
    public long[] RowSums { get; }
    public long[] ColumnSums { get; }
    public long Total { get; }

    public static Contingency Build<TA, TB>(IReadOnlyList<TA> labelsA, IReadOnlyList<TB> labelsB)
        where TA : notnull where TB : notnull
    {
        if (labelsA.Count != labelsB.Count)
            throw new ArgumentException($"Labelings differ in length: {labelsA.Count} vs {labelsB.Count}.");
        var rows = new Dictionary<TA, int>();
        var columns = new Dictionary<TB, int>();
        var cells = new Dictionary<(int, int), long>();
        for (var i = 0; i < labelsA.Count; i++)
        {
            if (!rows.TryGetValue(labelsA[i], out var r))
                rows[labelsA[i]] = r = rows.Count;
            if (!columns.TryGetValue(labelsB[i], out var c))
                columns[labelsB[i]] = c = columns.Count;
            cells[(r, c)] = cells.GetValueOrDefault((r, c)) + 1;
        }
        var rowSums = new long[rows.Count];
        var columnSums = new long[columns.Count];
        foreach (var ((r, c), count) in cells)
        {
            rowSums[r] += count;
            columnSums[c] += count;
        }
        return new Contingency(cells, rowSums, columnSums, labelsA.Count);
    }
}
