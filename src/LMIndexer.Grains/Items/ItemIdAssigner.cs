using System.Collections.Concurrent;
using LMIndexer.Abstractions;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Text;
using Microsoft.Extensions.Logging;

namespace LMIndexer.Grains.Items;

/// <summary>Learned codes for a version: complete IDs for items its table holds, codes without a counter for new ones.</summary>
public sealed record AssignedCodes(string ItemId, long[] Codes, bool Complete);

/// <summary>
/// Gives items that are new to the catalog their learned codes in a version, with the version's
/// indexer (the bundle its serving bundle was fine-tuned from, manifest property <c>indexer</c>) —
/// the <c>lmindexer index assign</c> path, in the cluster. One silo-wide instance; indexers load on
/// first use and stay; torch work runs off the grain scheduler, one assignment at a time.
/// </summary>
public sealed class ItemIdAssigner(ILogger<ItemIdAssigner> logger) : IDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    // Written under the gate; read without it by Reserved and CounterSize, which callers on other
    // threads use while another version loads.
    private readonly ConcurrentDictionary<string, Loaded?> versions = new(StringComparer.Ordinal);

    private sealed record Loaded(IndexerBundle Indexer, SemanticIdTable Table, int MaxTokens, int CounterSize, Dictionary<string, long[]> Reserved);

    /// <summary>Whether <paramref name="version"/> names a usable indexer (loading it on first ask).</summary>
    public async Task<bool> CanAssignAsync(IndexVersionInfo version)
    {
        ArgumentNullException.ThrowIfNull(version);
        await gate.WaitAsync();
        try
        {
            return versions.TryGetValue(version.Version, out var cached) ? cached is not null : await Task.Run(() => Load(version) is not null);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Codes for <paramref name="items"/> in <paramref name="version"/>; null when the version has no usable indexer.</summary>
    public async Task<IReadOnlyList<AssignedCodes>?> AssignAsync(IndexVersionInfo version, IReadOnlyList<ItemRecord> items)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(items);
        await gate.WaitAsync();
        try
        {
            return await Task.Run(() =>
            {
                if (Load(version) is not { } loaded)
                    return null;
                var result = new AssignedCodes[items.Count];
                var fresh = new List<int>();
                for (var i = 0; i < items.Count; i++)
                {
                    if (loaded.Table.Find(items[i].ItemId) is { } id)
                        result[i] = new AssignedCodes(items[i].ItemId, id, Complete: true);
                    else
                        fresh.Add(i);
                }
                if (fresh.Count > 0)
                {
                    var codes = loaded.Indexer.AssignCodes([.. fresh.Select(i => ItemTextBuilder.Build(items[i].ToCatalogItem()))], loaded.MaxTokens);
                    for (var j = 0; j < fresh.Count; j++)
                        result[fresh[j]] = new AssignedCodes(items[fresh[j]].ItemId, codes[j], Complete: false);
                }
                return (IReadOnlyList<AssignedCodes>)result;
            });
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Counters the version's table holds for these learned codes (a new item must not take them, even before the backfill writes them).</summary>
    public long[] Reserved(string version, long[] learnedCodes) =>
        versions.GetValueOrDefault(version) is { } loaded ? loaded.Reserved.GetValueOrDefault(string.Join('-', learnedCodes), []) : [];

    /// <summary>The collision counter range of the version's IDs.</summary>
    public int CounterSize(string version) => versions.GetValueOrDefault(version)?.CounterSize ?? 0;

    private Loaded? Load(IndexVersionInfo version)
    {
        if (versions.TryGetValue(version.Version, out var cached))
            return cached;
        Loaded? loaded = null;
        try
        {
            var manifest = ModelBundle.ReadManifest(version.BundlePath);
            var indexerPath = manifest.Properties.GetValueOrDefault("indexer", "");
            if (indexerPath.Length == 0 || !Directory.Exists(indexerPath))
            {
                logger.LogWarning("Version {Version} names no indexer bundle that exists ('{Path}'): new catalog items get no ID in it until an index that holds them is backfilled", version.Version, indexerPath);
            }
            else
            {
                var indexer = IndexerBundle.Load(indexerPath, Core.Runtime.TorchRuntime.Device);
                var table = SemanticIdTable.Load(Path.Combine(version.BundlePath, SemanticIdTable.FileName));
                var reserved = table.Ids.GroupBy(id => string.Join('-', id[..^1])).ToDictionary(g => g.Key, g => g.Select(id => id[^1]).ToArray(), StringComparer.Ordinal);
                var maxTokens = int.Parse(indexer.Bundle.Manifest.Properties.GetValueOrDefault("maxTokens", "64"), System.Globalization.CultureInfo.InvariantCulture);
                loaded = new Loaded(indexer, table, maxTokens, indexer.Bundle.Tokenizer.IdPositionSizes[^1], reserved);
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException or Core.Encoders.PretrainedEncoderException)
        {
            logger.LogWarning("Version {Version}: its indexer cannot assign IDs to new items: {Message}", version.Version, e.Message);
        }
        versions[version.Version] = loaded;
        return loaded;
    }

    public void Dispose()
    {
        foreach (var loaded in versions.Values)
            loaded?.Indexer.Dispose();
        gate.Dispose();
    }
}
