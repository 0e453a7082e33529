using LMIndexer.Core.Evaluation;

namespace LMIndexer.Core.Indexing;

/// <summary>The quality report of an ID assignment (written as <c>stats.json</c>).</summary>
public sealed record IndexStats
{
    public required int Items { get; init; }
    public required int LearnedPositions { get; init; }

    /// <summary>exp(entropy) of each position's code histogram.</summary>
    public required double[] Perplexity { get; init; }

    /// <summary>Distinct codes used per position.</summary>
    public required int[] CodesUsed { get; init; }

    /// <summary>
    /// Per position t ≥ 2: among items sharing codes c1..c(t−1), distinct c_t codes ÷ min(group
    /// size, codes used at t), averaged over items. 1 means each prefix spreads its items over as
    /// many codes as it can; low values mean c_t mostly repeats what the prefix already says.
    /// </summary>
    public double[] PrefixDiversity { get; init; } = [];

    /// <summary>Fraction of items that share their learned codes with another item (need a counter &gt; 0 or have one).</summary>
    public required double CollisionRate { get; init; }

    public required int LargestGroup { get; init; }

    /// <summary>Items under each first code, most populated first.</summary>
    public required int[] ItemsPerFirstCode { get; init; }

    /// <summary>AMI of c1 against the category labels, keyed by label level (e.g. "full", "level-1"); empty without labels.</summary>
    public Dictionary<string, double> AmiFirstCode { get; init; } = [];

    /// <summary>AMI of the (c1, c2) pair against the labels, same keys.</summary>
    public Dictionary<string, double> AmiFirstTwoCodes { get; init; } = [];

    public static IndexStats Compute(SemanticIdTable table, int learnedPositions, IReadOnlyDictionary<string, IReadOnlyList<string>>? labelsByLevel = null)
    {
        var learned = table.Ids.Select(id => id.Take(learnedPositions).ToArray()).ToList();
        var keys = learned.Select(c => string.Join(',', c)).ToList();
        var groups = keys.GroupBy(k => k).Select(g => g.Count()).ToList();
        var stats = new IndexStats
        {
            Items = table.Count,
            LearnedPositions = learnedPositions,
            Perplexity = [.. Enumerable.Range(0, learnedPositions).Select(p => ClusteringMetrics.Perplexity(learned.Select(c => c[p]).ToList()))],
            CodesUsed = [.. Enumerable.Range(0, learnedPositions).Select(p => learned.Select(c => c[p]).Distinct().Count())],
            CollisionRate = table.Count == 0 ? 0 : groups.Where(g => g > 1).Sum() / (double)table.Count,
            LargestGroup = groups.Count == 0 ? 0 : groups.Max(),
            ItemsPerFirstCode = [.. learned.GroupBy(c => c[0]).Select(g => g.Count()).OrderByDescending(c => c)],
            PrefixDiversity = [.. Enumerable.Range(1, Math.Max(0, learnedPositions - 1)).Select(p => Diversity(learned, p))],
        };
        if (labelsByLevel is null)
            return stats;
        var first = learned.Select(c => c[0]).ToList();
        var pair = learned.Select(c => string.Join(',', c.Take(2))).ToList();
        foreach (var (level, labels) in labelsByLevel)
        {
            stats.AmiFirstCode[level] = ClusteringMetrics.AdjustedMutualInformation(labels, first);
            if (learnedPositions > 1)
                stats.AmiFirstTwoCodes[level] = ClusteringMetrics.AdjustedMutualInformation(labels, pair);
        }
        return stats;
    }

    private static double Diversity(List<long[]> learned, int position)
    {
        var codes = learned.Select(c => c[position]).Distinct().Count();
        double weighted = 0;
        foreach (var group in learned.GroupBy(c => string.Join(',', c.Take(position))))
        {
            var size = group.Count();
            var distinct = group.Select(c => c[position]).Distinct().Count();
            weighted += size * (double)distinct / Math.Min(size, codes);
        }
        return learned.Count == 0 ? 0 : weighted / learned.Count;
    }
}
