using LMIndexer.Abstractions;
using LMIndexer.Core.Indexing;

namespace LMIndexer.Grains.Versions;

/// <summary>The steps of removing a retired version from the cluster, run by its retirement job (<see cref="Backfill.BackfillGrain"/>).</summary>
public static class IndexCleanup
{
    /// <summary>The job id that retires <paramref name="version"/>.</summary>
    public static string JobId(string version) => $"retire-{version}";

    /// <summary>Unloads the version's models on every silo that holds one.</summary>
    public static Task UnloadAsync(IGrainFactory grains, string version, int replicas)
    {
        ArgumentNullException.ThrowIfNull(grains);
        return Task.WhenAll(Enumerable.Range(0, replicas).Select(r => grains.GetGrain<IIndexerInferenceGrain>($"{version}/{r}").UnloadAsync()));
    }

    /// <summary>Removes the version's ID from the items of rows [start, start + count) of its table.</summary>
    public static Task RemoveItemsAsync(IGrainFactory grains, string version, SemanticIdTable table, int start, int count, int parallelism, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(table);
        return Parallel.ForEachAsync(table.ItemIds.Skip(start).Take(count), new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
            async (item, _) => await grains.GetGrain<IItemGrain>(item).RemoveSemanticIdAsync(version));
    }

    /// <summary>Clears every prefix grain of the version (one per first code its IDs use).</summary>
    public static Task ClearPrefixesAsync(IGrainFactory grains, string version, SemanticIdTable table, int parallelism, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(table);
        return Parallel.ForEachAsync(table.Ids.Select(id => id[0]).Distinct(), new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
            async (first, _) => await grains.GetGrain<IIdPrefixGrain>($"{version}/{first}").ClearAsync());
    }
}
