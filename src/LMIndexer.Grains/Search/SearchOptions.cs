using LMIndexer.Core.Encoders;
using Microsoft.Extensions.Options;

namespace LMIndexer.Grains.Search;

/// <summary>How <c>/api/search</c> ranks (section <c>Search</c>).</summary>
public sealed class SearchOptions
{
    public const string Section = "Search";

    /// <summary>
    /// The packaged sentence encoder of dense ranking (<c>minilm</c>, <c>arctic-xs</c>), or <c>none</c> for BM25 alone.
    /// The default and <see cref="DenseWeight"/>'s are the best mean validation NDCG@10 over the Beauty
    /// search and Cranfield retrieval benchmarks (docs/benchmarks.md, "Search").
    /// </summary>
    public string Encoder { get; set; } = "arctic-xs";

    /// <summary>
    /// An ONNX model of <see cref="Encoder"/>'s shape with other weights, served in its place with
    /// its tokenizer and pooling: the encoder fine-tuned on a shop's queries (the search benchmark's
    /// <c>dense-ft-*</c> systems write one). Empty: the packaged weights.
    /// </summary>
    public string EncoderModel { get; set; } = "";

    /// <summary>BM25's weight in the reciprocal-rank fusion.</summary>
    public double LexicalWeight { get; set; } = 1;

    /// <summary>Dense ranking's weight in the fusion: small, so that it reorders BM25's matches more than it adds its own.</summary>
    public double DenseWeight { get; set; } = 0.25;

    /// <summary>The active search version's generative ranking's weight in the fusion (0, the default until a fusion with it is measured: not asked).</summary>
    public double GenerativeWeight { get; set; }

    /// <summary>How long the generative model may take before the answer goes out without it, marked degraded.</summary>
    public int GenerativeTimeoutMilliseconds { get; set; } = 300;

    /// <summary>Candidates each ranker gives the fusion.</summary>
    public int Candidates { get; set; } = 100;

    /// <summary>
    /// Catalog size from which dense search reads an approximate (HNSW) index in each shard instead
    /// of scanning every item vector (each shard switches at its share, this over the shard count).
    /// Its recall against the exact scan is in docs/benchmarks.md ("Approximate vector index"). 0: always exact.
    /// </summary>
    public int ApproximateDenseAbove { get; set; } = 100_000;

    /// <summary>Vectors a shard holds before it switches to the approximate index.</summary>
    public int ApproximateShardItems => ApproximateDenseAbove == 0 ? 0 : Math.Max(1, (int)Math.Ceiling(ApproximateDenseAbove / (double)CatalogSearchShards.Count));

    /// <summary>
    /// Where the silo keeps the item vectors it has embedded, by text, so that a restart reads them
    /// instead of embedding the catalog again (<see cref="Core.Encoders.SentenceVectorFile"/>); empty: not kept.
    /// </summary>
    public string VectorCacheDirectory { get; set; } = "";

    public bool HasEncoder => !string.Equals(Encoder, "none", StringComparison.OrdinalIgnoreCase);
}

/// <summary>Rejects search settings that cannot work, at start-up.</summary>
public sealed class SearchOptionsValidator : IValidateOptions<SearchOptions>
{
    public ValidateOptionsResult Validate(string? name, SearchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.HasEncoder && !PretrainedEncoderPackage.All.Any(p => p.Name == options.Encoder))
            errors.Add($"Search:Encoder must be none or one of {string.Join(", ", PretrainedEncoderPackage.All.Select(p => p.Name))} (got '{options.Encoder}').");
        if (!string.IsNullOrWhiteSpace(options.EncoderModel) && (!options.HasEncoder || !File.Exists(options.EncoderModel)))
            errors.Add(options.HasEncoder
                ? $"Search:EncoderModel names no file ('{options.EncoderModel}')."
                : "Search:EncoderModel needs Search:Encoder to name the packaged encoder it was fine-tuned from.");
        foreach (var (weight, label) in new[] { (options.LexicalWeight, "LexicalWeight"), (options.DenseWeight, "DenseWeight"), (options.GenerativeWeight, "GenerativeWeight") })
        {
            if (weight < 0 || !double.IsFinite(weight))
                errors.Add($"Search:{label} must be a finite number ≥ 0 (got {weight}).");
        }
        if (options.GenerativeTimeoutMilliseconds is < 1 or > 60_000)
            errors.Add($"Search:GenerativeTimeoutMilliseconds must be 1-60000 (got {options.GenerativeTimeoutMilliseconds}).");
        if (options.ApproximateDenseAbove < 0)
            errors.Add($"Search:ApproximateDenseAbove cannot be negative (got {options.ApproximateDenseAbove}; 0 keeps dense search exact).");
        if (options.Candidates is < 1 or > 1000)
            errors.Add($"Search:Candidates must be 1-1000 (got {options.Candidates}).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
