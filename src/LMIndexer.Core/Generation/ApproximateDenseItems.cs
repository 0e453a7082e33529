using LMIndexer.Core.Model;
using LMIndexer.Core.Retrieval;
using LMIndexer.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Generation;

/// <summary>
/// Dense ranking over a large item table without reading all of it per batch: each model's item
/// vectors sit in an HNSW index (<see cref="ApproximateVectorIndex"/>), a request's dense query
/// finds its <see cref="Candidates"/> best items there, and only those (and the items hybrid ranking
/// asks about) are scored exactly. The softmax normaliser is the exact sum over the candidates plus
/// an unbiased estimate of the rest from a fixed uniform sample of the items, so log-probabilities
/// stay comparable with the uniform term that hybrid ranking gives items without a vector.
/// </summary>
public sealed class ApproximateDenseItems : IDisposable
{
    private readonly ApproximateVectorIndex[] indexes;
    private readonly long[] sampleRows;         // [sampled] item rows, ascending
    private readonly Tensor[] sampleVectors;    // per model: those rows' vectors, taken once // [sampled, d_model]

    private ApproximateDenseItems(ApproximateVectorIndex[] indexes, VectorIndexOrigin?[] origins, long[] sampleRows, Tensor[] sampleVectors, int candidates, int items)
    {
        this.indexes = indexes;
        Origins = origins;
        this.sampleRows = sampleRows;
        this.sampleVectors = sampleVectors;
        Candidates = candidates;
        ItemCount = items;
    }

    /// <summary>Items each request's dense query takes from each model's index.</summary>
    public int Candidates { get; }

    /// <summary>Item vectors indexed (the same for every model).</summary>
    public int ItemCount { get; }

    /// <summary>Per model: the file its index was read from or saved to; null where no folder was given.</summary>
    public IReadOnlyList<VectorIndexOrigin?> Origins { get; }

    /// <summary>Indexes the item vectors of every model (networks with a dense item head over the same items).</summary>
    /// <param name="candidates">Items taken from each index per request: at least the ranking's count.</param>
    /// <param name="normalizerSample">Items sampled once to estimate the rest of each softmax normaliser.</param>
    /// <param name="saved">Where built indexes are saved and read back from on the next build of the same tables.</param>
    public static ApproximateDenseItems Build(IReadOnlyList<T5Model> models, HnswSettings? settings = null, int candidates = 100, int normalizerSample = 1024, int seed = 17,
        SavedVectorIndexes? saved = null)
    {
        ArgumentNullException.ThrowIfNull(models);
        if (models.Count == 0)
            throw new ArgumentException("At least one model is needed.", nameof(models));
        var items = models[0].Config.SourceItemCount;
        if (models.Any(m => !m.Config.DenseItemHead || m.Config.SourceItemCount != items) || items == 0)
            throw new ArgumentException("Approximate dense ranking needs networks with a dense item head over the same items.", nameof(models));
        ArgumentOutOfRangeException.ThrowIfLessThan(candidates, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(normalizerSample, 1);
        var random = new Random(seed);
        var rows = Enumerable.Range(0, items).OrderBy(_ => random.Next()).Take(normalizerSample).Order().Select(i => (long)i).ToArray();
        var built = new List<ApproximateVectorIndex>(models.Count);
        var origins = new List<VectorIndexOrigin?>(models.Count);
        var sampled = new List<Tensor>(models.Count);
        try
        {
            foreach (var model in models)
            {
                var weight = model.SourceItems!.weight!;
                using var table = weight.detach().to(ScalarType.Float32).cpu().contiguous();   // [items, d_model]
                var values = table.data<float>().ToArray();
                if (saved is null)
                {
                    built.Add(ApproximateVectorIndex.FromRows(values, model.Config.DModel, settings));
                    origins.Add(null);
                }
                else
                {
                    var (index, origin) = saved.GetOrBuild(values, model.Config.DModel, settings);
                    built.Add(index);
                    origins.Add(origin);
                }
                using var sampleItems = torch.tensor(rows, device: weight.device);
                sampled.Add(weight.detach().index_select(0, sampleItems).to(ScalarType.Float32));
            }
            return new ApproximateDenseItems([.. built], [.. origins], rows, [.. sampled], candidates, items);
        }
        catch
        {
            built.ForEach(index => index.Dispose());
            sampled.ForEach(vectors => vectors.Dispose());
            throw;
        }
    }

    /// <summary>
    /// Scores a batch whose first decoder states are in <paramref name="encoded"/>; each request takes
    /// at least <paramref name="take"/> candidates per model. Items added after training
    /// (<paramref name="addedVectors"/>, one network) are few beside the table: each request scores
    /// all of them exactly, in its normaliser and its candidates.
    /// </summary>
    internal DenseScores Score(IReadOnlyList<T5Model> models, EncodedSources encoded, int take, Tensor? addedVectors = null, double addedBoost = 0)
    {
        if (models.Count != indexes.Length || models.Any(m => m.Config.SourceItemCount != ItemCount || m.Config.DModel != indexes[0].Dimension))
            throw new ArgumentException($"These indexes were built for {indexes.Length} networks over {ItemCount} item vectors.", nameof(models));
        return new Approximate(this, models, encoded, Math.Max(Candidates, take), addedVectors, addedBoost);
    }

    public void Dispose()
    {
        foreach (var index in indexes)
            index.Dispose();
        foreach (var vectors in sampleVectors)
            vectors.Dispose();
    }

    private sealed class Approximate : DenseScores
    {
        private readonly IReadOnlyList<T5Model> models;
        private readonly Tensor[] queries;          // per model: [requests, d_model], scaled
        private readonly Tensor[] logNormalizers;   // per model: [requests]
        private readonly SortedSet<int>[] candidates;
        private readonly int trained;
        private readonly Tensor? added;             // [added, d_model], float32, or null
        private readonly double addedBoost;

        public Approximate(ApproximateDenseItems owner, IReadOnlyList<T5Model> models, EncodedSources encoded, int perModel, Tensor? addedVectors, double addedBoost)
        {
            this.models = models;
            trained = owner.ItemCount;
            added = addedVectors is null || addedVectors.shape[0] == 0 ? null : addedVectors.to(ScalarType.Float32);
            this.addedBoost = addedBoost;
            var requests = (int)encoded.First[0].shape[0];
            queries = [.. models.Select((m, i) => ScaledQuery(m, encoded.First[i]))];
            candidates = [.. Enumerable.Range(0, requests).Select(_ => new SortedSet<int>())];
            logNormalizers = new Tensor[models.Count];
            for (var m = 0; m < models.Count; m++)
            {
                var query = queries[m].cpu().data<float>().ToArray();
                var width = (int)queries[m].shape[1];
                var found = new int[requests][];
                for (var r = 0; r < requests; r++)
                {
                    found[r] = [.. owner.indexes[m].Search(query.AsSpan(r * width, width), perModel).Select(h => h.Item)];
                    candidates[r].UnionWith(found[r]);
                }
                logNormalizers[m] = LogNormalizer(owner, m, found);
            }
            if (added is not null)
                AddNewItems(perModel);
        }

        // Every added item's logit per request: each request's best of them join its candidates, and
        // all of them join its normaliser exactly.
        private void AddNewItems(int perRequest)
        {
            var logits = AddedLogits(queries[0]);                                                        // [requests, added]
            var take = (int)Math.Min(perRequest, logits.shape[1]);
            var best = logits.topk(take, dim: 1).indexes.cpu().data<long>().ToArray();                   // [requests, take]
            for (var r = 0; r < candidates.Length; r++)
                candidates[r].UnionWith(best.Skip(r * take).Take(take).Select(j => trained + (int)j));
            logNormalizers[0] = torch.stack([logNormalizers[0], logits.logsumexp(1)], 1).logsumexp(1);   // [requests]
        }

        private Tensor AddedLogits(Tensor query)
        {
            var logits = query.matmul(added!.t());                                                       // [rows, added]
            return addedBoost == 0 ? logits : logits.Plus(addedBoost);
        }

        public override RankedItem[][] Top(int take)
        {
            var pairs = candidates.SelectMany((items, r) => items.Select(item => (r, item))).ToList();
            var values = LogProbs(pairs);
            var top = new RankedItem[candidates.Length][];
            var start = 0;   // pairs run request by request
            for (var r = 0; r < candidates.Length; r++)
            {
                top[r] = BestFirst(candidates[r].Select((item, k) => new RankedItem(item, values[start + k])), take);
                start += candidates[r].Count;
            }
            return top;
        }

        public override float[] LogProbs(IReadOnlyList<(int Request, int Item)> pairs)
        {
            if (pairs.Count == 0)
                return [];
            var device = queries[0].device;
            using var rows = torch.tensor(pairs.Select(p => (long)p.Request).ToArray(), device: device);   // [pairs]
            using var items = torch.tensor(pairs.Select(p => (long)p.Item).ToArray(), device: device);    // [pairs]
            Tensor? sum = null;
            for (var m = 0; m < models.Count; m++)
            {
                var logits = Logits(m, rows, items);                                                    // [pairs]
                var logProbs = logits.sub(logNormalizers[m].index_select(0, rows));
                sum = sum is null ? logProbs : sum.Plus(logProbs);
            }
            var mean = models.Count == 1 ? sum! : sum!.Over(models.Count);
            return mean.cpu().data<float>().ToArray();
        }

        // Model m's scaled dense logit of each (request row, item) pair; items from the trained count on are the added ones. // [pairs]
        private Tensor Logits(int m, Tensor requestRows, Tensor items)
        {
            var pairQueries = queries[m].index_select(0, requestRows);                                    // [pairs, d_model]
            if (added is null)
                return models[m].SourceItems!.weight!.index_select(0, items).to(ScalarType.Float32).mul(pairQueries).sum(1);
            var isAdded = items.Above(trained - 1);                                                       // [pairs]
            var trainedVectors = models[m].SourceItems!.weight!.index_select(0, items.AtMost(trained - 1)).to(ScalarType.Float32);
            var addedVectors = added.index_select(0, items.Minus(trained).AtLeast(0L));                  // [pairs, d_model]
            var logits = torch.where(isAdded.unsqueeze(1), addedVectors, trainedVectors).mul(pairQueries).sum(1);
            return addedBoost == 0 ? logits : torch.where(isAdded, logits.Plus(addedBoost), logits);
        }

        // log Σ exp(logits) over all items, per request: exact over the request's candidates, and the
        // sampled items outside them standing for the rest, each weighted by (rest / sampled rest). // [requests]
        private Tensor LogNormalizer(ApproximateDenseItems owner, int m, int[][] found)
        {
            var device = queries[m].device;
            var requests = found.Length;
            var sampled = owner.sampleRows.Length;
            var sampleLogits = queries[m].matmul(owner.sampleVectors[m].t()).cpu().data<float>().ToArray();   // [requests, sampled]
            // Every request's candidates in one gather: request r's run starts where r − 1's ended.
            using var rows = torch.tensor(found.SelectMany((items, r) => items.Select(_ => (long)r)).ToArray(), device: device);
            using var items = torch.tensor(found.SelectMany(items => items.Select(i => (long)i)).ToArray(), device: device);
            var headLogits = Logits(m, rows, items).cpu().data<float>().ToArray();                            // [candidates of all requests]
            var normalizers = new float[requests];
            var start = 0;
            for (var r = 0; r < requests; r++)
            {
                var head = headLogits.AsSpan(start, found[r].Length).ToArray();
                start += found[r].Length;
                var inHead = found[r].ToHashSet();
                var tail = new List<double>(sampled);
                for (var s = 0; s < sampled; s++)
                {
                    if (!inHead.Contains((int)owner.sampleRows[s]))
                        tail.Add(sampleLogits[(r * sampled) + s]);
                }
                var rest = owner.ItemCount - found[r].Length;
                var terms = head.Select(v => (double)v).ToList();
                if (rest > 0 && tail.Count > 0)
                    terms.Add(LogSumExp(tail) + Math.Log((double)rest / tail.Count));
                normalizers[r] = (float)LogSumExp(terms);
            }
            return torch.tensor(normalizers, device: device);
        }

        private static double LogSumExp(IReadOnlyList<double> values)
        {
            var max = values.Max();
            return max + Math.Log(values.Sum(v => Math.Exp(v - max)));
        }
    }
}
