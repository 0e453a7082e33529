using LMIndexer.Core.Model;
using LMIndexer.Core.Runtime;

namespace LMIndexer.Core.Generation;

/// <summary>How a recommender's items are ranked (<see cref="ItemRanker"/>).</summary>
public enum RankingMode
{
    /// <summary>Constrained beam search over the ID tokens, ranked by sequence log-probability (the paper's).</summary>
    Generative,

    /// <summary>Every item by the dense item head's log-probability alone (dense retrieval, SASRec's kind).</summary>
    Dense,

    /// <summary>
    /// LIGER's hybrid: the beam's items and the dense head's best items together, each ranked by its
    /// ID's sequence log-probability plus the dense log-probability (weighted).
    /// </summary>
    Hybrid,
}

/// <summary>Names and defaults of <see cref="RankingMode"/>.</summary>
public static class RankingModes
{
    /// <summary>The spelling on the command line and in reports.</summary>
    public static string Name(RankingMode mode) => OptionSpelling.Name(mode);

    /// <summary>Parses <see cref="Name"/>'s spelling; null for an unknown one.</summary>
    public static RankingMode? Parse(string name) => OptionSpelling.Parse<RankingMode>(name);

    /// <summary>The names, as a sentence lists them.</summary>
    public static string NamesText { get; } = OptionSpelling.NamesText<RankingMode>();

    /// <summary>Hybrid for networks with a dense item head (all of an ensemble), generative otherwise.</summary>
    public static RankingMode DefaultFor(IReadOnlyList<T5Model> models)
    {
        ArgumentNullException.ThrowIfNull(models);
        return models.Count > 0 && models.All(m => m.Config.DenseItemHead) ? RankingMode.Hybrid : RankingMode.Generative;
    }
}
