using LMIndexer.Core.Model;
using LMIndexer.Core.Runtime;
using LMIndexer.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Generation;

/// <summary>
/// Ranks items for a batch of sources in a <see cref="RankingMode"/>. Generative is
/// <see cref="ConstrainedBeamSearch"/>. Dense and hybrid need networks with a dense item head
/// (<see cref="T5Config.DenseItemHead"/>); an ensemble's log-probabilities are the means of its
/// members', as in beam search. Item numbers are the trie's, which are the item-vector rows (both
/// follow the ID table); items added to the trie after training have no vector, so dense ranking
/// leaves them out and hybrid ranking scores them by their IDs with a uniform dense term.
/// Over a large item table the dense head can read an approximate index instead of every vector
/// (<see cref="ApproximateDenseItems"/>). Deterministic: ties go to the lower item number.
/// </summary>
public static class ItemRanker
{
    /// <summary>Ranked items per source, best first, at most <paramref name="count"/>.</summary>
    /// <param name="count">Items returned per source; in hybrid mode also the beam width and the dense head's candidates.</param>
    /// <param name="denseWeight">Hybrid: the weight of the dense log-probability beside the sequence log-probability.</param>
    /// <param name="approximate">Dense and hybrid: the models' item vectors in approximate indexes, for tables too large to score whole per batch.</param>
    /// <param name="addedVectors">Dense and hybrid, one network: vectors of the items added after training, in trie order after the network's own. // [added, d_model]</param>
    /// <param name="addedSequence">Hybrid: how the IDs of the items with <paramref name="addedVectors"/> are scored.</param>
    /// <param name="addedBoost">Dense and hybrid: nats added to those items' dense logits before the softmax, a prior that the next item is a new one.</param>
    public static RankedItem[][] Rank(IReadOnlyList<T5Model> models, IReadOnlyList<int[]> sources, TrieTables tables, int count, RankingMode mode, double denseWeight = 1,
        ApproximateDenseItems? approximate = null, Tensor? addedVectors = null, NewItemSequence addedSequence = NewItemSequence.FullId, double addedBoost = 0)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (mode == RankingMode.Generative)
            return ConstrainedBeamSearch.Search(models, sources, tables, count);
        if (models.Count == 0)
            throw new ArgumentException("At least one model is needed.", nameof(models));
        // Items added to the trie after training (serving's new items) come after the item vectors' rows;
        // those given vectors from their text come first among them.
        var trained = models[0].Config.SourceItemCount;
        if (models.Any(m => !m.Config.DenseItemHead || m.Config.SourceItemCount != trained))
            throw new ArgumentException($"{RankingModes.Name(mode)} ranking needs networks with a dense item head over the same items.", nameof(models));
        if (addedVectors is not null && (models.Count != 1 || addedVectors.dim() != 2 || addedVectors.shape[1] != models[0].Config.DModel))
            throw new ArgumentException($"Vectors of added items are for one network, {models[0].Config.DModel} values each.", nameof(addedVectors));
        var vectors = trained + (int)(addedVectors?.shape[0] ?? 0);
        if (vectors > tables.Trie.ItemCount)
            throw new ArgumentException($"{vectors} item vectors for the trie's {tables.Trie.ItemCount} items.", nameof(models));
        if (!double.IsFinite(addedBoost))
            throw new ArgumentOutOfRangeException(nameof(addedBoost), addedBoost, "The new items' boost must be a finite number.");
        if (!double.IsFinite(denseWeight) || denseWeight < 0)
            throw new ArgumentOutOfRangeException(nameof(denseWeight), denseWeight, "The dense weight must be a finite number of at least 0.");
        if (sources.Count == 0)
            return [];
        using var noGrad = torch.no_grad();
        using var scope = NewDisposeScope();
        // Hybrid ranking reads the dense head off the beam search's own encodings and first step.
        RankedItem[][]? beams = null;
        EncodedSources encoded;
        if (mode == RankingMode.Hybrid)
            beams = ConstrainedBeamSearch.Search(models, sources, tables, count, out encoded);
        else
            encoded = EncodedSources.Encode(models, sources).DecodeFirst(models);
        var take = Math.Min(count, vectors);
        var dense = approximate is null ? new ExactDenseScores(models, encoded, addedVectors, addedBoost) : approximate.Score(models, encoded, take, addedVectors, addedBoost);
        var top = dense.Top(take);
        if (beams is null)
            return top;

        // The beam's items have their sequence log-probabilities; the dense head's best items that
        // the beam missed are scored by teacher forcing their IDs, the same full-vocabulary sum.
        // Items with text vectors scored by their codes are rescored even when the beam found them.
        bool ByPrefix(int item) => addedSequence == NewItemSequence.Prefix && item >= trained && item < vectors;
        var sequence = new Dictionary<int, float>[sources.Count];
        var missing = new List<(int Request, int Item)>();
        for (var r = 0; r < sources.Count; r++)
        {
            sequence[r] = beams[r].Where(x => !ByPrefix(x.Item)).ToDictionary(x => x.Item, x => x.Score);
            foreach (var item in beams[r].Select(x => x.Item).Where(ByPrefix).Concat(top[r].Select(x => x.Item)).Distinct())
            {
                if (!sequence[r].ContainsKey(item))
                    missing.Add((r, item));
            }
        }
        var scored = SequenceLogProbs(models, encoded, tables, missing, ByPrefix);
        for (var i = 0; i < missing.Count; i++)
            sequence[missing[i].Request][missing[i].Item] = scored[i];

        // An item without a vector (added after training) is one the head knows nothing of: it
        // gets the uniform log-probability, and its ID's sequence log-probability decides.
        var uniform = -Math.Log(vectors);
        var denseValues = dense.LogProbs([.. sequence.SelectMany((items, r) => items.Keys.Where(item => item < vectors).Select(item => (r, item)))]);
        var results = new RankedItem[sources.Count][];
        var next = 0;
        for (var r = 0; r < sources.Count; r++)
        {
            var ranked = new List<RankedItem>(sequence[r].Count);
            foreach (var (item, logProb) in sequence[r])
                ranked.Add(new RankedItem(item, (float)(logProb + (denseWeight * (item < vectors ? denseValues[next++] : uniform)))));
            results[r] = [.. ranked.OrderByDescending(x => x.Score).ThenBy(x => x.Item).Take(count)];
        }
        return results;
    }

    /// <summary>
    /// Sequence log-probabilities of (request, item) pairs by teacher forcing the items' ID tokens,
    /// summed over the full vocabulary's log-softmax as beam search scores, averaged over models.
    /// Items <paramref name="byPrefix"/> names sum every token but the last and add the log of one
    /// over the items that share those tokens (<see cref="NewItemSequence.Prefix"/>).
    /// </summary>
    private static float[] SequenceLogProbs(IReadOnlyList<T5Model> models, EncodedSources encoded, TrieTables tables, IReadOnlyList<(int Request, int Item)> pairs,
        Func<int, bool> byPrefix)
    {
        if (pairs.Count == 0)
            return [];
        var length = tables.Trie.Length;
        var device = encoded.Memory[0].device;
        var flatTokens = new long[pairs.Count * length];
        for (var i = 0; i < pairs.Count; i++)
        {
            for (var t = 0; t < length; t++)
                flatTokens[i * length + t] = tables.TokensOf(pairs[i].Item)[t];
        }
        var targets = torch.tensor(flatTokens, [pairs.Count, length], device: device);              // [pairs, length]
        var weights = new float[pairs.Count * length];      // 1 where a token's log-probability counts
        var offsets = new float[pairs.Count];               // log of one over the siblings, for prefix-scored items
        var anyPrefix = false;
        for (var i = 0; i < pairs.Count; i++)
        {
            var prefix = byPrefix(pairs[i].Item);
            anyPrefix |= prefix;
            for (var t = 0; t < length; t++)
                weights[i * length + t] = prefix && t == length - 1 ? 0 : 1;
            if (prefix)
                offsets[i] = -(float)Math.Log(Siblings(tables.Trie, tables.TokensOf(pairs[i].Item)));
        }
        // Without a prefix-scored pair every token counts, and the mask would multiply by ones.
        var counted = anyPrefix ? torch.tensor(weights, [pairs.Count, length], device: device) : null; // [pairs, length]
        var rows = torch.tensor(pairs.Select(p => (long)p.Request).ToArray(), device: device);          // [pairs]
        Tensor? sum = null;
        for (var m = 0; m < models.Count; m++)
        {
            var model = models[m];
            var start = TensorArithmetic.Full(pairs.Count, 1, model.Config.DecoderStartTokenId, ScalarType.Int64, device);
            var inputs = torch.cat([start, targets[.., ..^1]], 1);                                      // [pairs, length]
            var hidden = model.Decode(inputs, encoded.Memory[m].index_select(0, rows), encoded.Masks[m].index_select(0, rows)); // [pairs, length, d_model]
            var logProbs = model.LmLogits(hidden).to(ScalarType.Float32).log_softmax(-1);               // [pairs, length, vocab]
            var tokenScores = logProbs.gather(2, targets.unsqueeze(2)).squeeze(2);                      // [pairs, length]
            var total = (counted is null ? tokenScores : tokenScores.mul(counted)).sum(1);              // [pairs]
            sum = sum is null ? total : sum.Plus(total);
        }
        var mean = models.Count == 1 ? sum! : sum!.Over(models.Count);
        var values = mean.cpu().data<float>().ToArray();
        for (var i = 0; i < values.Length; i++)
            values[i] += offsets[i];
        return values;
    }

    /// <summary>Items whose IDs share every token but the last with <paramref name="tokens"/> (itself included).</summary>
    private static int Siblings(IdTrie trie, ReadOnlySpan<int> tokens)
    {
        var node = IdTrie.Root;
        foreach (var token in tokens[..^1])
            node = trie.Child(node, token);
        return trie.Offsets[node + 1] - trie.Offsets[node];
    }
}
