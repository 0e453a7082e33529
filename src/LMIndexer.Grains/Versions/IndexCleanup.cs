using LMIndexer.Abstractions;
using LMIndexer.Core.Indexing;
using Microsoft.Extensions.Logging;

namespace LMIndexer.Grains.Versions;

/// <summary>Removes a retired version's state from the cluster: item IDs, prefix grains, loaded models.</summary>
public static class IndexCleanup
{
    public static async Task RetireAsync(IGrainFactory grains, IndexVersionInfo info, int replicas, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(info);
        await Task.WhenAll(Enumerable.Range(0, replicas).Select(r => grains.GetGrain<IIndexerInferenceGrain>($"{info.Version}/{r}").UnloadAsync()));
        var ids = Path.Combine(info.BundlePath, SemanticIdTable.FileName);
        if (!File.Exists(ids))
        {
            // Without the ID table the items and prefixes of the version cannot be enumerated; their
            // entries stay (they are inert: nothing routes to a retired version).
            logger.LogWarning("Version {Version} retired, but {Path} is gone: its item IDs and prefix grains were not cleaned", info.Version, ids);
            return;
        }
        var table = SemanticIdTable.Load(ids);
        var options = new ParallelOptions { MaxDegreeOfParallelism = 32 };
        await Parallel.ForEachAsync(table.ItemIds, options, async (item, _) => await grains.GetGrain<IItemGrain>(item).RemoveSemanticIdAsync(info.Version));
        await Parallel.ForEachAsync(table.Ids.Select(id => id[0]).Distinct(), options, async (first, _) => await grains.GetGrain<IIdPrefixGrain>($"{info.Version}/{first}").ClearAsync());
        logger.LogInformation("Version {Version} retired: {Items} item IDs and its prefix grains removed", info.Version, table.Count);
    }
}
