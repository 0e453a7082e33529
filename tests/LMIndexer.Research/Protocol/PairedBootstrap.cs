namespace LMIndexer.Research.Protocol;

/// <summary>A difference of means between two systems on the same examples, with its percentile interval.</summary>
public sealed record PairedInterval(double Difference, double Low, double High, int Resamples, double Level)
{
    /// <summary>Whether the interval leaves 0 out: the difference is not a matter of which users were drawn.</summary>
    public bool ExcludesZero => Low > 0 || High < 0;
}

/// <summary>
/// Paired bootstrap over examples (users, queries): resample the examples with replacement, take
/// the mean per-example difference of A and B each time, and read the interval off the percentiles.
/// Pairing keeps each user's difficulty out of the comparison, which an unpaired test does not.
/// </summary>
public static class PairedBootstrap
{
    public static PairedInterval Difference(IReadOnlyList<double> a, IReadOnlyList<double> b, int resamples = 1000, int seed = 17, double level = 0.95)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Count != b.Count)
            throw new ArgumentException($"Paired vectors must cover the same examples ({a.Count} against {b.Count}).", nameof(b));
        if (a.Count == 0)
            throw new ArgumentException("No examples to compare.", nameof(a));
        ArgumentOutOfRangeException.ThrowIfLessThan(resamples, 100);
        if (level is <= 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(level), level, "The level must be in (0, 1).");
        var n = a.Count;
        var differences = new double[n];
        for (var i = 0; i < n; i++)
            differences[i] = a[i] - b[i];
        var random = new Random(seed);
        var means = new double[resamples];
        for (var r = 0; r < resamples; r++)
        {
            double sum = 0;
            for (var i = 0; i < n; i++)
                sum += differences[random.Next(n)];
            means[r] = sum / n;
        }
        Array.Sort(means);
        var tail = (1 - level) / 2;
        return new PairedInterval(differences.Average(), Percentile(means, tail), Percentile(means, 1 - tail), resamples, level);
    }

    /// <summary>Linear interpolation between the closest ranks (numpy's default).</summary>
    private static double Percentile(double[] sorted, double q)
    {
        var position = q * (sorted.Length - 1);
        var lower = (int)Math.Floor(position);
        var upper = Math.Min(lower + 1, sorted.Length - 1);
        return sorted[lower] + (position - lower) * (sorted[upper] - sorted[lower]);
    }
}
