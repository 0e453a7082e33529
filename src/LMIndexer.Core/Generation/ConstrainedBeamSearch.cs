using LMIndexer.Core.Runtime;
using LMIndexer.Core.Model;
using LMIndexer.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Generation;

/// <summary>One generated item: its index in the trie's item list and its sequence log-probability.</summary>
public readonly record struct RankedItem(int Item, float Score);

/// <summary>
/// Batched beam search over ID tokens with the KV cache. Many requests × beams run as one batch;
/// at every step the trie tables mask the tokens that do not continue a valid ID, so every finished
/// beam is a distinct item. Decoding runs exactly ID-length steps (no <c>&lt;/s&gt;</c> step: IDs
/// have one length, so it would only add a constant-free term the ranking does not need).
/// Scores are full-vocabulary log-probabilities, as Hugging Face's constrained beam search ranks.
/// Deterministic: no sampling, ties broken by topk's index order.
/// </summary>
public static class ConstrainedBeamSearch
{
    /// <summary>Ranked items per source (best first, at most <paramref name="beams"/>, fewer when the trie has fewer paths).</summary>
    /// <remarks><paramref name="useKvCache"/> = false recomputes every step from scratch (for tests and the cache benchmark).</remarks>
    public static RankedItem[][] Search(T5Model model, IReadOnlyList<int[]> sources, TrieTables trie, int beams, bool useKvCache = true) =>
        Run([model], sources, trie, beams, constrained: true, useKvCache);

    /// <summary>
    /// The same search scored by an ensemble: every step extends the beams by the mean of the
    /// models' next-token log-probabilities, so an item's score is the mean of its sequence
    /// log-probabilities under each model. The models must share the vocabulary and special tokens
    /// (recommenders trained on one ID table with different seeds, say).
    /// </summary>
    public static RankedItem[][] Search(IReadOnlyList<T5Model> models, IReadOnlyList<int[]> sources, TrieTables trie, int beams, bool useKvCache = true) =>
        Run(models, sources, trie, beams, constrained: true, useKvCache);

    /// <summary>Greedy decoding under the same constraint: one beam per request.</summary>
    public static RankedItem[] Greedy(T5Model model, IReadOnlyList<int[]> sources, TrieTables trie) =>
        [.. Run([model], sources, trie, 1, constrained: true, useKvCache: true).Select(r => r.Length > 0 ? r[0] : new RankedItem(-1, float.NegativeInfinity))];

    /// <summary>
    /// Plain beam search over the whole vocabulary for the same number of steps (the benchmark's
    /// baseline); sequences that are not IDs are dropped, repeated items keep their best beam.
    /// </summary>
    public static RankedItem[][] Unconstrained(T5Model model, IReadOnlyList<int[]> sources, TrieTables trie, int beams) =>
        Run([model], sources, trie, beams, constrained: false, useKvCache: true);

    /// <summary>
    /// The ensemble search that also hands back each model's encoded sources and first decoder
    /// state, owned by the caller's dispose scope (hybrid ranking scores the dense head on them).
    /// </summary>
    internal static RankedItem[][] Search(IReadOnlyList<T5Model> models, IReadOnlyList<int[]> sources, TrieTables trie, int beams, out EncodedSources encoded)
    {
        EncodedSources? kept = null;
        var ranked = Run(models, sources, trie, beams, constrained: true, useKvCache: true, keep: e => kept = e);
        encoded = kept ?? throw new ArgumentException("At least one source is needed.", nameof(sources));
        return ranked;
    }

    private static RankedItem[][] Run(IReadOnlyList<T5Model> models, IReadOnlyList<int[]> sources, TrieTables tables, int beams, bool constrained, bool useKvCache, Action<EncodedSources>? keep = null)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentOutOfRangeException.ThrowIfLessThan(beams, 1);
        if (models.Count == 0)
            throw new ArgumentException("At least one model is needed.", nameof(models));
        var config = models[0].Config;
        if (models.Any(m => m.Config.VocabSize != config.VocabSize || m.Config.PadTokenId != config.PadTokenId || m.Config.DecoderStartTokenId != config.DecoderStartTokenId))
            throw new ArgumentException("Ensembled models must share the vocabulary and special tokens.", nameof(models));
        if (sources.Count == 0)
            return [];
        using var noGrad = torch.no_grad();
        using var scope = NewDisposeScope();
        var caches = models.Select(m => new DecoderCache(m.Decoder.LayerCount)).ToArray();
        try
        {
            var encoded = EncodedSources.Encode(models, sources);
            var ranked = Decode(models, caches, encoded, sources.Count, tables, beams, constrained, useKvCache);
            if (keep is not null)
            {
                encoded.MoveToOuterDisposeScope();
                keep(encoded);
            }
            return ranked;
        }
        finally
        {
            foreach (var cache in caches)
                cache.Dispose();
        }
    }

    private static RankedItem[][] Decode(IReadOnlyList<T5Model> models, DecoderCache[] caches, EncodedSources sources, int requests, TrieTables tables, int beams, bool constrained, bool useKvCache)
    {
        var trie = tables.Trie;
        var config = models[0].Config;
        var device = models[0].Shared.weight!.device;
        var encoded = sources.Memory;                                                   // per model: [requests, src, d_model]
        var masks = sources.Masks;                                                      // per model: [requests, src]
        var next = TensorArithmetic.Full(requests, 1, config.DecoderStartTokenId, ScalarType.Int64, device); // [rows, 1]
        var scores = torch.zeros(requests, 1, dtype: ScalarType.Float32, device: device); // [requests, beamsPerRequest]
        var nodes = torch.zeros(requests, dtype: ScalarType.Int64, device: device);    // [rows] trie node of each beam
        var tokens = torch.empty(requests, 0, dtype: ScalarType.Int64, device: device); // [rows, step]
        var perRequest = 1;
        for (var depth = 0; depth < trie.Length; depth++)
        {
            // Without the cache every step re-decodes the whole prefix; it is the same for every model.
            Tensor? request = null, prefix = null;
            if (!useKvCache)
            {
                request = TensorArithmetic.Range(requests, device).repeat_interleave(perRequest); // [rows]
                prefix = torch.cat([TensorArithmetic.Full(request.shape[0], 1, config.DecoderStartTokenId, ScalarType.Int64, device), tokens], 1);
            }
            Tensor? sum = null;                                                         // [rows, vocab]
            for (var m = 0; m < models.Count; m++)
            {
                Tensor hidden;
                if (useKvCache)
                {
                    hidden = models[m].Decode(next, encoded[m], masks[m], caches[m]);   // [rows, 1, d_model]
                }
                else
                {
                    hidden = models[m].Decode(prefix!, encoded[m].index_select(0, request!), masks[m].index_select(0, request!)); // [rows, depth + 1, d_model]
                    hidden = hidden.narrow(1, hidden.shape[1] - 1, 1);                  // [rows, 1, d_model]
                }
                if (depth == 0)
                    sources.First[m] = hidden[.., -1];                                  // [requests, d_model]
                var modelLogProbs = models[m].LmLogits(hidden)[.., -1].to(ScalarType.Float32).log_softmax(-1); // [rows, vocab]
                sum = sum is null ? modelLogProbs : sum.Plus(modelLogProbs);
            }
            var logProbs = models.Count == 1 ? sum! : sum!.Over(models.Count);            // [rows, vocab]
            Tensor candidates, children = null!;
            int first = 0, width;
            if (constrained)
            {
                first = tables.FirstToken[depth];
                width = tables.Width[depth];
                children = tables.NextNodes(depth, nodes);                              // [rows, width]
                candidates = logProbs.narrow(1, first, width).masked_fill(children.Below(0), TensorArithmetic.NegativeInfinity);
            }
            else
            {
                width = (int)logProbs.shape[1];
                candidates = logProbs;
            }
            var total = scores.view(-1, 1).Plus(candidates).view(requests, perRequest * width); // [requests, beams·width]
            var keep = (int)Math.Min(beams, total.shape[1]);
            var (top, index) = total.topk(keep, dim: 1);                               // [requests, keep]
            using var span = ((long)width).ToScalar();
            var parent = index.div(span, rounding_mode: RoundingMode.floor);           // [requests, keep]
            var token = index.remainder(span);                                         // [requests, keep]
            var rows = TensorArithmetic.Range(requests, device).unsqueeze(1).Times(perRequest).Plus(parent).view(-1); // [requests·keep]
            if (constrained)
            {
                var chosen = children.index_select(0, rows).gather(1, token.view(-1, 1)).view(-1); // [requests·keep]
                // Dead beams (fewer valid paths than beams) point at −1; park them on a real node —
                // their −∞ score keeps them out of the results.
                nodes = chosen.AtLeast(trie.DepthStart[depth + 1]);
            }
            next = token.view(-1, 1).Plus(first);                                      // [requests·keep, 1] vocabulary ids
            tokens = torch.cat([tokens.index_select(0, rows), next], 1);               // [requests·keep, depth+1]
            foreach (var cache in caches)
                cache.ReorderSelf(rows);
            scores = top;
            perRequest = keep;
        }
        return Collect(trie, scores, constrained ? nodes : null, tokens, requests, perRequest);
    }

    private static RankedItem[][] Collect(IdTrie trie, Tensor scores, Tensor? leaves, Tensor tokens, int requests, int perRequest)
    {
        var scoreValues = scores.cpu().data<float>().ToArray();
        var leafValues = leaves?.cpu().data<long>().ToArray();
        var tokenValues = tokens.cpu().data<long>().ToArray();
        var results = new RankedItem[requests][];
        var sequence = new int[trie.Length];
        for (var r = 0; r < requests; r++)
        {
            var ranked = new List<RankedItem>(perRequest);
            var seen = new HashSet<int>();
            for (var b = 0; b < perRequest; b++)
            {
                var row = r * perRequest + b;
                var score = scoreValues[row];
                if (float.IsNegativeInfinity(score))
                    continue;
                int item;
                if (leafValues is not null)
                {
                    item = trie.LeafItem[leafValues[row]];
                }
                else
                {
                    for (var t = 0; t < trie.Length; t++)
                        sequence[t] = (int)tokenValues[row * trie.Length + t];
                    item = trie.Find(sequence);
                }
                if (item >= 0 && seen.Add(item))
                    ranked.Add(new RankedItem(item, score));
            }
            results[r] = [.. ranked];
        }
        return results;
    }
}
