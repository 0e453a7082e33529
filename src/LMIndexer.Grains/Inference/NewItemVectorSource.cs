namespace LMIndexer.Grains.Inference;

/// <summary>Where a new item's dense vector comes from, given its text vector.</summary>
public enum NewItemVectorSource
{
    /// <summary>The bundle's linear map from text vectors to item vectors (ridge regression over all training items).</summary>
    Projection,

    /// <summary>
    /// The similarity-weighted mean of the learned vectors of the training items whose texts are
    /// nearest (the bundle's neighbour pool); bundles written before the pool existed fall back to
    /// <see cref="Projection"/> with a warning.
    /// </summary>
    Neighbours,

    /// <summary>
    /// The bundle's second linear map, trained on the recommender's dense-head loss so that a new
    /// item's vector ranks it for the users who would choose it; bundles without one (trained
    /// before it existed, or by a path that had no training examples) fall back to
    /// <see cref="Projection"/> with a warning.
    /// </summary>
    Ranking,
}
