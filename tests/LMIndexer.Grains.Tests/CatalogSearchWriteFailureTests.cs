using System.Collections.Concurrent;
using LMIndexer.Abstractions;
using LMIndexer.Grains.Placement;
using LMIndexer.Grains.Search;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace LMIndexer.Grains.Tests;

public sealed class CatalogSearchWriteFailureTests
{
    [Fact]
    public async Task A_search_shard_write_that_failed_is_written_by_the_retry()
    {
        var storage = new RefusingStorage();
        await using var cluster = ClusterFixture.Build(1, _ => SiloRoles.Gpu, fallback: true,
            storage: silo =>
            {
                silo.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.Default, storage);
                silo.UseInMemoryReminderService();
            },
            settings: new Dictionary<string, string?> { ["StateWrites:MaxRetries"] = "0" });
        await cluster.DeployAsync();
        var item = cluster.Client.GetGrain<IItemGrain>("W1");
        var record = new ItemRecord("W1", "Cloudberry night balm");

        storage.Refuse = "catalog-search";
        await Assert.ThrowsAnyAsync<Exception>(() => item.UpsertAsync(record));
        Assert.DoesNotContain("W1", storage.SavedSearchIds());

        storage.Refuse = null;
        await item.UpsertAsync(record);   // the same record again, as a client's retry sends it
        Assert.Contains("W1", storage.SavedSearchIds());
    }

    /// <summary>In-memory grain storage that refuses writes of one state name while told to.</summary>
    private sealed class RefusingStorage : IGrainStorage
    {
        private readonly ConcurrentDictionary<(string, GrainId), object> states = new();

        public volatile string? Refuse;

        public IEnumerable<string> SavedSearchIds() =>
            states.Where(s => s.Key.Item1 == "catalog-search").SelectMany(s => ((CatalogSearchState)s.Value).ItemIds).ToList();

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            if (states.TryGetValue((stateName, grainId), out var saved))
            {
                grainState.State = (T)Copy(saved);
                grainState.RecordExists = true;
                grainState.ETag = "1";
            }
            else
            {
                grainState.State = Activator.CreateInstance<T>();
                grainState.RecordExists = false;
                grainState.ETag = null;
            }
            return Task.CompletedTask;
        }

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            if (stateName == Refuse)
                throw new IOException($"writes of '{stateName}' are refused");
            states[(stateName, grainId)] = Copy(grainState.State!);
            grainState.RecordExists = true;
            grainState.ETag = "1";
            return Task.CompletedTask;
        }

        /// <summary>A copy, as a real store keeps its own: changes in the grain must not reach it unsaved, nor the store's reach the grain.</summary>
        private static object Copy(object state) => state is CatalogSearchState search
            ? new CatalogSearchState { ItemIds = new HashSet<string>(search.ItemIds, StringComparer.Ordinal) }
            : state;

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            states.TryRemove((stateName, grainId), out _);
            grainState.RecordExists = false;
            return Task.CompletedTask;
        }
    }
}
