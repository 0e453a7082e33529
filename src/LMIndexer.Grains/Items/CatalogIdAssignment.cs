using LMIndexer.Abstractions;
using LMIndexer.Grains.Inference;

namespace LMIndexer.Grains.Items;

/// <summary>
/// Items written to the catalog get an ID in every registered version that lacks one — the active
/// one and one whose backfill is running alike — so that a version switch never meets an item
/// without an ID. Items a version's table holds get the table's ID; new ones get their learned
/// codes from the version's indexer and the first free counter from the prefix grain, and the
/// version's serving inference grains add them to their tries.
/// </summary>
public sealed class CatalogIdAssignment(IGrainFactory grains, ItemIdAssigner assigner, Microsoft.Extensions.Options.IOptions<InferenceOptions> inference)
{
    /// <summary>Returns the IDs given, per version.</summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<PrefixEntry>>> AssignAsync(IReadOnlyList<ItemRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var given = new Dictionary<string, IReadOnlyList<PrefixEntry>>(StringComparer.Ordinal);
        if (records.Count == 0)
            return given;
        var registry = await grains.GetGrain<IIndexVersionGrain>(0).GetAsync();
        var assignable = new List<IndexVersionInfo>();
        foreach (var version in registry.Versions)
        {
            if (await assigner.CanAssignAsync(version))
                assignable.Add(version);
        }
        if (assignable.Count == 0)
            return given;   // no version can assign: no need to look the items up
        var details = await Task.WhenAll(records.Select(r => grains.GetGrain<IItemGrain>(r.ItemId).GetDetailsAsync()));
        foreach (var version in assignable)
        {
            var missing = records.Where((r, i) => details[i]?.SemanticIds.Any(s => s.Version == version.Version) != true).ToList();
            if (missing.Count == 0 || await assigner.AssignAsync(version, missing) is not { } codes)
                continue;
            var entries = new List<PrefixEntry>();
            var added = new List<PrefixEntry>();
            foreach (var assigned in codes)
            {
                var prefix = grains.GetGrain<IIdPrefixGrain>($"{version.Version}/{assigned.Codes[0]}");
                long[] full;
                if (assigned.Complete)
                {
                    full = assigned.Codes;
                    await prefix.AddAsync([new PrefixEntry(full, assigned.ItemId)]);
                }
                else
                {
                    full = await prefix.AllocateAsync(assigned.ItemId, assigned.Codes, assigner.Reserved(version.Version, assigned.Codes), assigner.CounterSize(version.Version));
                    added.Add(new PrefixEntry(full, assigned.ItemId));
                }
                await grains.GetGrain<IItemGrain>(assigned.ItemId).SetSemanticIdAsync(new VersionedSemanticId(version.Version, full));
                entries.Add(new PrefixEntry(full, assigned.ItemId));
            }
            // Serving versions learn the new IDs now; others when their inference grains activate.
            if (added.Count > 0 && (version.Version == registry.Active || version.Version == registry.ActiveSearch || version.Version == registry.Previous))
                await Task.WhenAll(Enumerable.Range(0, inference.Value.Replicas).Select(r => grains.GetGrain<IIndexerInferenceGrain>($"{version.Version}/{r}").AddItemsAsync(added)));
            given[version.Version] = entries;
        }
        return given;
    }
}
