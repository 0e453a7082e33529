using System.Globalization;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Runtime;

namespace LMIndexer.Core.Generation;

/// <summary>
/// How a network ranks items: a <see cref="RankingMode"/> and, for hybrid ranking, the dense head's
/// weight beside the sequence log-probability. Chosen on validation after training and kept in the
/// serving bundle's manifest, so that serving ranks as the choice was measured.
/// </summary>
public sealed record RankingChoice(RankingMode Mode, double DenseWeight = 1)
{
    public const string ModeProperty = "ranking";
    public const string DenseWeightProperty = "denseWeight";
    public const string ValidationProperty = "rankingValidation";

    /// <summary>The spelling in reports and manifests: <c>generative</c>, <c>dense</c> or <c>hybrid@0.5</c>.</summary>
    public string Name => Mode == RankingMode.Hybrid ? string.Create(CultureInfo.InvariantCulture, $"hybrid@{DenseWeight:G}") : RankingModes.Name(Mode);

    /// <summary>How a trained network ranks: the choice its manifest records, or the default for its heads (hybrid with a dense item head, weight 1).</summary>
    public static RankingChoice Of(ModelBundle bundle)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        return ReadFrom(bundle.Manifest.Properties) ?? new RankingChoice(RankingModes.DefaultFor([bundle.Model]));
    }

    /// <summary>Evaluation options that rank this way.</summary>
    public EvaluationOptions Apply(EvaluationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options with { Ranking = Mode, DenseWeight = DenseWeight };
    }

    /// <summary>The choice <see cref="Name"/> spells; null for another spelling.</summary>
    public static RankingChoice? Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var at = name.IndexOf('@', StringComparison.Ordinal);
        if (at < 0)
            return OptionSpelling.Parse<RankingMode>(name) is { } mode and not RankingMode.Hybrid ? new RankingChoice(mode) : null;
        return name[..at] == "hybrid" && double.TryParse(name[(at + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var weight) && double.IsFinite(weight) && weight >= 0
            ? new RankingChoice(RankingMode.Hybrid, weight)
            : null;
    }

    /// <summary>The choice a manifest records; null when it records none (bundles trained before the choice, or without a dense item head).</summary>
    public static RankingChoice? ReadFrom(IReadOnlyDictionary<string, string> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        if (!properties.TryGetValue(ModeProperty, out var name) || OptionSpelling.Parse<RankingMode>(name) is not { } mode)
            return null;
        var text = properties.GetValueOrDefault(DenseWeightProperty, "1");
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var weight) && double.IsFinite(weight) && weight >= 0
            ? new RankingChoice(mode, weight)
            : throw new InvalidDataException($"The manifest's {DenseWeightProperty} '{text}' is not a weight of at least 0.");
    }

    public void WriteTo(IDictionary<string, string> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        properties[ModeProperty] = RankingModes.Name(Mode);
        properties[DenseWeightProperty] = DenseWeight.ToString("R", CultureInfo.InvariantCulture);
    }
}
