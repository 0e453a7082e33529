using LMIndexer.Core.Runtime;
using LMIndexer.Core.Model;
using LMIndexer.Core.Text;
using LMIndexer.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Indexing;

/// <summary>
/// Mean-pooled encoder states of the text model, the item embedding the baselines quantise (as the
/// reference's tree baseline and TIGER's RQ-VAE use a text encoder's pooled output).
/// </summary>
public static class ItemEmbeddings
{
    /// <summary>// [items, d_model]</summary>
    public static Tensor Encode(T5Model model, IReadOnlyList<int[]> itemTokens, int batchSize = 128)
    {
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            using var scope = NewDisposeScope();
            var device = model.Shared.weight!.device;
            var chunks = new List<Tensor>();
            for (var start = 0; start < itemTokens.Count; start += batchSize)
            {
                // A batch's activations go at once: held to the end they grow with the catalog (GBs at d_model 256).
                using var batchScope = NewDisposeScope();
                var batch = itemTokens.Skip(start).Take(batchSize).ToList();
                var (ids, mask) = TokenBatch.Pad(batch, CatalogTokenizer.PadId, device);
                var states = model.Encode(ids, mask);                                   // [batch, len, d]
                var weights = mask.to(states.dtype).unsqueeze(-1);                       // [batch, len, 1]
                chunks.Add(((states * weights).sum(1) / weights.sum(1).AtLeast(1.0)).MoveToOuterDisposeScope()); // [batch, d]
            }
            return torch.cat(chunks, 0).MoveToOuterDisposeScope();
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
