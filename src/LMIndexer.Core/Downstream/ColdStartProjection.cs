using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Data;
using LMIndexer.Core.Encoders;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Text;
using TorchSharp;

namespace LMIndexer.Core.Downstream;

/// <summary>
/// The <see cref="ItemTextProjection"/> of a recommender with a dense item head: its training
/// items' texts embedded by a packaged encoder, mapped onto the item vectors it learned and kept as
/// a neighbour pool. Serving gives an item added after training a dense vector from its text through
/// either (<c>Inference:NewItemVectorSource</c>).
/// </summary>
public static class ColdStartProjection
{
    /// <summary>The encoder new items' texts are embedded with (not yet chosen by a measurement: the cold-start benchmark will).</summary>
    public static PretrainedEncoderPackage DefaultEncoder => PretrainedEncoderPackage.MiniLm;

    /// <summary>
    /// The projection of <paramref name="bundle"/>'s item vectors, or null when its network has none
    /// to project onto or fewer than <see cref="ItemTextProjection.MinimumItems"/> (new items then rank by their IDs alone).
    /// </summary>
    public static ItemTextProjection? Fit(ModelBundle bundle, SemanticIdTable table, IReadOnlyList<CatalogItem> catalog, PretrainedEncoderPackage? encoder = null,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
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
        return ItemTextProjection.Fit(encoder.Name, texts, vectors);
    }
}
