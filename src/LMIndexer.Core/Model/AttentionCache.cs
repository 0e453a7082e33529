using static TorchSharp.torch;

namespace LMIndexer.Core.Model;

/// <summary>
/// Keys and values of one attention layer kept between decoding steps. Cached tensors live
/// outside any dispose scope; replacing them disposes the previous ones.
/// </summary>
public sealed class AttentionCache : IDisposable
{
    public Tensor? Keys { get; private set; }     // [batch, heads, cached, d_kv]
    public Tensor? Values { get; private set; }   // [batch, heads, cached, d_kv]

    public long Length => Keys?.shape[2] ?? 0;

    public void Set(Tensor keys, Tensor values)
    {
        var oldKeys = Keys;
        var oldValues = Values;
        Keys = keys.DetachFromDisposeScope();
        Values = values.DetachFromDisposeScope();
        if (!ReferenceEquals(oldKeys, Keys))
            oldKeys?.Dispose();
        if (!ReferenceEquals(oldValues, Values))
            oldValues?.Dispose();
    }

    /// <summary>Keeps the rows named by <paramref name="batchIndices"/> (beam reordering).</summary>
    public void Reorder(Tensor batchIndices)
    {
        if (Keys is null || Values is null)
            return;
        Set(Keys.index_select(0, batchIndices), Values.index_select(0, batchIndices));
    }

    public void Dispose()
    {
        Keys?.Dispose();
        Values?.Dispose();
        Keys = Values = null;
    }
}

/// <summary>Self- and cross-attention caches for every decoder layer.</summary>
public sealed class DecoderCache : IDisposable
{
    private readonly AttentionCache[] self;
    private readonly AttentionCache[] cross;

    public DecoderCache(int layers)
    {
        self = [.. Enumerable.Range(0, layers).Select(_ => new AttentionCache())];
        cross = [.. Enumerable.Range(0, layers).Select(_ => new AttentionCache())];
    }

    /// <summary>Decoder positions already processed.</summary>
    public long Length => self.Length == 0 ? 0 : self[0].Length;

    public AttentionCache Self(int layer) => self[layer];

    public AttentionCache Cross(int layer) => cross[layer];

    /// <summary>
    /// Reorders the self-attention caches only: beam search keeps the cross-attention keys at one
    /// row per request, shared by that request's beams (see <see cref="T5Attention"/>).
    /// </summary>
    public void ReorderSelf(Tensor batchIndices)
    {
        foreach (var c in self)
            c.Reorder(batchIndices);
    }

    /// <summary>Reorders every layer's cache along the batch dimension.</summary>
    public void Reorder(Tensor batchIndices)
    {
        foreach (var c in self)
            c.Reorder(batchIndices);
        foreach (var c in cross)
            c.Reorder(batchIndices);
    }

    public void Dispose()
    {
        foreach (var c in self)
            c.Dispose();
        foreach (var c in cross)
            c.Dispose();
    }
}
