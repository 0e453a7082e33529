using LMIndexer.Core.Indexing;
using LMIndexer.Core.Indexing.ResidualQuantization;
using LMIndexer.Core.Training;
using static TorchSharp.torch;

namespace LMIndexer.Research.Indexing;

/// <summary>The reference's hierarchical k-means ("tree") over the same embeddings; it keeps no state, so its bundles cannot code new items.</summary>
public sealed class KMeansTreeCodeAssigner : IEmbeddingCodeAssigner
{
    public string Method => "kmeans-tree";

    public EmbeddingCodes Assign(Tensor embeddings, SemanticIndexerOptions options, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken) =>
        new(KMeansTreeIndexer.Assign(embeddings, options.Positions, options.CodebookSize, options.KMeans), new Dictionary<string, Tensor>(), new Dictionary<string, string>(), null);
}

/// <summary>The ID-learning methods by name: the product's (LMIndexer, rq-VAE) and the k-means tree baseline.</summary>
public static class BaselineIndexers
{
    public const string Names = "lmindexer, rqvae or kmeans-tree";

    /// <summary>Null for LMIndexer; the embedding assigner otherwise.</summary>
    public static IEmbeddingCodeAssigner? Parse(string name) => name.ToLowerInvariant() switch
    {
        IdMethods.LMIndexer => null,
        IdMethods.RqVae or "rq-vae" => new RqVaeCodeAssigner(),
        "kmeans-tree" or "tree" => new KMeansTreeCodeAssigner(),
        _ => throw new ArgumentException($"Unknown method '{name}'; expected {Names}."),
    };

    public static string NameOf(IEmbeddingCodeAssigner? baseline) => baseline?.Method ?? IdMethods.LMIndexer;
}
