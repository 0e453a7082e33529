namespace LMIndexer.Research.Protocol;

/// <summary>A figure over seeds: the mean, the sample standard deviation, and how many seeds.</summary>
public sealed record SeedSummary(double Mean, double Sd, int N)
{
    public static SeedSummary Of(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
            throw new ArgumentException("No seeds to summarise.", nameof(values));
        var mean = values.Average();
        var sd = values.Count > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)) : 0;
        return new SeedSummary(mean, sd, values.Count);
    }
}
