using LMIndexer.Abstractions;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Indexing;

namespace LMIndexer.Grains.Versions;

/// <summary>
/// Makes a serving bundle's IDs known to the cluster: every item grain gets its ID for the
/// version, every first-code prefix grain its part of the trie, then the version is registered.
/// Batches run with bounded parallelism. (Resumable backfill of a live cluster builds on this.)
/// </summary>
public static class IndexPublisher
{
    public static async Task<IndexVersionInfo> PublishAsync(IGrainFactory grains, string bundlePath, int parallelism = 16, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grains);
        var manifest = ModelBundle.ReadManifest(bundlePath);
        if (manifest.Kind != ServingBundle.Kind)
            throw new InvalidDataException($"{bundlePath} is a '{manifest.Kind}' bundle, not a serving bundle.");
        var table = SemanticIdTable.Load(Path.Combine(bundlePath, SemanticIdTable.FileName));
        var version = manifest.Version;
        var done = 0;
        var items = Enumerable.Range(0, table.Count).ToList();
        await Parallel.ForEachAsync(items.Chunk(256), new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (chunk, _) =>
        {
            await Task.WhenAll(chunk.Select(i => grains.GetGrain<IItemGrain>(table.ItemIds[i]).SetSemanticIdAsync(new VersionedSemanticId(version, table.Ids[i]))));
            progress?.Report(Interlocked.Add(ref done, chunk.Length));
        });
        var byFirstCode = items.GroupBy(i => table.Ids[i][0]);
        await Parallel.ForEachAsync(byFirstCode, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (group, _) =>
        {
            var prefix = grains.GetGrain<IIdPrefixGrain>($"{version}/{group.Key}");
            foreach (var batch in group.Chunk(1024))
                await prefix.AddAsync([.. batch.Select(i => new PrefixEntry(table.Ids[i], table.ItemIds[i]))]);
        });
        return await grains.GetGrain<IIndexVersionGrain>(0).RegisterAsync(version, Path.GetFullPath(bundlePath), table.Count,
            manifest.Properties.GetValueOrDefault("task", "recommendation"));
    }
}
