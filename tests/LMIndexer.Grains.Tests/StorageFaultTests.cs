using LMIndexer.Abstractions;
using LMIndexer.Grains.Placement;
using LMIndexer.Testing;
using Orleans.TestingHost;

namespace LMIndexer.Grains.Tests;

public sealed class StorageFaultTests
{
    [Fact]
    public async Task Events_whose_write_failed_are_not_mistaken_for_duplicates_on_retry()
    {
        await using var cluster = ClusterFixture.Build(1, _ => SiloRoles.Gpu, fallback: true,
            storage: silo => silo
                .AddFaultInjectionMemoryStorage(StorageNames.Default, (Action<Orleans.Configuration.MemoryGrainStorageOptions>)(_ => { }), (Action<FaultInjectionGrainStorageOptions>)(_ => { }))
                .UseInMemoryReminderService());
        await cluster.DeployAsync();
        var user = cluster.Client.GetGrain<IUserGrain>("faulty-user");
        var item = TestServingBundle.Catalog.Items[0].ItemId;
        var first = new UserEvent("f1", "faulty-user", item, EventType.View, DateTimeOffset.UtcNow);
        Assert.True((await user.RecordAsync(first)).Recorded);

        var faults = cluster.Client.GetGrain<IStorageFaultGrain>("user");   // keyed by the state name the storage sees
        await faults.AddFaultOnWrite(user.GetGrainId(), new InvalidOperationException("disk full"));
        var second = first with { EventId = "f2" };
        await Assert.ThrowsAnyAsync<Exception>(() => user.RecordAsync(second));
        Assert.Single(await user.GetHistoryAsync());                 // the failed event is not in the state

        var retry = await user.RecordAsync(second);                  // the client retries with the same id
        Assert.True(retry.Recorded);
        Assert.Equal(2, retry.HistoryLength);
    }
}
