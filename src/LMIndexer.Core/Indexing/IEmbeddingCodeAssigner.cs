using LMIndexer.Core.Training;
using static TorchSharp.torch;

namespace LMIndexer.Core.Indexing;

/// <summary>
/// Codes from a method that quantises sentence vectors, and what the bundle keeps to code new items
/// later: the trained state (saved as <paramref name="StateFile"/>; empty when the method cannot code
/// new items) and the manifest properties needed to rebuild it.
/// </summary>
public sealed record EmbeddingCodes(long[][] Codes, IReadOnlyDictionary<string, Tensor> State, IReadOnlyDictionary<string, string> Properties, string? StateFile);

/// <summary>
/// Assigns learned ID codes from item embeddings instead of training LMIndexer: the seam through
/// which rq-VAE (a product method) and the research project's k-means tree share the product's
/// backbone, collision counters and bundle format.
/// </summary>
public interface IEmbeddingCodeAssigner
{
    /// <summary>The method name recorded in the bundle manifest (e.g. <c>rqvae</c>).</summary>
    string Method { get; }

    /// <summary>One code per learned position for every item, in item order. // embeddings: [items, d]</summary>
    EmbeddingCodes Assign(Tensor embeddings, SemanticIndexerOptions options, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken);
}
