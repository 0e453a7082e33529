using LMIndexer.Core.Text;
using LMIndexer.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Indexing;

/// <summary>
/// Eval-mode code assignment: position by position, c_t = argmax_k h^t·E^t_k where h^t is computed
/// after the item's earlier codes. Deterministic (no dropout); used both at the end of training
/// and by <c>index assign</c>, so the two agree by construction.
/// </summary>
public static class SemanticIdAssigner
{
    public const int DefaultBatchSize = 128;

    /// <summary>
    /// Learned codes for every item: [items][positions]. Batch by batch, each item's text is encoded
    /// once and read by every position's decoding (the encoder is most of the work, above all a
    /// pretrained one); the codes equal <see cref="AssignPosition"/> applied position by position.
    /// </summary>
    public static long[][] Assign(SemanticIndexerModel model, IReadOnlyList<int[]> itemTokens, int batchSize = DefaultBatchSize)
    {
        var codes = itemTokens.Select(_ => new long[model.Positions]).ToArray();
        InEvalBatches(model, itemTokens, batchSize, (start, count, ids, mask) =>
        {
            var encoded = model.EncodeSource(ids, mask);                                   // [count, src, d]
            for (var position = 1; position <= model.Positions; position++)
            {
                var states = model.DecoderStatesOf(encoded, mask, Prefix(codes, start, count, position, ids.device)).Last.contiguous();   // [count, d]
                var assigned = model.Codebook(position).Assign(states).data<long>().ToArray();
                for (var i = 0; i < count; i++)
                    codes[start + i][position - 1] = assigned[i];
            }
        });
        return codes;
    }

    /// <summary>Codes of one position given the earlier ones.</summary>
    public static long[] AssignPosition(SemanticIndexerModel model, IReadOnlyList<int[]> itemTokens, long[][] codes, int position, int batchSize = DefaultBatchSize)
    {
        using var states = States(model, itemTokens, codes, position, batchSize);
        return model.Codebook(position).Assign(states).data<long>().ToArray();
    }

    /// <summary>Eval-mode h^t for every item (for k-means and assignment). // [items, d_model]</summary>
    public static Tensor States(SemanticIndexerModel model, IReadOnlyList<int[]> itemTokens, long[][] codes, int position, int batchSize = DefaultBatchSize)
    {
        var chunks = new List<Tensor>();
        using var scope = NewDisposeScope();
        InEvalBatches(model, itemTokens, batchSize, (start, count, ids, mask) =>
            chunks.Add(model.DecoderStates(ids, mask, Prefix(codes, start, count, position, ids.device)).Last.contiguous().MoveToOuterDisposeScope()));   // [count, d]
        return torch.cat(chunks, 0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Runs <paramref name="batch"/>(start, count, ids, mask) over padded batches of the items in eval
    /// mode without gradients. A batch's activations go at once: held to the end they grow with the
    /// catalog (GBs at d_model 256).
    /// </summary>
    private static void InEvalBatches(SemanticIndexerModel model, IReadOnlyList<int[]> itemTokens, int batchSize, Action<int, int, Tensor, Tensor> batch)
    {
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            var device = model.T5.Shared.weight!.device;
            for (var start = 0; start < itemTokens.Count; start += batchSize)
            {
                using var batchScope = NewDisposeScope();
                var count = Math.Min(batchSize, itemTokens.Count - start);
                var (ids, mask) = TokenBatch.Pad([.. Enumerable.Range(start, count).Select(i => itemTokens[i])], CatalogTokenizer.PadId, device);
                batch(start, count, ids, mask);
            }
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>The earlier codes of items start … start + count − 1 before <paramref name="position"/>. // [count, position − 1]</summary>
    private static Tensor Prefix(long[][] codes, int start, int count, int position, Device device) =>
        tensor(Enumerable.Range(start, count).SelectMany(i => codes[i].Take(position - 1)).ToArray(), [count, position - 1], device: device);
}
