using LMIndexer.Core.Runtime;
using LMIndexer.Core.Model;
using LMIndexer.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Generation;

/// <summary>Batched greedy decoding with the KV cache; stops at <c>&lt;/s&gt;</c> or a length limit.</summary>
public static class GreedyDecoder
{
    /// <summary>Returns, per source, the generated ids without the start token and without <c>&lt;/s&gt;</c>.</summary>
    public static List<int[]> Generate(T5Model model, IReadOnlyList<int[]> sources, int maxNewTokens, Func<int, bool>? allowed = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var config = model.Config;
        var device = model.Shared.weight!.device;
        var outputs = sources.Select(_ => new List<int>()).ToList();
        var finished = new bool[sources.Count];
        using var noGrad = torch.no_grad();
        using var scope = NewDisposeScope();
        var (ids, mask) = TokenBatch.Pad(sources, config.PadTokenId, device);    // [batch, src]
        var encoded = model.Encode(ids, mask);                                    // [batch, src, d_model]
        using var cache = new DecoderCache(model.Decoder.LayerCount);
        var next = TensorArithmetic.Full(sources.Count, 1, config.DecoderStartTokenId, ScalarType.Int64, device); // [batch, 1]
        Tensor? disallowed = null;
        if (allowed is not null)
        {
            var block = Enumerable.Range(0, config.VocabSize).Select(t => !allowed(t)).ToArray();
            disallowed = torch.tensor(block, device: device);                     // [vocab]
        }
        for (var step = 0; step < maxNewTokens && finished.Contains(false); step++)
        {
            using var stepScope = NewDisposeScope();
            var logits = model.LmLogits(model.Decode(next, encoded, mask, cache))[.., -1]; // [batch, vocab]
            if (disallowed is not null)
                logits = logits.masked_fill(disallowed, TensorArithmetic.NegativeInfinity);
            var chosen = logits.argmax(-1);                                        // [batch]
            var values = chosen.data<long>().ToArray();
            for (var b = 0; b < values.Length; b++)
            {
                if (finished[b])
                    continue;
                if (values[b] == config.EosTokenId)
                    finished[b] = true;
                else
                    outputs[b].Add((int)values[b]);
            }
            next.Dispose();
            next = chosen.unsqueeze(1).MoveToOuterDisposeScope();
        }
        return [.. outputs.Select(o => o.ToArray())];
    }
}
