using LMIndexer.Core.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LMIndexer.Core.Model;

/// <summary>
/// Multi-head attention as T5 does it: no 1/√d scaling (folded into the initialisation), an
/// optional relative position bias (first layer only, reused by later layers), and a KV cache.
/// </summary>
public sealed class T5Attention : NamedModule
{
    private readonly T5Config config;
    private readonly bool causal;
    private readonly Linear q;
    private readonly Linear k;
    private readonly Linear v;
    private readonly Linear o;
    private readonly Embedding? relativeAttentionBias;

    public T5Attention(T5Config config, bool causal, bool hasRelativeAttentionBias) : base(nameof(T5Attention))
    {
        this.config = config;
        this.causal = causal;
        q = nn.Linear(config.DModel, config.InnerDim, hasBias: false);
        k = nn.Linear(config.DModel, config.InnerDim, hasBias: false);
        v = nn.Linear(config.DModel, config.InnerDim, hasBias: false);
        o = nn.Linear(config.InnerDim, config.DModel, hasBias: false);
        register_module("q", q);
        register_module("k", k);
        register_module("v", v);
        register_module("o", o);
        if (hasRelativeAttentionBias)
        {
            relativeAttentionBias = nn.Embedding(config.RelativeAttentionNumBuckets, config.NumHeads);
            register_module("relative_attention_bias", relativeAttentionBias);
        }
    }

    internal Linear Query => q;
    internal Linear Key => k;
    internal Linear Value => v;
    internal Linear Output => o;
    internal Embedding? RelativeBiasTable => relativeAttentionBias;

    /// <summary>Position bias [1, heads, queryLength, keyLength]; zeros when this layer has no table.</summary>
    public Tensor ComputeBias(long queryLength, long keyLength, long queryOffset, Device device, ScalarType dtype)
    {
        if (relativeAttentionBias is null)
            return torch.zeros(1, config.NumHeads, queryLength, keyLength, dtype: dtype, device: device);
        using var scope = NewDisposeScope();
        var buckets = RelativePositionBias.BucketGrid(queryLength, keyLength, queryOffset, !causal,
            config.RelativeAttentionNumBuckets, config.RelativeAttentionMaxDistance, device); // [q, k]
        var values = relativeAttentionBias.forward(buckets);                                 // [q, k, heads]
        return values.permute(2, 0, 1).unsqueeze(0).to(dtype).MoveToOuterDisposeScope();     // [1, heads, q, k]
    }

    /// <summary>
    /// Attends from <paramref name="hidden"/> to itself, or to <paramref name="keyValueStates"/>
    /// (cross-attention). <paramref name="bias"/> is the position bias plus the additive mask; when
    /// null it is computed here (first layer) and returned for the next layers.
    /// </summary>
    public (Tensor Output, Tensor Bias) Forward(Tensor hidden, Tensor? keyValueStates, Tensor? bias, Tensor? additiveMask, AttentionCache? cache)
    {
        var batch = hidden.shape[0];
        var queryLength = hidden.shape[1];
        var queries = Split(q.forward(hidden), batch); // [batch, heads, q, d_kv]

        Tensor keys, values;
        if (keyValueStates is not null)
        {
            if (cache?.Keys is not null)
            {
                keys = cache.Keys;
                values = cache.Values!;
            }
            else
            {
                keys = Split(k.forward(keyValueStates), batch);   // [batch, heads, s, d_kv]
                values = Split(v.forward(keyValueStates), batch);
                cache?.Set(keys, values);
            }
        }
        else
        {
            keys = Split(k.forward(hidden), batch);               // [batch, heads, q, d_kv]
            values = Split(v.forward(hidden), batch);
            if (cache is not null)
            {
                if (cache.Keys is not null)
                {
                    keys = torch.cat([cache.Keys, keys], 2);        // [batch, heads, past + q, d_kv]
                    values = torch.cat([cache.Values!, values], 2);
                }
                cache.Set(keys, values);
            }
        }

        var keyLength = keys.shape[2];
        if (bias is null)
        {
            if (relativeAttentionBias is null && additiveMask is not null)
            {
                bias = additiveMask;                                 // [batch, 1, 1, k]: no position bias to add it to
            }
            else
            {
                bias = ComputeBias(queryLength, keyLength, keyLength - queryLength, hidden.device, hidden.dtype);
                if (additiveMask is not null)
                    bias = bias.Plus(additiveMask);                  // [batch or 1, heads, q, k]
            }
        }

        // Beam search keeps one copy of the encoder keys per request, not per beam: the beams of a
        // request (consecutive rows) are folded into the query length so they share those keys.
        var group = batch / keys.shape[0];
        if (group > 1)
        {
            if (batch % keys.shape[0] != 0)
                throw new ArgumentException($"{batch} query rows do not divide into the cache's {keys.shape[0]} requests.");
            queries = queries.view(keys.shape[0], group, config.NumHeads, queryLength, config.DKv)
                .transpose(1, 2).reshape(keys.shape[0], config.NumHeads, group * queryLength, config.DKv); // [requests, heads, beams·q, d_kv]
            if (queryLength > 1 && bias.shape[2] > 1)
                bias = bias.repeat(1, 1, group, 1);                  // per-query rows follow the folded queries
        }

        var scores = queries.matmul(keys.transpose(2, 3)).Plus(bias); // [batch, heads, q, k]
        // No fp32 round trip: libtorch's CPU softmax already accumulates bf16 in fp32, and the two
        // casts of the [batch, heads, q, k] scores cost more than the bf16 matmuls save.
        var weights = nn.functional.softmax(scores, -1);
        weights = TrainOnlyDropout.Apply(weights, config.DropoutRate, training);
        var context = weights.matmul(values);                       // [batch, heads, q, d_kv]
        if (group > 1)
        {
            context = context.view(keys.shape[0], config.NumHeads, group, queryLength, config.DKv)
                .transpose(1, 2).reshape(batch, config.NumHeads, queryLength, config.DKv);
        }
        context = context.transpose(1, 2).reshape(batch, queryLength, config.InnerDim); // [batch, q, inner]
        return (o.forward(context), bias);                          // [batch, q, d_model]
    }

    private Tensor Split(Tensor x, long batch) =>
        x.view(batch, -1, config.NumHeads, config.DKv).transpose(1, 2);
}
