using LMIndexer.Core.Model;
using LMIndexer.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Generation;

/// <summary>
/// A batch's dense item log-probabilities, averaged over the models: each request's best items,
/// and the value of any (request, item) pair that hybrid ranking asks about. Items are item-vector
/// rows. Tensors live in the caller's dispose scope.
/// </summary>
internal abstract class DenseScores
{
    /// <summary>Each request's <paramref name="take"/> best items, best first (ties: the lower item).</summary>
    public abstract RankedItem[][] Top(int take);

    /// <summary>The mean dense log-probability of each pair.</summary>
    public abstract float[] LogProbs(IReadOnlyList<(int Request, int Item)> pairs);

    /// <summary>Each model's dense query vectors, scaled as <see cref="T5Model.DenseItemLogits"/> scales them. // [requests, d_model]</summary>
    internal static Tensor ScaledQuery(T5Model model, Tensor firstStep) =>
        model.DenseHead!.forward(firstStep).to(ScalarType.Float32).Times(Math.Pow(model.Config.DModel, -0.5));

    protected static RankedItem[] BestFirst(IEnumerable<RankedItem> items, int take) =>
        [.. items.OrderByDescending(x => x.Score).ThenBy(x => x.Item).Take(take)];
}

/// <summary>
/// Every item scored: the log-softmax of each model's dense logits over the whole item table, and
/// over the vectors of items added after training when a single network has them.
/// </summary>
internal sealed class ExactDenseScores : DenseScores
{
    private readonly Tensor logProbs;   // [requests, items]

    /// <param name="addedBoost">Nats added to the logits of the items with <paramref name="addedVectors"/>: a prior for new items.</param>
    public ExactDenseScores(IReadOnlyList<T5Model> models, EncodedSources encoded, Tensor? addedVectors = null, double addedBoost = 0)
    {
        Tensor? sum = null;
        for (var m = 0; m < models.Count; m++)
        {
            var logits = models[m].DenseItemLogits(encoded.First[m]).to(ScalarType.Float32);                          // [requests, items]
            if (addedVectors is not null)
            {
                var added = ScaledQuery(models[m], encoded.First[m]).matmul(addedVectors.to(ScalarType.Float32).t());   // [requests, added]
                if (addedBoost != 0)
                    added = added.Plus(addedBoost);
                logits = torch.cat([logits, added], 1);
            }
            var modelLogProbs = logits.log_softmax(-1);                                                                    // [requests, items + added]
            sum = sum is null ? modelLogProbs : sum.Plus(modelLogProbs);
        }
        logProbs = models.Count == 1 ? sum! : sum!.Over(models.Count);
    }

    public override RankedItem[][] Top(int take)
    {
        var requests = (int)logProbs.shape[0];
        var (topScores, topItems) = logProbs.topk(take, dim: 1);                          // [requests, take]
        var scores = topScores.cpu().data<float>().ToArray();
        var items = topItems.cpu().data<long>().ToArray();
        return [.. Enumerable.Range(0, requests).Select(r => BestFirst(
            Enumerable.Range(0, take).Select(k => new RankedItem((int)items[(r * take) + k], scores[(r * take) + k])), take))];
    }

    public override float[] LogProbs(IReadOnlyList<(int Request, int Item)> pairs)
    {
        if (pairs.Count == 0)
            return [];
        var items = logProbs.shape[1];
        using var flat = torch.tensor(pairs.Select(p => (p.Request * items) + p.Item).ToArray(), device: logProbs.device);
        return logProbs.reshape(-1).index_select(0, flat).cpu().data<float>().ToArray();
    }
}
