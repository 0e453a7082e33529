using LMIndexer.Abstractions;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Indexing;

namespace LMIndexer.Grains.Versions;

/// <summary>
/// Makes a serving bundle's IDs known to the cluster in one go and registers the version as ready:
/// what a host does at start-up. A live cluster backfills instead (<see cref="Backfill.BackfillGrain"/>),
/// which survives crashes and reports progress.
/// </summary>
public static class IndexPublisher
{
    public const int BatchSize = 1024;

    public static async Task<IndexVersionInfo> PublishAsync(IGrainFactory grains, string bundlePath, int parallelism = 16, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grains);
        var (manifest, read) = ReadServingIds(bundlePath);
        var table = read.InItemOrder();
        for (var start = 0; start < table.Count; start += BatchSize)
        {
            var count = Math.Min(BatchSize, table.Count - start);
            await IndexWriter.WriteItemsAsync(grains, manifest.Version, table, start, count, parallelism, cancellationToken);
            progress?.Report(start + count);
        }
        var groups = IndexWriter.PrefixGroups(table);
        await IndexWriter.WritePrefixesAsync(grains, manifest.Version, groups, 0, groups.Count, parallelism, cancellationToken);
        return await grains.GetGrain<IIndexVersionGrain>(0).RegisterAsync(manifest.Version, Path.GetFullPath(bundlePath), table.Count, TaskOf(manifest));
    }

    /// <summary>The manifest and ID table of a serving bundle; <see cref="InvalidDataException"/> when it is not one.</summary>
    public static (BundleManifest Manifest, SemanticIdTable Table) ReadServingIds(string bundlePath)
    {
        var manifest = ModelBundle.ReadManifest(bundlePath);
        if (manifest.Kind != ServingBundle.Kind)
            throw new InvalidDataException($"{bundlePath} is a '{manifest.Kind}' bundle, not a serving bundle.");
        if (manifest.Version.Contains('/', StringComparison.Ordinal))
            throw new InvalidDataException($"{bundlePath}: a version name cannot contain '/': '{manifest.Version}'.");
        return (manifest, SemanticIdTable.Load(Path.Combine(bundlePath, SemanticIdTable.FileName)));
    }

    public static string TaskOf(BundleManifest manifest) => manifest.Properties.GetValueOrDefault("task", "recommendation");
}
