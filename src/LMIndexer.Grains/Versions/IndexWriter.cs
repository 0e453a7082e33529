using LMIndexer.Abstractions;
using LMIndexer.Core.Indexing;

namespace LMIndexer.Grains.Versions;

/// <summary>The entries of one prefix grain of a version: every ID under one first code.</summary>
public sealed record PrefixGroup(long FirstCode, IReadOnlyList<PrefixEntry> Entries);

/// <summary>
/// Writes a version's ID table into the cluster: the item grains first (rows in the order given,
/// item order for a fast store), then the prefix grains, each once with all its entries. Every
/// write is idempotent, so a batch repeated after a crash is harmless.
/// </summary>
public static class IndexWriter
{
    /// <summary>The version's ID into the item grains of rows <paramref name="start"/> … <paramref name="start"/> + <paramref name="count"/> − 1.</summary>
    public static Task WriteItemsAsync(IGrainFactory grains, string version, SemanticIdTable table, int start, int count, int parallelism, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(table);
        var options = new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken };
        return Parallel.ForEachAsync(Enumerable.Range(start, count), options, async (i, _) =>
            await grains.GetGrain<IItemGrain>(table.ItemIds[i]).SetSemanticIdAsync(new VersionedSemanticId(version, table.Ids[i])));
    }

    /// <summary>The table's prefix grains in first-code order, entries in ID order.</summary>
    public static IReadOnlyList<PrefixGroup> PrefixGroups(SemanticIdTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var sorted = table.InIdOrder();
        return [.. Enumerable.Range(0, sorted.Count)
            .GroupBy(i => sorted.Ids[i][0])
            .Select(g => new PrefixGroup(g.Key, [.. g.Select(i => new PrefixEntry(sorted.Ids[i], sorted.ItemIds[i]))]))];
    }

    /// <summary>Prefix grains <paramref name="start"/> … <paramref name="start"/> + <paramref name="count"/> − 1 of <paramref name="groups"/>.</summary>
    public static Task WritePrefixesAsync(IGrainFactory grains, string version, IReadOnlyList<PrefixGroup> groups, int start, int count, int parallelism, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(groups);
        var options = new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken };
        return Parallel.ForEachAsync(groups.Skip(start).Take(count), options, async (group, _) =>
            await grains.GetGrain<IIdPrefixGrain>($"{version}/{group.FirstCode}").AddAsync(group.Entries));
    }
}
