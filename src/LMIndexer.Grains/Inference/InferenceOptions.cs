using Microsoft.Extensions.Options;

namespace LMIndexer.Grains.Inference;

/// <summary>Inference settings of a silo (section <c>Inference</c>).</summary>
public sealed class InferenceOptions
{
    public const string Section = "Inference";

    /// <summary>Requests decoded together at most.</summary>
    public int MaxBatchSize { get; set; } = 64;

    /// <summary>
    /// How long the first request of a batch waits for company when nothing else is queued. 0 (the
    /// default): an idle worker starts at once, and requests that arrive while a batch decodes form
    /// the next batch, which beat waiting at every measured rate (docs/decisions/005-inference-batching.md).
    /// </summary>
    public double MaxWaitMilliseconds { get; set; }

    /// <summary>
    /// Decoding threads per loaded model, each running its own batches. 0 (the default): one on a
    /// GPU, otherwise one per <see cref="ThreadsPerWorker"/> cores. On a CPU several single-threaded
    /// workers beat one worker with many intra-op threads: an OpenMP parallel region waits for its
    /// slowest thread, and in a busy host one of them is always descheduled (docs/decisions/005-inference-batching.md).
    /// </summary>
    public int Workers { get; set; }

    /// <summary>libtorch intra-op threads of each worker. 0 (the default): 1 on a CPU; the process's setting on a GPU.</summary>
    public int ThreadsPerWorker { get; set; }

    /// <summary>Inference grain replicas per version (requests spread by user).</summary>
    public int Replicas { get; set; } = 1;

    /// <summary>Beams per request when the caller does not say.</summary>
    public int Beams { get; set; } = 20;

    /// <summary>When no silo has the <c>gpu</c> role, run inference on any silo instead of failing.</summary>
    public bool FallbackToAnySilo { get; set; } = true;

    /// <summary>How long a recommendation waits for the model before it answers from popularity (marked degraded).</summary>
    public int TimeoutMilliseconds { get; set; } = 2000;

    /// <summary>Requests waiting beyond this are refused (back-pressure) instead of queueing forever.</summary>
    public int MaxQueueLength { get; set; } = 4096;

    /// <summary>
    /// A dense-head bundle with at least this many item vectors ranks through an approximate (HNSW)
    /// index of them, built when the version loads, instead of reading the whole table per batch.
    /// At 1 M items exact ranking still met the 50 ms target while the index, on drawn weights, kept
    /// a third of the exact dense top 100 and took minutes to build (docs/capacity.md), so the switch
    /// waits until exact ranking's linear growth passes the target. 0: always exact.
    /// </summary>
    public int ApproximateDenseAbove { get; set; } = 2_000_000;

    /// <summary>Items each request takes from the approximate index (at least the beams are taken).</summary>
    public int ApproximateDenseCandidates { get; set; } = 100;

    /// <summary>
    /// Whether a built approximate index is saved and read back the next time the same bundle loads
    /// (a restart, another silo on the same disk): reading takes seconds where building takes minutes.
    /// </summary>
    public bool SaveApproximateIndex { get; set; } = true;

    /// <summary>Where those indexes are saved; empty: an <c>approximate-index</c> folder inside the bundle's.</summary>
    public string ApproximateIndexDirectory { get; set; } = "";

    /// <summary>
    /// How hybrid ranking scores the IDs of items added after training that have vectors from their
    /// text. The defaults of this and the next three are the cold-start benchmark's choice on
    /// validation (docs/benchmarks.md, "New items from their text").
    /// </summary>
    public Core.Generation.NewItemSequence NewItemSequence { get; set; } = Core.Generation.NewItemSequence.Prefix;

    /// <summary>Where those items' dense vectors come from: the linear projection of their text vectors, their text neighbours' learned vectors, or the map trained on the dense head's loss.</summary>
    public NewItemVectorSource NewItemVectorSource { get; set; } = NewItemVectorSource.Neighbours;

    /// <summary>The length of those items' projected vectors.</summary>
    public NewItemVectorScale NewItemVectorScale { get; set; } = NewItemVectorScale.Projected;

    /// <summary>Nats added to those items' dense logits: a prior that a user's next item is a new one.</summary>
    public double NewItemBoost { get; set; } = 4;
}

/// <summary>Rejects inference settings that cannot work, at start-up.</summary>
public sealed class InferenceOptionsValidator : IValidateOptions<InferenceOptions>
{
    public ValidateOptionsResult Validate(string? name, InferenceOptions options)
    {
        var errors = new List<string>();
        if (options.MaxBatchSize < 1)
            errors.Add($"Inference:MaxBatchSize must be at least 1 (got {options.MaxBatchSize}).");
        if (options.MaxWaitMilliseconds < 0)
            errors.Add($"Inference:MaxWaitMilliseconds cannot be negative (got {options.MaxWaitMilliseconds}).");
        if (options.Workers < 0)
            errors.Add($"Inference:Workers cannot be negative (got {options.Workers}; 0 picks one per core group).");
        if (options.ThreadsPerWorker < 0)
            errors.Add($"Inference:ThreadsPerWorker cannot be negative (got {options.ThreadsPerWorker}; 0 picks 1 on a CPU).");
        if (options.Replicas < 1)
            errors.Add($"Inference:Replicas must be at least 1 (got {options.Replicas}).");
        if (options.Beams < 1)
            errors.Add($"Inference:Beams must be at least 1 (got {options.Beams}).");
        if (options.TimeoutMilliseconds < 1)
            errors.Add($"Inference:TimeoutMilliseconds must be at least 1 (got {options.TimeoutMilliseconds}).");
        if (options.MaxQueueLength < 1)
            errors.Add($"Inference:MaxQueueLength must be at least 1 (got {options.MaxQueueLength}).");
        if (options.ApproximateDenseAbove < 0)
            errors.Add($"Inference:ApproximateDenseAbove cannot be negative (got {options.ApproximateDenseAbove}; 0 keeps dense ranking exact).");
        if (options.ApproximateDenseCandidates < 1)
            errors.Add($"Inference:ApproximateDenseCandidates must be at least 1 (got {options.ApproximateDenseCandidates}).");
        if (!double.IsFinite(options.NewItemBoost))
            errors.Add($"Inference:NewItemBoost must be a finite number (got {options.NewItemBoost}).");
        if (!Enum.IsDefined(options.NewItemSequence))
            errors.Add($"Inference:NewItemSequence must be FullId or Prefix (got {options.NewItemSequence}).");
        if (!Enum.IsDefined(options.NewItemVectorSource))
            errors.Add($"Inference:NewItemVectorSource must be Projection, Neighbours or Ranking (got {options.NewItemVectorSource}).");
        if (!Enum.IsDefined(options.NewItemVectorScale))
            errors.Add($"Inference:NewItemVectorScale must be Projected or TrainedNorm (got {options.NewItemVectorScale}).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
