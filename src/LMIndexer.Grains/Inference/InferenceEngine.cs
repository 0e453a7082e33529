using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using LMIndexer.Abstractions;
using LMIndexer.Core.Data;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Generation;
using LMIndexer.Core.Indexing;
using LMIndexer.Grains.Items;
using LMIndexer.Grains.Telemetry;
using Microsoft.Extensions.Logging;

namespace LMIndexer.Grains.Inference;

/// <summary>
/// One loaded serving bundle and its dynamic batcher. Requests queue from any thread; dedicated
/// worker threads (<c>Workers</c>, sharing the read-only weights) each take up to
/// <c>MaxBatchSize</c> of them (waiting at most <c>MaxWait</c> after the first), run one batched
/// constrained beam search and complete them. All torch work stays on those threads: dispose scopes
/// are thread-static and the Orleans scheduler must never block.
/// </summary>
public sealed class InferenceEngine : IDisposable
{
    public const string MeterName = "LMIndexer.Inference";

    private static readonly Meter Meter = new(MeterName);
    private static readonly ConcurrentDictionary<InferenceEngine, bool> Live = new();
    private static readonly ObservableGauge<int> QueueGauge = Meter.CreateObservableGauge("lmindexer.inference.queue_length",
        () => Live.Keys.Select(e => new Measurement<int>(e.QueueLength, new KeyValuePair<string, object?>("version", e.Version))),
        description: "Generation requests waiting for a batch, per served version.");
    private static readonly Counter<long> RequestCounter = Meter.CreateCounter<long>("lmindexer.inference.requests",
        description: "Generation requests taken by the inference engine, per served version.");
    private static readonly Histogram<int> BatchSizes = Meter.CreateHistogram<int>("lmindexer.inference.batch_size", unit: null,
        description: "Requests decoded together in one beam search.",
        tags: null, advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
    private static readonly Histogram<double> BatchSeconds = Meter.CreateHistogram<double>("lmindexer.inference.batch_seconds", "s",
        "Time to decode one batch (encoder, beam search, ranking).", tags: null, advice: LatencyBuckets.Seconds);

    /// <summary>From a request's arrival to the start of the beam search that serves it: batching delay plus queueing.</summary>
    private static readonly Histogram<double> QueueWaitSeconds = Meter.CreateHistogram<double>("lmindexer.inference.queue_wait_seconds", "s",
        "Time from a request's arrival to the start of the batch that serves it.", tags: null, advice: LatencyBuckets.Seconds);

    private readonly ServingBundle bundle;
    // Workers decode under the read lock; swapping in a grown trie takes the write lock, so the
    // tables a batch decodes against are never disposed under it.
    private readonly ReaderWriterLockSlim swap = new();
    private HistorySource source;

    // The IDs this engine decodes against: the bundle's, plus items added to the catalog since.
    private SemanticIdTable table;
    private TrieTables tables;
    private bool ownTables;
    private readonly InferenceOptions options;
    private readonly ApproximateDenseItems? approximate;
    // Dense vectors of the items added since training, from their texts through the bundle's projection. // [added, d_model]
    private TorchSharp.torch.Tensor? addedVectors;
    private int itemsWithTextVectors;   // its rows, readable without the lock that guards the tensor
    private readonly Lazy<Core.Encoders.OnnxSentenceEncoder>? textEncoder;
    private readonly Lock adding = new();
    private readonly ILogger logger;
    private readonly BlockingCollection<Request> queue;
    private readonly Thread[] workers;
    private readonly int threadsPerWorker;
    private int idleWorkers;
    private long requests;
    private long batches;
    private long batchedRequests;
    private long decodeTicks;       // Stopwatch ticks spent decoding, all batches
    private long queueWaitTicks;    // Stopwatch ticks requests waited before their batch started
    private int maxBatch;

    public InferenceEngine(ServingBundle bundle, InferenceOptions options, ILogger logger)
    {
        this.bundle = bundle;
        this.options = options;
        this.logger = logger;
        table = bundle.Table;
        tables = bundle.Tables;
        source = new HistorySource(bundle.Bundle.Tokenizer, new Dictionary<string, CatalogItem>(), table, bundle.Source);
        approximate = UsesApproximateIndex(bundle, options) ? BuildApproximateIndex(bundle, options, logger) : null;
        if (NeedsItemTexts && options.NewItemVectorSource == NewItemVectorSource.Neighbours && bundle.Projection!.Neighbours is null)
            logger.LogWarning("Version {Version} has no neighbour pool (written before it existed): new items' vectors come from its linear projection", bundle.Version);
        if (NeedsItemTexts && options.NewItemVectorSource == NewItemVectorSource.Ranking && bundle.Projection!.Ranking is null)
            logger.LogWarning("Version {Version} has no ranking map (fitted without training examples or before it existed): new items' vectors come from its linear projection", bundle.Version);
        if (NeedsItemTexts)
            textEncoder = new(() => new Core.Encoders.OnnxSentenceEncoder(Core.Encoders.PretrainedEncoderPackage.Named(bundle.Projection!.Encoder), threads: 1));
        queue = new BlockingCollection<Request>(options.MaxQueueLength);
        var onGpu = bundle.Bundle.Model.Shared.weight!.device.type != TorchSharp.DeviceType.CPU;
        threadsPerWorker = options.ThreadsPerWorker > 0 ? options.ThreadsPerWorker : onGpu ? 0 : 1;
        var workerCount = options.Workers > 0 ? options.Workers : onGpu ? 1 : Math.Max(1, Environment.ProcessorCount / Math.Max(1, threadsPerWorker));
        idleWorkers = workerCount;
        workers = [.. Enumerable.Range(0, workerCount).Select(i => new Thread(Run) { IsBackground = true, Name = $"inference {bundle.Version} #{i}" })];
        foreach (var worker in workers)
            worker.Start();
        Live[this] = true;
    }

    public string Version => bundle.Version;

    /// <summary>
    /// Whether items added to this engine need their texts: the bundle projects a new item's text
    /// into its dense head's item space (with the approximate index too: each request scores the
    /// added items exactly beside it).
    /// </summary>
    public bool NeedsItemTexts => bundle.Projection is not null;

    /// <summary>Items added since training that have a dense vector from their text.</summary>
    public int ItemsWithTextVectors => Volatile.Read(ref itemsWithTextVectors);

    /// <summary>Whether dense ranking reads an approximate index of the item vectors (<see cref="InferenceOptions.ApproximateDenseAbove"/>).</summary>
    public bool RanksApproximately => approximate is not null;

    /// <summary>Where the approximate index came from: read back from its saved file, or built (and saved); null when not saved or not used.</summary>
    public Core.Retrieval.VectorIndexOrigin? ApproximateIndexOrigin => approximate?.Origins[0];

    private static bool UsesApproximateIndex(ServingBundle bundle, InferenceOptions options)
    {
        var config = bundle.Bundle.Model.Config;
        return options.ApproximateDenseAbove > 0 && config.DenseItemHead && config.SourceItemCount >= options.ApproximateDenseAbove;
    }

    private static ApproximateDenseItems BuildApproximateIndex(ServingBundle bundle, InferenceOptions options, ILogger logger)
    {
        var clock = Stopwatch.StartNew();
        var saved = options.SaveApproximateIndex ? new Core.Retrieval.SavedVectorIndexes(ApproximateIndexDirectory(bundle, options)) : null;
        var built = ApproximateDenseItems.Build([bundle.Bundle.Model], candidates: options.ApproximateDenseCandidates, saved: saved);
        var origin = built.Origins[0];
        logger.LogInformation("Version {Version}: approximate index of {Items} item vectors {How} in {Seconds:F1} s", bundle.Version, built.ItemCount,
            origin is null ? "built" : origin.Loaded ? $"read from {origin.Path}" : $"built and saved to {origin.Path}", clock.Elapsed.TotalSeconds);
        if (origin?.Problem is { } problem)
            logger.LogWarning("Version {Version}: approximate index: {Problem}", bundle.Version, problem);
        return built;
    }

    /// <summary>The folder a bundle's approximate indexes are saved in under these options.</summary>
    public static string ApproximateIndexDirectory(ServingBundle bundle, InferenceOptions options) =>
        string.IsNullOrWhiteSpace(options.ApproximateIndexDirectory) ? Path.Combine(bundle.Directory, "approximate-index") : options.ApproximateIndexDirectory;

    public int QueueLength => queue.Count;

    /// <summary>Decoding threads of this engine.</summary>
    public int WorkerCount => workers.Length;

    /// <summary>Items the engine can generate.</summary>
    public int ItemCount => table.Count;

    /// <summary>First-code values the version's IDs can take (the prefix grains to ask for added items).</summary>
    public int FirstCodes => bundle.Bundle.Tokenizer.IdPositionSizes[0];

    /// <summary>
    /// Makes items that joined the catalog after the bundle was trained generatable: their IDs join
    /// the table and the trie, and when the bundle projects texts (<see cref="NeedsItemTexts"/>)
    /// their <paramref name="texts"/> (one per entry) give them dense vectors. Entries already known
    /// are skipped; returns how many were added. The new trie is built aside and swapped in between
    /// two batches.
    /// </summary>
    public int AddItems(IReadOnlyList<PrefixEntry> entries, IReadOnlyList<string>? texts = null)
    {
        ArgumentNullException.ThrowIfNull(entries);
        // One at a time: each call extends the table and the vectors it read, so two at once would drop one's items.
        lock (adding)
            return AddItemsAlone(entries, texts);
    }

    private int AddItemsAlone(IReadOnlyList<PrefixEntry> entries, IReadOnlyList<string>? texts)
    {
        if (NeedsItemTexts && (texts is null || texts.Count != entries.Count))
            throw new ArgumentException($"Version {Version} gives new items dense vectors from their texts: one text per entry is needed.", nameof(texts));
        var current = table;
        var fresh = entries.Select((entry, i) => (Entry: entry, Text: texts?[i] ?? ""))
            .Where(e => current.Find(e.Entry.ItemId) is null).DistinctBy(e => e.Entry.ItemId).ToList();
        if (fresh.Count == 0)
            return 0;
        var extended = new SemanticIdTable([.. current.ItemIds, .. fresh.Select(e => e.Entry.ItemId)], [.. current.Ids, .. fresh.Select(e => e.Entry.Codes)]);
        var trie = IdTrie.FromTable(extended, bundle.Bundle.Tokenizer);
        var extendedTables = new TrieTables(trie, Core.Runtime.TorchRuntime.Device);
        var extendedVectors = NeedsItemTexts ? WithTextVectors([.. fresh.Select(e => e.Text)]) : null;
        swap.EnterWriteLock();
        try
        {
            if (ownTables)
                tables.Dispose();
            (table, tables, ownTables) = (extended, extendedTables, true);
            source = new HistorySource(bundle.Bundle.Tokenizer, new Dictionary<string, CatalogItem>(), table, bundle.Source);
            if (extendedVectors is not null)
            {
                addedVectors?.Dispose();
                addedVectors = extendedVectors;
                Volatile.Write(ref itemsWithTextVectors, (int)extendedVectors.shape[0]);
            }
        }
        finally
        {
            swap.ExitWriteLock();
        }
        logger.LogInformation("Version {Version} can now generate {Added} items added to the catalog ({Total} in all)", Version, fresh.Count, extended.Count);
        return fresh.Count;
    }

    /// <summary>
    /// The dense vector ranking scores <paramref name="itemId"/> by: its trained row of the item
    /// vectors, its projected text vector when it was added since training, or none.
    /// </summary>
    public ItemVector VectorOf(string itemId)
    {
        ArgumentNullException.ThrowIfNull(itemId);
        var model = bundle.Bundle.Model;
        swap.EnterReadLock();
        try
        {
            var row = table.IndexOf(itemId);
            var trained = model.Config.DenseItemHead ? model.Config.SourceItemCount : 0;
            var added = addedVectors is null ? 0 : (int)addedVectors.shape[0];
            using var noGrad = TorchSharp.torch.no_grad();
            if (row >= 0 && row < trained)
                return new ItemVector(Version, ItemVector.Trained, RowOf(model.SourceItems!.weight!, row));
            if (row >= trained && row < trained + added)
                return new ItemVector(Version, ItemVector.Text, RowOf(addedVectors!, row - trained));
            return new ItemVector(Version, ItemVector.None, []);
        }
        finally
        {
            swap.ExitReadLock();
        }

        static float[] RowOf(TorchSharp.torch.Tensor matrix, int row)
        {
            using var values = matrix[row].to(TorchSharp.torch.ScalarType.Float32).cpu();
            return values.data<float>().ToArray();
        }
    }

    // The added items' vectors so far followed by those of these texts, in table order. // [added, d_model]
    private TorchSharp.torch.Tensor WithTextVectors(IReadOnlyList<string> texts)
    {
        var projection = bundle.Projection!;
        var embedded = textEncoder!.Value.Embed(texts);
        var scale = options.NewItemVectorScale == NewItemVectorScale.TrainedNorm ? MeanTrainedNorm() : 0;
        var neighbours = options.NewItemVectorSource == NewItemVectorSource.Neighbours ? projection.Neighbours : null;
        var ranking = options.NewItemVectorSource == NewItemVectorSource.Ranking;
        // A bundle without the asked-for pool or map gives the linear projection (the constructor warned).
        float[] Vector(float[] text) => neighbours is not null ? Composed(neighbours, text) : (ranking ? projection.ProjectForRanking(text) : null) ?? projection.Project(text);
        var projected = embedded.SelectMany(e => Scaled(Vector(e), scale)).ToArray();
        var device = bundle.Bundle.Model.Shared.weight!.device;
        using var fresh = TorchSharp.torch.tensor(projected, [texts.Count, projection.ItemDimension], device: device);
        return addedVectors is null ? fresh.clone() : TorchSharp.torch.cat([addedVectors, fresh], 0);
    }

    /// <summary>The neighbours' trained vectors weighted as the pool says. // [d_model]</summary>
    private float[] Composed(Core.Downstream.TextNeighbourPool neighbours, float[] text)
    {
        var nearest = neighbours.Nearest(text);
        using var noGrad = TorchSharp.torch.no_grad();
        var weights = bundle.Bundle.Model.SourceItems!.weight!;
        using var rows = TorchSharp.torch.tensor(nearest.Select(n => (long)n.Row).ToArray(), device: weights.device);
        using var picked = weights.index_select(0, rows).to(TorchSharp.torch.ScalarType.Float32).cpu();   // [k, d_model]
        var values = picked.data<float>().ToArray();
        var width = values.Length / nearest.Count;
        var result = new float[width];
        for (var i = 0; i < nearest.Count; i++)
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(values.AsSpan(i * width, width), nearest[i].Weight, result, result);
        return result;
    }

    /// <summary>A vector at <paramref name="norm"/>'s length; as it is when <paramref name="norm"/> is 0 or the vector is.</summary>
    private static float[] Scaled(float[] vector, double norm)
    {
        var length = Math.Sqrt(vector.Sum(v => (double)v * v));
        return norm <= 0 || length == 0 ? vector : [.. vector.Select(v => (float)(v * norm / length))];
    }

    /// <summary>The mean length of the trained item vectors (<see cref="NewItemVectorScale.TrainedNorm"/>).</summary>
    private double MeanTrainedNorm()
    {
        using var noGrad = TorchSharp.torch.no_grad();
        using var norms = bundle.Bundle.Model.SourceItems!.weight!.to(TorchSharp.torch.ScalarType.Float32).norm(1);
        using var mean = norms.mean();
        return mean.cpu().item<float>();
    }

    /// <summary>Queues a history (oldest first) for generation.</summary>
    public Task<GenerationResult> GenerateAsync(IReadOnlyList<ItemRecord> history, int beams) =>
        Enqueue(() => source.Encode([.. history.Select(h => h.ToCatalogItem())]), beams);

    /// <summary>Queues a history of item ids (oldest first) for generation: versions whose source reads only IDs.</summary>
    public Task<GenerationResult> GenerateAsync(IReadOnlyList<string> history, int beams) =>
        bundle.Source.Mode.ReadsItemText()
            ? throw new InvalidOperationException($"Version {Version} reads the items' text ({HistorySourceOptions.ModeName(bundle.Source.Mode)} sources): send their records.")
            : Enqueue(() => source.Encode(history), beams);

    /// <summary>Queues a free-text query for generation.</summary>
    public Task<GenerationResult> SearchAsync(string query, int beams) =>
        Enqueue(() => source.EncodeQuery(query), beams);

    public InferenceStats Stats(string silo) => new(Version, QueueLength, Interlocked.Read(ref requests), Interlocked.Read(ref batches),
        batches == 0 ? 0 : (double)Interlocked.Read(ref batchedRequests) / Interlocked.Read(ref batches), maxBatch, silo, table.Count,
        batches == 0 ? 0 : 1000.0 * Interlocked.Read(ref decodeTicks) / Stopwatch.Frequency / Interlocked.Read(ref batches),
        batchedRequests == 0 ? 0 : 1000.0 * Interlocked.Read(ref queueWaitTicks) / Stopwatch.Frequency / Interlocked.Read(ref batchedRequests),
        ItemsWithTextVectors);

    private Task<GenerationResult> Enqueue(Func<int[]> encode, int beams)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(beams, 1);
        var request = new Request(encode(), beams, new TaskCompletionSource<GenerationResult>(TaskCreationOptions.RunContinuationsAsynchronously), Stopwatch.GetTimestamp());
        if (!queue.TryAdd(request))
            throw new CapacityExceededException($"The inference queue of version {Version} is full ({options.MaxQueueLength} requests); retry later.");
        Interlocked.Increment(ref requests);
        RequestCounter.Add(1, new KeyValuePair<string, object?>("version", Version));
        return request.Completion.Task;
    }

    private void Run()
    {
        // Per thread: OpenMP's thread count is a per-thread setting, so each worker sets its own.
        if (threadsPerWorker > 0)
            Core.Runtime.TorchRuntime.UseThreadsOnThisThread(threadsPerWorker);
        var batch = new List<Request>(options.MaxBatchSize);
        var maxWait = TimeSpan.FromMilliseconds(options.MaxWaitMilliseconds);
        try
        {
            foreach (var first in queue.GetConsumingEnumerable())
            {
                batch.Clear();
                batch.Add(first);
                // Share a backlog with the other idle workers instead of taking all of it: with one
                // thread each, two half batches decode in about half the time of one whole batch. A
                // worker told to wait for company (MaxWaitMilliseconds) fills up to a whole batch in
                // that time instead: the share of an empty queue is one, which would never wait.
                var share = (int)Math.Ceiling((queue.Count + 1.0) / Math.Max(1, Volatile.Read(ref idleWorkers)));
                var limit = maxWait > TimeSpan.Zero ? options.MaxBatchSize : Math.Min(options.MaxBatchSize, share);
                Interlocked.Decrement(ref idleWorkers);
                var clock = Stopwatch.StartNew();
                while (batch.Count < limit)
                {
                    var left = maxWait - clock.Elapsed;
                    if (left <= TimeSpan.Zero ? !queue.TryTake(out var next) : !queue.TryTake(out next, left))
                        break;
                    batch.Add(next);
                }
                Decode(batch);
                Interlocked.Increment(ref idleWorkers);
            }
        }
        catch (ObjectDisposedException)
        {
            // shutting down
        }
    }

    private void Decode(List<Request> batch)
    {
        var version = new KeyValuePair<string, object?>("version", Version);
        foreach (var request in batch)
        {
            var waited = Stopwatch.GetTimestamp() - request.Arrived;
            Interlocked.Add(ref queueWaitTicks, waited);
            QueueWaitSeconds.Record((double)waited / Stopwatch.Frequency, version);
        }
        var clock = Stopwatch.StartNew();
        try
        {
            var beams = batch.Max(r => r.Beams);
            swap.EnterReadLock();
            try
            {
                // The network ranks as its training chose on validation (hybrid, dense or beams alone).
                var model = bundle.Bundle.Model;
                var ranked = ItemRanker.Rank([model], [.. batch.Select(r => r.Source)], tables, beams, bundle.Ranking.Mode, bundle.Ranking.DenseWeight, approximate: approximate, addedVectors: addedVectors,
                    addedSequence: options.NewItemSequence, addedBoost: options.NewItemBoost);
                for (var i = 0; i < batch.Count; i++)
                {
                    var ids = ranked[i].Take(batch[i].Beams).Select(r => new GeneratedId([.. table.Ids[r.Item]], r.Score, table.ItemIds[r.Item])).ToList();
                    batch[i].Completion.TrySetResult(new GenerationResult(Version, ids));
                }
            }
            finally
            {
                swap.ExitReadLock();
            }
        }
        catch (Exception e)
        {
            logger.LogError(e, "Inference batch of {Count} failed for version {Version}", batch.Count, Version);
            foreach (var request in batch)
                request.Completion.TrySetException(e);
        }
        Interlocked.Increment(ref batches);
        Interlocked.Add(ref batchedRequests, batch.Count);
        for (var seen = maxBatch; batch.Count > seen && Interlocked.CompareExchange(ref maxBatch, batch.Count, seen) != seen; seen = maxBatch)
        {
        }
        BatchSizes.Record(batch.Count, version);
        // One reading for both: the stats' mean and the histogram describe the same batches.
        var ticks = clock.ElapsedTicks;
        Interlocked.Add(ref decodeTicks, ticks);
        BatchSeconds.Record((double)ticks / Stopwatch.Frequency, version);
    }

    public void Dispose()
    {
        Live.TryRemove(this, out _);
        queue.CompleteAdding();
        foreach (var worker in workers)
            worker.Join(TimeSpan.FromSeconds(30));
        foreach (var pending in queue)
            pending.Completion.TrySetCanceled();
        queue.Dispose();
        if (ownTables)
            tables.Dispose();
        approximate?.Dispose();
        addedVectors?.Dispose();
        if (textEncoder is { IsValueCreated: true })
            textEncoder.Value.Dispose();
        bundle.Dispose();
        swap.Dispose();
    }

    private sealed record Request(int[] Source, int Beams, TaskCompletionSource<GenerationResult> Completion, long Arrived);
}
