using System.Globalization;

namespace LMIndexer.Research.Recommendation;

/// <summary>One SASRec configuration of a grid, named by the settings that vary across the grid.</summary>
public sealed record SasRecCandidate(string Name, SasRecOptions Options);

/// <summary>
/// SASRec's hyper-parameter grid, so that the baseline gets a search like the generative recipe's:
/// <c>hidden=64,128 layers=1,2 heads=2 dropout=0.2,0.5 lr=0.001 max-length=20,50</c> (pairs separated
/// by spaces or semicolons, values by commas). Every combination trains with the same steps and
/// seed; the bench keeps the one whose best validation NDCG@10 is highest, then decodes test once.
/// </summary>
public static class SasRecGrid
{
    public static readonly IReadOnlyList<string> Keys = ["hidden", "layers", "heads", "dropout", "lr", "max-length"];

    /// <summary>
    /// The combinations of <paramref name="spec"/> over <paramref name="baseOptions"/> (keys not named keep
    /// its values), in the spec's order with the last key varying fastest; one candidate, named
    /// <c>default</c>, when the spec is empty. Throws <see cref="ArgumentException"/> naming the bad part.
    /// </summary>
    public static IReadOnlyList<SasRecCandidate> Candidates(string spec, SasRecOptions baseOptions)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(baseOptions);
        var model = baseOptions.Model ?? throw new ArgumentException("The base options need a model configuration.", nameof(baseOptions));
        var axes = new List<(string Key, string[] Values)>();
        foreach (var pair in spec.Split([' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split('=', 2);
            if (parts.Length != 2 || !Keys.Contains(parts[0]))
                throw new ArgumentException($"Unknown SASRec grid setting '{pair}'; expected KEY=V1,V2,… with KEY one of {string.Join(", ", Keys)}.");
            if (axes.Any(a => a.Key == parts[0]))
                throw new ArgumentException($"The SASRec grid names '{parts[0]}' twice.");
            var values = parts[1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (values.Length == 0 || values.Distinct(StringComparer.Ordinal).Count() != values.Length)
                throw new ArgumentException($"The SASRec grid's '{parts[0]}' needs distinct values, got '{parts[1]}'.");
            foreach (var value in values)
                _ = Apply(baseOptions, parts[0], value);   // refuses a bad value before anything trains
            axes.Add((parts[0], values));
        }
        IEnumerable<(string Name, SasRecOptions Options)> combinations = [("", baseOptions with { Model = model })];
        foreach (var (key, values) in axes)
        {
            combinations = combinations.SelectMany(c => values.Select(v =>
                (values.Length > 1 ? $"{c.Name}{(c.Name.Length > 0 ? "," : "")}{key}={v}" : c.Name, Apply(c.Options, key, v))));
        }
        var candidates = combinations.Select(c => new SasRecCandidate(c.Name.Length > 0 ? c.Name : "default", c.Options)).ToList();
        if (candidates.FirstOrDefault(c => c.Options.Model!.Hidden % c.Options.Model.Heads != 0) is { } split)
            throw new ArgumentException($"SASRec grid candidate '{split.Name}': hidden size {split.Options.Model!.Hidden} does not divide into {split.Options.Model.Heads} heads.");
        return candidates;
    }

    private static SasRecOptions Apply(SasRecOptions options, string key, string value)
    {
        var model = options.Model!;
        int Integer()
        {
            if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n < 1)
                throw new ArgumentException($"The SASRec grid's '{key}' takes whole numbers of at least 1, got '{value}'.");
            return n;
        }
        double Number(double min, double max)
        {
            if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) || !(x >= min && x < max))
                throw new ArgumentException($"The SASRec grid's '{key}' takes numbers in [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}), got '{value}'.");
            return x;
        }
        var updated = key switch
        {
            "hidden" => options with { Model = model with { Hidden = Integer() } },
            "layers" => options with { Model = model with { Layers = Integer() } },
            "heads" => options with { Model = model with { Heads = Integer() } },
            "dropout" => options with { Model = model with { Dropout = Number(0, 1) } },
            "lr" => options with { LearningRate = Number(double.Epsilon, 1) },
            "max-length" => options with { Model = model with { MaxLength = Integer() } },
            _ => throw new ArgumentException($"Unknown SASRec grid setting '{key}'."),
        };
        return updated;
    }
}
