using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Downstream;

/// <summary>
/// What a recommender's dense head was asked on its training examples: each example's query,
/// scaled as the head scales it (<see cref="Model.T5Model.DenseItemLogits"/>), and the item row
/// that answered it. An item's dense logit for example n is <c>Queries[n] · vector</c>.
/// </summary>
/// <param name="Queries">[Count × Dimension], row-major.</param>
public sealed record DenseHeadExamples(int Dimension, float[] Queries, int[] Targets)
{
    public int Count => Targets.Length;
}

/// <summary>How the ranking map was chosen, on the examples whose item was held out of its training.</summary>
/// <param name="Epochs">Epochs the held-out items chose (0: the ridge map ranked them best and is kept).</param>
/// <param name="HeldOutExamples">Examples whose answer is a held-out item: each ranks that item, given its vector from text, among every other item's learned vector.</param>
public sealed record RankingMapReport(int Epochs, int HeldOutExamples, double RidgeRecall, double Recall, double RidgeMrr, double Mrr)
{
    /// <summary>The cutoff of <see cref="Recall"/>.</summary>
    public const int Cutoff = 10;

    /// <summary>Epochs the choice tries at most.</summary>
    public const int MaxEpochs = 8;
}

/// <summary>
/// A linear map from text vectors to item vectors trained on the dense head's own loss instead of
/// on the distance to the learned vectors: a new item's vector only has to rank it for the users
/// who would choose it, and a ridge fit spends its capacity on directions of the learned vectors
/// that no query reads. Each batch draws half the items to score through the map and the rest
/// through their learned vectors, so the map learns to compete with trained items on the head's
/// scale, as a new item must; half, because a softmax calibrates each logit whatever the share,
/// and half gives the map the most gradient. It starts from the ridge map; how many epochs is
/// chosen on examples whose item is held out (never scored through the map in training), by mean
/// reciprocal rank, smoother than a top-10 hit on a few thousand examples. The map is then
/// trained again on every example for that many epochs.
/// </summary>
internal static class RankingTextMap
{
    private const int Patience = 2, BatchSize = 256;
    private const double LearningRate = 3e-3, ProjectedShare = 0.5;

    /// <summary>The map (the layout of <see cref="ItemTextProjection"/>'s weights) and how it was chosen.</summary>
    /// <param name="ridgeFitted">The ridge map fitted without the held-out items: where the choice starts.</param>
    /// <param name="ridgeAll">The ridge map fitted on every item: where the kept map starts.</param>
    public static (float[] Weights, RankingMapReport Report) Fit(IReadOnlyList<float[]> texts, IReadOnlyList<float[]> items, DenseHeadExamples examples,
        IReadOnlyCollection<int> heldOut, float[] ridgeFitted, float[] ridgeAll, int seed)
    {
        var itemCount = texts.Count;
        var textDimension = texts[0].Length;
        var itemDimension = items[0].Length;
        if (examples.Dimension != itemDimension)
            throw new ArgumentException($"The dense head's queries are {examples.Dimension} wide; the item vectors {itemDimension}.", nameof(examples));
        if (examples.Queries.Length != examples.Count * examples.Dimension)
            throw new ArgumentException($"{examples.Queries.Length} query values for {examples.Count} examples of {examples.Dimension}.", nameof(examples));
        if (examples.Targets.Any(t => t < 0 || t >= itemCount))
            throw new ArgumentException($"An example's item is outside the {itemCount} items.", nameof(examples));
        using var scope = NewDisposeScope();
        var x = tensor(texts.SelectMany(t => t.Append(1f)).ToArray(), [itemCount, textDimension + 1]);   // [items, t + 1]
        var e = tensor(items.SelectMany(v => v).ToArray(), [itemCount, itemDimension]);                   // [items, d]
        var q = tensor(examples.Queries, [examples.Count, itemDimension]);                                 // [n, d]
        var held = new bool[itemCount];
        foreach (var h in heldOut)
            held[h] = true;
        var training = Enumerable.Range(0, examples.Count).Where(n => !held[examples.Targets[n]]).ToArray();
        var evaluated = Enumerable.Range(0, examples.Count).Where(n => held[examples.Targets[n]]).ToArray();
        if (evaluated.Length == 0 || training.Length == 0)
            return (ridgeAll, new RankingMapReport(0, evaluated.Length, double.NaN, double.NaN, double.NaN, double.NaN));

        var ridge = Score(x, e, q, examples.Targets, evaluated, ridgeFitted, textDimension + 1, itemDimension);
        var best = (Epochs: 0, Score: ridge);
        var declining = 0;
        Train(x, e, q, examples.Targets, ridgeFitted, training, [.. held.Select(h => !h)], RankingMapReport.MaxEpochs, seed, (epoch, weights) =>
        {
            var score = Score(x, e, q, examples.Targets, evaluated, weights, textDimension + 1, itemDimension);
            if (score.Mrr > best.Score.Mrr)
            {
                best = (epoch, score);
                declining = 0;
                return true;
            }
            return ++declining < Patience;
        });
        var report = new RankingMapReport(best.Epochs, evaluated.Length, ridge.Recall, best.Score.Recall, ridge.Mrr, best.Score.Mrr);
        if (best.Epochs == 0)
            return (ridgeAll, report);
        var all = Enumerable.Range(0, examples.Count).ToArray();
        return (Train(x, e, q, examples.Targets, ridgeAll, all, [.. Enumerable.Repeat(true, itemCount)], best.Epochs, seed, null), report);
    }

    /// <summary>
    /// Adam on the dense head's cross-entropy over every item, a random half of the <paramref name="projectable"/>
    /// items scored through the map; <paramref name="afterEpoch"/> sees the weights and says whether to go on.
    /// </summary>
    private static float[] Train(Tensor x, Tensor e, Tensor q, int[] targets, float[] initial, int[] rows, bool[] projectable, int epochs, int seed,
        Func<int, float[], bool>? afterEpoch)
    {
        var random = new Random(seed);
        var shape = new long[] { x.shape[1], e.shape[1] };
        var w = new TorchSharp.Modules.Parameter(tensor(initial, shape));                         // [t + 1, d]
        using var optimizer = optim.Adam([w], lr: LearningRate);
        var order = (int[])rows.Clone();
        var candidates = Enumerable.Range(0, projectable.Length).Where(i => projectable[i]).ToArray();
        for (var epoch = 1; epoch <= epochs; epoch++)
        {
            random.Shuffle(order);
            foreach (var batch in order.Chunk(BatchSize))
            {
                using var step = NewDisposeScope();
                var projected = tensor(candidates.Where(_ => random.NextDouble() < ProjectedShare).Select(i => (long)i).ToArray(), ScalarType.Int64);   // [p]
                var mixed = e.index_copy(0, projected, x.index_select(0, projected).matmul(w));                                                           // [items, d]
                var logits = q.index_select(0, tensor(batch.Select(n => (long)n).ToArray())).matmul(mixed.t());                                          // [b, items]
                var loss = nn.functional.cross_entropy(logits, tensor(batch.Select(n => (long)targets[n]).ToArray()));
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
            }
            if (afterEpoch is not null && !afterEpoch(epoch, Values(w)))
                break;
        }
        return Values(w);
    }

    /// <summary>Each evaluated example's item, scored through the map, ranked among every other item's learned vector.</summary>
    private static (double Recall, double Mrr) Score(Tensor x, Tensor e, Tensor q, int[] targets, int[] evaluated, float[] weights, long textWidth, long itemWidth)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var w = tensor(weights, [textWidth, itemWidth]);
        double hits = 0, reciprocal = 0;
        foreach (var chunk in evaluated.Chunk(1024))
        {
            var item = tensor(chunk.Select(n => (long)targets[n]).ToArray());                        // [m]
            var query = q.index_select(0, tensor(chunk.Select(n => (long)n).ToArray()));             // [m, d]
            var own = query.mul(x.index_select(0, item).matmul(w)).sum(1, keepdim: true);             // [m, 1]
            var logits = query.matmul(e.t());                                                         // [m, items]
            // Items above the held-out one, not counting its own learned vector.
            var above = logits.gt(own).sum(1).sub(logits.gather(1, item.unsqueeze(1)).gt(own).squeeze(1).to(ScalarType.Int64));   // [m]
            var ranks = above.data<long>().ToArray();
            hits += ranks.Count(r => r < RankingMapReport.Cutoff);
            reciprocal += ranks.Sum(r => 1.0 / (r + 1));
        }
        return (hits / evaluated.Length, reciprocal / evaluated.Length);
    }

    private static float[] Values(Tensor w)
    {
        using var copy = w.detach().cpu().contiguous();
        return copy.data<float>().ToArray();
    }
}
