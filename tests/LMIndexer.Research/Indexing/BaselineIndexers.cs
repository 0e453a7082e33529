using LMIndexer.Core.Indexing;
using static TorchSharp.torch;

namespace LMIndexer.Research.Indexing;

/// <summary>TIGER's rq-VAE over the backbone's pooled embeddings.</summary>
public sealed class RqVaeCodeAssigner(RqVaeOptions? options = null) : IEmbeddingCodeAssigner
{
    public string Method => "rqvae";

    public long[][] Assign(Tensor embeddings, SemanticIndexerOptions indexer, CancellationToken cancellationToken) =>
        RqVaeIndexer.Assign(embeddings, indexer.Positions, indexer.CodebookSize, (options ?? new RqVaeOptions()) with { Seed = indexer.Seed }, indexer.KMeans, cancellationToken);
}

/// <summary>The reference's hierarchical k-means ("tree") over the same embeddings.</summary>
public sealed class KMeansTreeCodeAssigner : IEmbeddingCodeAssigner
{
    public string Method => "kmeans-tree";

    public long[][] Assign(Tensor embeddings, SemanticIndexerOptions options, CancellationToken cancellationToken) =>
        KMeansTreeIndexer.Assign(embeddings, options.Positions, options.CodebookSize, options.KMeans);
}

/// <summary>The ID-learning methods by name: LMIndexer (the product) and the baselines.</summary>
public static class BaselineIndexers
{
    public const string Names = "lmindexer, rqvae or kmeans-tree";

    /// <summary>Null for LMIndexer; the baseline's assigner otherwise.</summary>
    public static IEmbeddingCodeAssigner? Parse(string name) => name.ToLowerInvariant() switch
    {
        "lmindexer" => null,
        "rqvae" or "rq-vae" => new RqVaeCodeAssigner(),
        "kmeans-tree" or "tree" => new KMeansTreeCodeAssigner(),
        _ => throw new ArgumentException($"Unknown method '{name}'; expected {Names}."),
    };

    public static string NameOf(IEmbeddingCodeAssigner? baseline) => baseline?.Method ?? SemanticIndexing.LMIndexerMethod;
}
