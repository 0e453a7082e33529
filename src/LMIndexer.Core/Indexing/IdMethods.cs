using LMIndexer.Core.Indexing.ResidualQuantization;

namespace LMIndexer.Core.Indexing;

/// <summary>The ID-learning methods the product trains and serves.</summary>
public static class IdMethods
{
    /// <summary>LMIndexer: a decoder over the item text learns the codes by reconstruction (the paper's method).</summary>
    public const string LMIndexer = "lmindexer";

    /// <summary>TIGER's rq-VAE over the encoder's sentence vectors.</summary>
    public const string RqVae = "rqvae";

    public static readonly string[] Names = [LMIndexer, RqVae];

    public static bool IsKnown(string method) => Names.Contains(method, StringComparer.Ordinal);

    /// <summary>Null trains LMIndexer; the rq-VAE assigner otherwise.</summary>
    public static IEmbeddingCodeAssigner? AssignerFor(SemanticIndexerOptions options) =>
        options.Method == RqVae ? new RqVaeCodeAssigner(options.RqVae) : null;

    /// <summary>Progress steps of the plan's ID stage for <paramref name="items"/> items (0 for an assigner that reports none).</summary>
    public static int PlannedSteps(IndexingPlan plan, int items) => plan.Assigner switch
    {
        null => ProgressiveIndexerTrainer.PlannedSteps(plan.Indexer, items),
        RqVaeCodeAssigner rqVae => RqVaeTraining.PlannedSteps(rqVae.Options, items),
        _ => 0,
    };
}
