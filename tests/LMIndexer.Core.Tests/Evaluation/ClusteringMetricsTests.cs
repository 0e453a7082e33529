using LMIndexer.Core.Evaluation;

namespace LMIndexer.Core.Tests.Evaluation;

public sealed class ClusteringMetricsTests
{
    // scikit-learn's own test case (sklearn/metrics/cluster/tests/test_supervised.py).
    private static readonly int[] LabelsA = [1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3];
    private static readonly int[] LabelsB = [1, 1, 1, 1, 2, 1, 2, 2, 2, 2, 3, 1, 3, 3, 3, 2, 2];

    [Fact]
    public void Matches_scikit_learn_published_values()
    {
        Assert.Equal(0.41022, ClusteringMetrics.MutualInformation(LabelsA, LabelsB), 5);
        var table = Contingency.Build(LabelsA, LabelsB);
        Assert.Equal(0.15042, ClusteringMetrics.ExpectedMutualInformation(table), 5);
        Assert.Equal(0.27821, ClusteringMetrics.AdjustedMutualInformation(LabelsA, LabelsB), 5);
    }

    [Fact]
    public void Large_repeated_labelings_match_scikit_learn()
    {
        var a = Enumerable.Repeat(LabelsA, 110).SelectMany(x => x).ToArray();
        var b = Enumerable.Repeat(LabelsB, 110).SelectMany(x => x).ToArray();
        Assert.Equal(0.38, ClusteringMetrics.AdjustedMutualInformation(a, b), 2);
    }

    [Fact]
    public void Perfect_and_permuted_labelings_score_one()
    {
        Assert.Equal(1.0, ClusteringMetrics.AdjustedMutualInformation([1, 1, 2, 2], [2, 2, 3, 3]), 10);
        Assert.Equal(1.0, ClusteringMetrics.AdjustedMutualInformation(["a", "a", "b", "b", "c"], [0, 0, 1, 1, 2]), 10);
        Assert.Equal(1.0, ClusteringMetrics.AdjustedMutualInformation([0, 0, 0], [5, 5, 5]), 10);
    }

    [Fact]
    public void Independent_labelings_score_zero()
    {
        // sklearn documents AMI([0,0,0,0],[0,1,2,3]) == 0.
        Assert.Equal(0.0, ClusteringMetrics.AdjustedMutualInformation([0, 0, 0, 0], [0, 1, 2, 3]), 10);
        var random = new Random(4);
        var x = Enumerable.Range(0, 5000).Select(_ => random.Next(10)).ToArray();
        var y = Enumerable.Range(0, 5000).Select(_ => random.Next(10)).ToArray();
        Assert.InRange(ClusteringMetrics.AdjustedMutualInformation(x, y), -0.01, 0.01);
    }

    [Fact]
    public void The_zero_denominator_guard_is_numpys_machine_epsilon()
    {
        Assert.Equal(2.220446049250313e-16, ClusteringMetrics.MachineEpsilon);
        Assert.Equal(1.0, 1.0 + ClusteringMetrics.MachineEpsilon / 2);   // half of it is lost next to 1, as numpy's eps defines
    }

    [Fact]
    public void Perplexity_is_the_effective_number_of_codes()
    {
        Assert.Equal(4.0, ClusteringMetrics.Perplexity([0, 1, 2, 3, 0, 1, 2, 3]), 10);
        Assert.Equal(1.0, ClusteringMetrics.Perplexity([7, 7, 7]), 10);
        Assert.Equal(Math.Exp(-(0.75 * Math.Log(0.75) + 0.25 * Math.Log(0.25))), ClusteringMetrics.Perplexity([1, 1, 1, 2]), 12);
    }

    [Fact]
    public void Log_gamma_matches_factorials()
    {
        Assert.Equal(0.0, MathFunctions.LogGamma(1), 12);
        Assert.Equal(Math.Log(120), MathFunctions.LogGamma(6), 12);
        Assert.Equal(0.5 * Math.Log(Math.PI), MathFunctions.LogGamma(0.5), 12);
        Assert.Equal(Math.Log(3628800), MathFunctions.LogGamma(11), 10); // ln(10!)
        Assert.Equal(2.453736570842443, MathFunctions.LogGamma(4.5), 12); // CPython math.lgamma(4.5)
        // Below 1/2 the reflection formula takes over.
        Assert.Equal(1.2880225246980772, MathFunctions.LogGamma(0.25), 12);  // CPython math.lgamma(0.25)
        Assert.Equal(2.2527126517342055, MathFunctions.LogGamma(0.1), 12);   // CPython math.lgamma(0.1)
        Assert.Throws<ArgumentOutOfRangeException>(() => MathFunctions.LogGamma(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => MathFunctions.LogGamma(-2.5));
    }

    [Fact]
    public void Expected_mutual_information_is_the_mean_over_every_permutation_of_one_labeling()
    {
        // A dominant cluster on both sides (rows 4,1,1; columns 4,2): the largest marginals are equal,
        // and the smallest overlap of the two big clusters is 2, not 1.
        int[] a = [0, 0, 0, 0, 1, 2];
        int[] b = [0, 0, 0, 0, 1, 1];
        var permutations = Permutations([.. Enumerable.Range(0, b.Length)]).ToList();
        Assert.Equal(720, permutations.Count);
        var emi = permutations.Average(p => MutualInformation(a, [.. p.Select(i => b[i])]));
        var normalizer = (ClusteringMetrics.Entropy(a) + ClusteringMetrics.Entropy(b)) / 2;
        var expected = (MutualInformation(a, b) - emi) / (normalizer - emi);
        Assert.Equal(expected, ClusteringMetrics.AdjustedMutualInformation(a, b), 10);
    }

    [Fact]
    public void Labelings_of_different_lengths_are_refused()
    {
        Assert.Throws<ArgumentException>(() => ClusteringMetrics.AdjustedMutualInformation([0, 1, 1], [0, 1]));
    }

    /// <summary>MI (nats) straight from the joint and marginal frequencies.</summary>
    private static double MutualInformation(int[] x, int[] y)
    {
        double n = x.Length;
        return x.Zip(y).GroupBy(p => p).Sum(cell =>
        {
            var pxy = cell.Count() / n;
            var px = x.Count(v => v == cell.Key.First) / n;
            var py = y.Count(v => v == cell.Key.Second) / n;
            return pxy * Math.Log(pxy / (px * py));
        });
    }

    private static IEnumerable<int[]> Permutations(int[] items)
    {
        if (items.Length <= 1)
        {
            yield return items;
            yield break;
        }
        for (var i = 0; i < items.Length; i++)
        {
            foreach (var rest in Permutations([.. items[..i], .. items[(i + 1)..]]))
                yield return [items[i], .. rest];
        }
    }
}
