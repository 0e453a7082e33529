using static TorchSharp.torch;

namespace LMIndexer.Core.Indexing;

/// <summary>
/// Assigns learned ID codes from pooled item embeddings instead of training LMIndexer: the seam
/// through which the research project's baselines (rq-VAE, k-means tree) share the product's
/// backbone, collision counters and bundle format without the product depending on them.
/// </summary>
public interface IEmbeddingCodeAssigner
{
    /// <summary>The method name recorded in the bundle manifest (e.g. <c>rqvae</c>).</summary>
    string Method { get; }

    /// <summary>One code per learned position for every item, in item order. // embeddings: [items, d_model]</summary>
    long[][] Assign(Tensor embeddings, SemanticIndexerOptions options, CancellationToken cancellationToken);
}
