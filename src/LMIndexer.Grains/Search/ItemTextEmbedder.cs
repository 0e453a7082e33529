using System.Security.Cryptography;
using LMIndexer.Core.Encoders;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace LMIndexer.Grains.Search;

/// <summary>
/// The silo's sentence encoder for dense search (one ONNX Runtime session, loaded on first use and
/// shared: its Run is thread-safe). Absent (<see cref="Enabled"/> false) when search runs on BM25 alone.
/// With <see cref="SearchOptions.VectorCacheDirectory"/> set, item vectors are kept on disk by text
/// and a restarted silo reads them back instead of embedding them again.
/// </summary>
public sealed class ItemTextEmbedder : IDisposable
{
    private readonly Lazy<OnnxSentenceEncoder>? encoder;
    private readonly Lazy<SentenceVectorFile?>? kept;

    // Runs hold the read side; disposal takes the write side, so a host stopping while a search
    // shard still embeds waits for it instead of freeing the native session under it.
    private readonly ReaderWriterLockSlim running = new();
    private bool disposed;

    public ItemTextEmbedder(IOptions<SearchOptions> options, ILogger<ItemTextEmbedder>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Value.HasEncoder)
            return;
        var package = PretrainedEncoderPackage.Named(options.Value.Encoder);
        Package = package;
        var tuned = options.Value.EncoderModel;
        // Read where needed and not kept: the session holds its own copy of the model.
        byte[] Model() => string.IsNullOrWhiteSpace(tuned) ? package.ReadModel() : File.ReadAllBytes(tuned);
        // Two intra-op threads: many requests run at once, each should not claim every core.
        encoder = new Lazy<OnnxSentenceEncoder>(() => new OnnxSentenceEncoder(package, Model(), threads: 2), LazyThreadSafetyMode.ExecutionAndPublication);
        var directory = options.Value.VectorCacheDirectory;
        if (!string.IsNullOrWhiteSpace(directory))
            kept = new Lazy<SentenceVectorFile?>(() => OpenKept(package, Model(), directory, logger ?? NullLogger<ItemTextEmbedder>.Instance), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The file item vectors are kept in, or null when none is (not asked for, or it could not be opened).</summary>
    public SentenceVectorFile? KeptVectors => kept?.Value;

    // One file per model: named by a hash of the ONNX model served, so another encoder (another
    // release, or fine-tuned weights) never reads vectors it did not make.
    private static SentenceVectorFile? OpenKept(PretrainedEncoderPackage package, byte[] model, string directory, ILogger logger)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(model))[..12];
        var path = Path.Combine(directory, $"{package.Name}-{hash}.vectors");
        try
        {
            var file = SentenceVectorFile.Open(path, package.Config.HiddenSize);
            logger.LogInformation("Search vectors: {Count} item vectors kept in {Path}", file.Count, path);
            return file;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            // Another process on the same folder holds it, or it is damaged: embed without it.
            logger.LogWarning("Search vectors: {Path} cannot be used ({Message}); item texts are embedded at every start", path, e.Message);
            return null;
        }
    }

    public bool Enabled => encoder is not null;

    /// <summary>Whether the ONNX session has been loaded (it is not while every text asked for was kept on disk).</summary>
    public bool EncoderLoaded => encoder is { IsValueCreated: true };

    public PretrainedEncoderPackage? Package { get; }

    /// <summary>Unit vectors of item texts: those kept on disk are read, the rest embedded (and kept). // [texts][d]</summary>
    public float[][] EmbedItems(IReadOnlyList<string> texts)
    {
        if (KeptVectors is not { } file)
            return Run(texts);
        var vectors = new float[texts.Count][];
        var missing = new List<int>();
        for (var i = 0; i < texts.Count; i++)
        {
            if (file.Get(texts[i]) is { } found)
                vectors[i] = found;
            else
                missing.Add(i);
        }
        if (missing.Count == 0)
            return vectors;
        var embedded = Run([.. missing.Select(i => texts[i])]);
        for (var m = 0; m < missing.Count; m++)
        {
            vectors[missing[m]] = embedded[m];
            file.Add(texts[missing[m]], embedded[m]);
        }
        return vectors;
    }

    /// <summary>The unit vector of a query, with the encoder's query prefix. // [d]</summary>
    public float[] EmbedQuery(string query) => Run([Package!.QueryPrefix + query])[0];

    private float[][] Run(IReadOnlyList<string> texts)
    {
        if (encoder is null)
            throw new InvalidOperationException("Search runs without a text encoder (Search:Encoder is none).");
        running.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return encoder.Value.Embed(texts);
        }
        finally
        {
            running.ExitReadLock();
        }
    }

    public void Dispose()
    {
        running.EnterWriteLock();
        try
        {
            if (disposed)
                return;
            disposed = true;
            if (encoder is { IsValueCreated: true })
                encoder.Value.Dispose();
            if (kept is { IsValueCreated: true })
                kept.Value?.Dispose();
        }
        finally
        {
            running.ExitWriteLock();
        }
    }
}
