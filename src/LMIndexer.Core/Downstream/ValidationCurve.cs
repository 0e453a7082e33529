using System.Globalization;

namespace LMIndexer.Core.Downstream;

/// <summary>
/// A bundle's validation curve in its manifest (<c>validationCurve</c>: <c>step:value;…</c> of the
/// selection metric), so whoever evaluates the bundle later can show what its kept step was chosen on.
/// </summary>
public static class ValidationCurve
{
    public const string Property = "validationCurve";

    /// <summary>The points that measured <paramref name="metric"/>, each value in round-trip precision.</summary>
    public static string Format(IEnumerable<ValidationPoint> validations, string metric)
    {
        ArgumentNullException.ThrowIfNull(validations);
        return string.Join(';', validations.Where(v => v.Metrics.ContainsKey(metric))
            .Select(v => string.Create(CultureInfo.InvariantCulture, $"{v.Step}:{v.Metrics[metric]:R}")));
    }

    /// <summary>
    /// The curve of <paramref name="properties"/> as validation points of <paramref name="metric"/>
    /// (train loss unknown: NaN); none for a bundle that validated nothing (a refit). A bundle saved
    /// before the curve was kept gives its best step and metric alone. Throws <see cref="FormatException"/> for a damaged curve.
    /// </summary>
    public static IReadOnlyList<ValidationPoint> Read(IReadOnlyDictionary<string, string> properties, string metric)
    {
        ArgumentNullException.ThrowIfNull(properties);
        ValidationPoint Point(string step, string value) => new(
            int.Parse(step, NumberStyles.Integer, CultureInfo.InvariantCulture), double.NaN,
            new Dictionary<string, double> { [metric] = double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture) });
        if (properties.TryGetValue(Property, out var curve))
        {
            return [.. curve.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(part => part.Split(':') is [var step, var value]
                ? Point(step, value)
                : throw new FormatException($"'{part}' of the validation curve is not STEP:VALUE."))];
        }
        return properties.TryGetValue("bestStep", out var bestStep) && properties.TryGetValue("bestMetric", out var bestMetric)
            && properties.GetValueOrDefault("selectionMetric", metric) == metric && bestStep != "0"
            ? [Point(bestStep, bestMetric)]
            : [];
    }
}
