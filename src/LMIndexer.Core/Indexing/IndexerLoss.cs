using LMIndexer.Core.Runtime;
using LMIndexer.Core.Model;
using LMIndexer.Core.Text;
using LMIndexer.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Indexing;

/// <summary>
/// L = w_r·L_recon + w_c·L_contrastive + w_m·L_commitment for position t (1-based), as the reference
/// computes them (§1.3–1.5 of the reference notes).
/// </summary>
internal static class IndexerLoss
{
    public static (Tensor Total, Dictionary<string, double> Parts) Compute(
        SemanticIndexerModel model, IndexerStage stage, int position, IndexerBatch batch, SemanticIndexerOptions options, Random random)
    {
        var device = model.T5.Shared.weight!.device;
        var size = batch.Tokens.Count;
        var (ids, mask) = TokenBatch.Pad(batch.Tokens, CatalogTokenizer.PadId, device);          // [batch, n]
        var prefix = PrefixTensor(batch.Prefix, position, device);                               // [batch, t-1]

        Tensor h, allStates;
        if (stage == IndexerStage.Warmup)
        {
            using var frozen = torch.no_grad();
            (h, allStates) = model.DecoderStates(ids, mask, prefix);
        }
        else
        {
            (h, allStates) = model.DecoderStates(ids, mask, prefix);                             // h: [batch, d]
        }
        var z = stage == IndexerStage.Continuous ? h : model.Codebook(position).Forward(h).Z;    // [batch, d]

        var parts = new Dictionary<string, double>();
        var total = Reconstruction(model, stage, position, batch, options, random, ids, prefix, h, z).Times(options.ReconstructionWeight);
        parts["recon"] = total.item<float>();
        if (stage == IndexerStage.Warmup)
            return (total, parts);

        var decoderStates = new List<(Tensor States, Tensor Prefix)> { (allStates, prefix) };
        if (options.Contrastive)
        {
            var scale = LogitScale(model, options);
            var (contrastive, extraStates) = position == 1
                ? InBatch(model, ids, mask, prefix, h, scale)
                : HardNegatives(model, batch, position, ids, mask, prefix, h, device, scale);
            if (contrastive is not null)
            {
                total = total.Plus(contrastive.Times(options.ContrastiveWeight));
                parts["contrastive"] = contrastive.item<float>();
            }
            decoderStates.AddRange(extraStates);
        }
        if (options.Commitment && position > 1)
        {
            var commitment = Commitment(model, position, decoderStates);
            total = total.Plus(commitment.Times(options.CommitmentWeight));
            parts["commitment"] = commitment.item<float>();
        }
        return (total, parts);
    }

    /// <summary>Every text token rebuilt from the ID vector(s) and a masked view of the text.</summary>
    private static Tensor Reconstruction(SemanticIndexerModel model, IndexerStage stage, int position, IndexerBatch batch,
        SemanticIndexerOptions options, Random random, Tensor ids, Tensor prefix, Tensor h, Tensor z)
    {
        var maskRatio = stage == IndexerStage.Warmup ? 0 : position == 1 ? options.MaskRatioFirst : options.MaskRatioLater;
        var targets = ReconstructionMasks.Build(batch.Tokens, position, maskRatio, random, ids.device);
        var slots = position == 1
            ? z.unsqueeze(1)                                                                       // [batch, 1, d]
            : torch.cat([model.T5.Embed(model.IdTokenIds(prefix)), z.unsqueeze(1)], 1);            // [batch, t, d]
        var context = torch.cat([slots, model.T5.Embed(ids)], 1);                                  // [batch, t + n, d]
        var (batchSize, length, dim) = (context.shape[0], context.shape[1], context.shape[2]);
        Tensor? hidden = null;
        for (var s = 0; s < position; s++)
        {
            // One query stream per ID slot, summed (the reference sums its two streams at position 2).
            var query = slots[.., s];
            if (s == position - 1 && position > 1 && options.ReplicateReferenceLeak)
                query = h;
            var stream = model.Reconstructor.Forward(query.unsqueeze(1).expand(batchSize, length, dim), context, targets.Visible);
            hidden = hidden is null ? stream : hidden.Plus(stream);                                 // [batch, t + n, d]
        }
        return LabelledRowsLoss(hidden!, model.T5.Shared.weight!, targets.Labels, LogitScale(model, options));
    }

    /// <summary>
    /// Token cross-entropy of <paramref name="hidden"/> through the tied embedding, averaged over the
    /// labelled rows: the same value as the full <see cref="T5Model.SequenceLoss"/>, but only those
    /// rows reach the vocabulary projection (ID slots, &lt;/s&gt; and padding carry no label, and the
    /// [rows, vocabulary] logits are the step's largest tensor).
    /// </summary>
    internal static Tensor LabelledRowsLoss(Tensor hidden, Tensor embedding, Tensor labels, double scale)
    {
        var flatLabels = labels.reshape(-1);                                                        // [batch × len]
        var rows = flatLabels.OtherThan(T5Model.IgnoreIndex).nonzero().squeeze(1);                        // [labelled]
        var selected = hidden.reshape(-1, hidden.shape[^1]).index_select(0, rows);                  // [labelled, d]
        var logits = selected.matmul(embedding.t()).Times(scale);                                    // [labelled, vocab]
        return nn.functional.cross_entropy(logits.to(ScalarType.Float32), flatLabels.index_select(0, rows));
    }

    /// <summary>Position 1: SimCSE-style, two dropout views, raw dot products, in-batch negatives.</summary>
    private static (Tensor? Loss, List<(Tensor States, Tensor Prefix)> States) InBatch(SemanticIndexerModel model, Tensor ids, Tensor mask, Tensor prefix, Tensor h, double scale)
    {
        var (second, secondAll) = model.DecoderStates(ids, mask, prefix);                          // [batch, d]
        var scores = h.matmul(second.t()).Times(scale);                                             // [batch, batch]
        var target = TensorArithmetic.Range(h.shape[0], h.device);
        return (nn.functional.cross_entropy(scores.to(ScalarType.Float32), target), [(secondAll, prefix)]);
    }

    /// <summary>Positions ≥ 2: the item's second view against its same-prefix hard negatives; rows without negatives are left out.</summary>
    private static (Tensor? Loss, List<(Tensor States, Tensor Prefix)> States) HardNegatives(SemanticIndexerModel model, IndexerBatch batch, int position,
        Tensor ids, Tensor mask, Tensor prefix, Tensor h, Device device, double scale)
    {
        var rows = Enumerable.Range(0, batch.Tokens.Count).Where(i => batch.Negatives is not null && batch.Negatives[i].Length > 0).ToArray();
        if (rows.Length == 0)
            return (null, []);
        var count = batch.Negatives![rows[0]].Length;
        var rowIndex = torch.tensor(rows.Select(r => (long)r).ToArray(), device: device);
        var (second, secondAll) = model.DecoderStates(ids.index_select(0, rowIndex), mask.index_select(0, rowIndex), prefix.index_select(0, rowIndex)); // [rows, d]
        var negativeTokens = rows.SelectMany(r => batch.Negatives[r]).ToList();
        var (negIds, negMask) = TokenBatch.Pad(negativeTokens, CatalogTokenizer.PadId, device);
        var negPrefix = prefix.index_select(0, rowIndex).repeat_interleave(count, 0);             // [rows × m, t-1]
        var (negatives, negativesAll) = model.DecoderStates(negIds, negMask, negPrefix);           // [rows × m, d]
        var keys = torch.cat([second.unsqueeze(1), negatives.view(rows.Length, count, -1)], 1);    // [rows, 1 + m, d]
        var scores = (h.index_select(0, rowIndex).unsqueeze(1) * keys).sum(-1).Times(scale);         // [rows, 1 + m]
        var target = torch.zeros(rows.Length, dtype: ScalarType.Int64, device: device);
        return (nn.functional.cross_entropy(scores.to(ScalarType.Float32), target), [(secondAll, prefix.index_select(0, rowIndex)), (negativesAll, negPrefix)]);
    }

    /// <summary>CE of the indexer's own (scaled) LM logits on its earlier codes, over the earlier positions' ID columns.</summary>
    private static Tensor Commitment(SemanticIndexerModel model, int position, List<(Tensor States, Tensor Prefix)> encodings)
    {
        // ID ranges are contiguous: positions 0..t-2 span [offset(0), offset(t-1)).
        var first = model.Tokenizer.IdTokenOffset(0);
        var end = model.Tokenizer.IdTokenOffset(position - 1);
        var logits = new List<Tensor>();
        var targets = new List<Tensor>();
        foreach (var (states, prefix) in encodings)
        {
            // Decoder state j (after [start, c1..cj]) must predict code j+1.
            var columns = model.T5.LmLogits(states[.., ..(position - 1)])[.., .., first..end];       // [batch, t-1, ID columns]
            logits.Add(columns.reshape(-1, columns.shape[^1]));
            targets.Add(model.IdTokenIds(prefix).Minus(first).reshape(-1));                             // [batch × (t-1)]
        }
        return nn.functional.cross_entropy(torch.cat(logits, 0).to(ScalarType.Float32), torch.cat(targets, 0));
    }

    private static double LogitScale(SemanticIndexerModel model, SemanticIndexerOptions options) =>
        options.ScaleLogits ? Math.Pow(model.T5.Config.DModel, -0.5) : 1.0;

    private static Tensor PrefixTensor(long[][] prefix, int position, Device device)
    {
        var flat = prefix.SelectMany(p => p.Take(position - 1)).ToArray();
        return tensor(flat, [prefix.Length, position - 1], device: device);
    }
}
