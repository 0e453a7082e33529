using LMIndexer.Abstractions;

namespace LMIndexer.Grains.Search;

/// <summary>Which search shard holds an item: a hash of its id that does not change between processes or versions.</summary>
public static class CatalogSearchShards
{
    /// <summary>Fixed, because each shard persists the ids it holds: another count would strand them.</summary>
    public const int Count = 16;

    public static int Of(string itemId)
    {
        ArgumentNullException.ThrowIfNull(itemId);
        // FNV-1a over the UTF-16 code units: string.GetHashCode is randomised per process.
        var hash = 2166136261u;
        foreach (var c in itemId)
            hash = (hash ^ c) * 16777619u;
        return (int)(hash % Count);
    }

    public static IEnumerable<ICatalogSearchGrain> All(IGrainFactory grains) =>
        Enumerable.Range(0, Count).Select(shard => grains.GetGrain<ICatalogSearchGrain>(shard));
}
