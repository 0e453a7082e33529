using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Data;
using LMIndexer.Core.Encoders;
using LMIndexer.Core.Generation;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Model;
using LMIndexer.Core.Text;
using TorchSharp;

namespace LMIndexer.Core.Downstream;

/// <summary>
/// The <see cref="ItemTextProjection"/> of a recommender with a dense item head: its training
/// items' texts embedded by a packaged encoder, mapped onto the item vectors it learned and kept as
/// a neighbour pool; given the recommender's training examples, also a map trained on its dense
/// head's loss. Serving gives an item added after training a dense vector from its text through
/// one of them (<c>Inference:NewItemVectorSource</c>).
/// </summary>
public static class ColdStartProjection
{
    /// <summary>Training examples the ranking map reads at most (a fixed-seed sample above it): enough for a 385 × d map, and a few minutes on one core.</summary>
    public const int MaxRankingExamples = 50_000;

    /// <summary>The encoder new items' texts are embedded with (not yet chosen by a measurement: the cold-start benchmark will).</summary>
    public static PretrainedEncoderPackage DefaultEncoder => PretrainedEncoderPackage.MiniLm;

    /// <summary>
    /// The projection of <paramref name="bundle"/>'s item vectors, or null when its network has none
    /// to project onto or fewer than <see cref="ItemTextProjection.MinimumItems"/> (new items then rank by their IDs alone).
    /// With <paramref name="training"/> (the recommender's training examples) it holds the ranking map too.
    /// </summary>
    public static ItemTextProjection? Fit(ModelBundle bundle, SemanticIdTable table, IReadOnlyList<CatalogItem> catalog, IReadOnlyList<GenerativeExample>? training = null,
        PretrainedEncoderPackage? encoder = null, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(catalog);
        var model = bundle.Model;
        if (!model.Config.DenseItemHead || model.SourceItems is null || model.Config.SourceItemCount < ItemTextProjection.MinimumItems)
            return null;
        // The item vectors' rows follow the ID table.
        var byId = catalog.ToDictionary(i => i.ItemId, StringComparer.Ordinal);
        var ids = table.ItemIds.Take(model.Config.SourceItemCount).ToList();
        var missing = ids.FirstOrDefault(id => !byId.ContainsKey(id));
        if (missing is not null)
            throw new ArgumentException($"Item '{missing}' of the bundle is not in the catalog: its text is needed to fit the projection.", nameof(catalog));
        encoder ??= DefaultEncoder;
        using var onnx = new OnnxSentenceEncoder(encoder, torch.get_num_threads());
        var texts = onnx.Embed([.. ids.Select(id => ItemTextBuilder.Build(byId[id]))], progress: progress, cancellationToken: cancellationToken);
        using var weights = model.SourceItems.weight!.detach().to(torch.ScalarType.Float32).cpu().contiguous();   // [items, d_model]
        var flat = weights.data<float>().ToArray();
        var width = model.Config.DModel;
        var vectors = Enumerable.Range(0, ids.Count).Select(i => flat.AsSpan(i * width, width).ToArray()).ToList();
        var denseHead = training is null ? null : DenseHeadQueries(model, training, MaxRankingExamples, seed: 0, cancellationToken);
        return ItemTextProjection.Fit(encoder.Name, texts, vectors, denseHead: denseHead);
    }

    /// <summary>
    /// The dense head's scaled query for (a fixed-seed sample of at most <paramref name="limit"/> of) the
    /// examples, each with its first target, as the network in eval mode computes them.
    /// </summary>
    public static DenseHeadExamples DenseHeadQueries(T5Model model, IReadOnlyList<GenerativeExample> examples, int limit, int seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(examples);
        if (!model.Config.DenseItemHead)
            throw new ArgumentException("The network has no dense item head (T5Config.DenseItemHead).", nameof(model));
        var picked = examples.Where(e => e.Targets.Length > 0 && e.Targets[0] < model.Config.SourceItemCount).ToArray();
        if (picked.Length > limit)
        {
            new Random(seed).Shuffle(picked);
            picked = picked[..limit];
        }
        var width = model.Config.DModel;
        var queries = new float[picked.Length * width];
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            var done = 0;
            foreach (var batch in picked.Chunk(256))
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = torch.NewDisposeScope();
                var first = EncodedSources.Encode([model], [.. batch.Select(e => e.Source)]).DecodeFirst([model]).First[0];   // [b, d_model]
                var scaled = DenseScores.ScaledQuery(model, first).cpu().contiguous();                                        // [b, d_model]
                scaled.data<float>().CopyTo(queries.AsSpan(done * width, batch.Length * width));
                done += batch.Length;
            }
        }
        finally
        {
            if (wasTraining)
                model.train();
        }
        return new DenseHeadExamples(width, queries, [.. picked.Select(e => e.Targets[0])]);
    }
}
