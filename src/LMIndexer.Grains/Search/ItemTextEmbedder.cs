using LMIndexer.Core.Encoders;
using Microsoft.Extensions.Options;

namespace LMIndexer.Grains.Search;

/// <summary>
/// The silo's sentence encoder for dense search (one ONNX Runtime session, loaded on first use and
/// shared: its Run is thread-safe). Absent (<see cref="Enabled"/> false) when search runs on BM25 alone.
/// </summary>
public sealed class ItemTextEmbedder : IDisposable
{
    private readonly Lazy<OnnxSentenceEncoder>? encoder;

    // Runs hold the read side; disposal takes the write side, so a host stopping while a search
    // shard still embeds waits for it instead of freeing the native session under it.
    private readonly ReaderWriterLockSlim running = new();
    private bool disposed;

    public ItemTextEmbedder(IOptions<SearchOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Value.HasEncoder)
            return;
        Package = PretrainedEncoderPackage.Named(options.Value.Encoder);
        // Two intra-op threads: many requests run at once, each should not claim every core.
        encoder = new Lazy<OnnxSentenceEncoder>(() => new OnnxSentenceEncoder(Package, threads: 2), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public bool Enabled => encoder is not null;

    public PretrainedEncoderPackage? Package { get; }

    /// <summary>Unit vectors of item texts. // [texts][d]</summary>
    public float[][] EmbedItems(IReadOnlyList<string> texts) => Run(texts);

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
        }
        finally
        {
            running.ExitWriteLock();
        }
    }
}
