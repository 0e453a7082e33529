using LMIndexer.Abstractions;

namespace LMIndexer.Grains.Items;

/// <summary>Persistent state of <see cref="ItemGrain"/>.</summary>
[GenerateSerializer]
public sealed class ItemState
{
    [Id(0)] public ItemRecord? Record { get; set; }
    [Id(1)] public Dictionary<string, long[]> SemanticIds { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// A catalog item and its semantic ID per index version. An activation that exists only to take an
/// ID write (a backfill or retirement job touching every item) leaves right after it: a million of
/// them kept for the collection age would fill the heap and stall the silo in garbage collection.
/// </summary>
public sealed class ItemGrain([PersistentState("item", StorageNames.Default)] IPersistentState<ItemState> state, Storage.StateWriter writer) : Grain, IItemGrain
{
    /// <summary>Whether this activation answered anything besides ID writes (then it stays for its readers).</summary>
    private bool read;

    public async Task UpsertAsync(ItemRecord record)
    {
        read = true;
        ArgumentNullException.ThrowIfNull(record);
        if (record.ItemId != this.GetPrimaryKeyString())
            throw new ArgumentException($"Record '{record.ItemId}' sent to item grain '{this.GetPrimaryKeyString()}'.", nameof(record));
        if (state.State.Record != record)
        {
            state.State.Record = record;
            await writer.WriteAsync(state);
        }
        // Also for an unchanged record: a retry after a failed search update must reach the index (it skips unchanged texts).
        await GrainFactory.GetGrain<ICatalogSearchGrain>(Search.CatalogSearchShards.Of(record.ItemId)).UpsertAsync([record]);
    }

    public Task<ItemRecord?> GetAsync()
    {
        read = true;
        return Task.FromResult(state.State.Record);
    }

    public Task<ItemDetails?> GetDetailsAsync()
    {
        read = true;
        return Task.FromResult(new ItemSemanticIds(state.State).Details());
    }

    public async Task SetSemanticIdAsync(VersionedSemanticId id)
    {
        ArgumentNullException.ThrowIfNull(id);
        LeaveUnlessRead();
        if (new ItemSemanticIds(state.State).Set(id))
            await writer.WriteAsync(state);
    }

    public async Task RemoveSemanticIdAsync(string version)
    {
        LeaveUnlessRead();
        if (new ItemSemanticIds(state.State).Remove(version))
            await writer.WriteAsync(state);
    }

    private void LeaveUnlessRead()
    {
        if (!read)
            DeactivateOnIdle();   // after this call, once nothing else is queued
    }
}
