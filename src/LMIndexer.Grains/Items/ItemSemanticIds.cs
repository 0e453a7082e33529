using LMIndexer.Abstractions;

namespace LMIndexer.Grains.Items;

/// <summary>
/// An item's semantic ID per index version, over <see cref="ItemState"/>: what a backfill's write
/// or a retirement's removal changes, and what the item shows. <see cref="ItemGrain"/> persists the
/// state; the rules live here so that each is unit-tested without a cluster.
/// </summary>
internal sealed class ItemSemanticIds(ItemState state)
{
    /// <summary>Sets the item's ID in a version; false when it already had exactly that ID (nothing to write).</summary>
    public bool Set(VersionedSemanticId id)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(id.Codes);
        if (state.SemanticIds.TryGetValue(id.Version, out var existing) && existing.AsSpan().SequenceEqual(id.Codes))
            return false;
        state.SemanticIds[id.Version] = id.Codes;
        return true;
    }

    /// <summary>Removes the item's ID in a version; false when it had none there (nothing to write).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="version"/> is null (the dictionary's own check).</exception>
    public bool Remove(string version) => state.SemanticIds.Remove(version);

    /// <summary>The record with every version's ID in version-name order; null for an item the catalog does not hold.</summary>
    public ItemDetails? Details() => state.Record is null
        ? null
        : new ItemDetails(state.Record, [.. state.SemanticIds.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new VersionedSemanticId(kv.Key, kv.Value))]);
}
