using LMIndexer.Abstractions;
using LMIndexer.Core.Indexing;

namespace LMIndexer.Grains.Versions;

/// <summary>Writes a range of a version's ID table into the cluster: item grains and first-code prefix grains.</summary>
public static class IndexWriter
{
    /// <summary>
    /// Rows <paramref name="start"/> … <paramref name="start"/> + <paramref name="count"/> − 1. Idempotent:
    /// writing a row again changes nothing, so a batch repeated after a crash is harmless.
    /// </summary>
    public static async Task WriteAsync(IGrainFactory grains, string version, SemanticIdTable table, int start, int count, int parallelism, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(table);
        var rows = Enumerable.Range(start, count).ToList();
        var options = new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(rows, options, async (i, _) =>
            await grains.GetGrain<IItemGrain>(table.ItemIds[i]).SetSemanticIdAsync(new VersionedSemanticId(version, table.Ids[i])));
        await Parallel.ForEachAsync(rows.GroupBy(i => table.Ids[i][0]), options, async (group, _) =>
            await grains.GetGrain<IIdPrefixGrain>($"{version}/{group.Key}").AddAsync([.. group.Select(i => new PrefixEntry(table.Ids[i], table.ItemIds[i]))]));
    }
}
