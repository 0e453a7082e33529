using LMIndexer.Abstractions;
using LMIndexer.Grains.Placement;
using LMIndexer.Testing;
using Orleans.TestingHost;

namespace LMIndexer.Grains.Tests;

public sealed class StorageFaultTests
{
    /// <summary>Memory storage whose writes fail when a test says so (<see cref="IStorageFaultGrain"/>, keyed by state name).</summary>
    internal static readonly Action<ISiloBuilder> FaultyStorage = silo => silo
        .AddFaultInjectionMemoryStorage(StorageNames.Default, (Action<Orleans.Configuration.MemoryGrainStorageOptions>)(_ => { }), (Action<FaultInjectionGrainStorageOptions>)(_ => { }))
        .UseInMemoryReminderService();

    [Fact]
    public async Task A_transient_write_failure_is_retried_and_the_event_is_saved_before_it_is_acknowledged()
    {
        await using var cluster = ClusterFixture.Build(1, _ => SiloRoles.Gpu, fallback: true, storage: FaultyStorage);
        await cluster.DeployAsync();
        var user = cluster.Client.GetGrain<IUserGrain>("flaky-user");
        var item = TestServingBundle.Catalog.Items[0].ItemId;
        await user.RecordAsync(new UserEvent("t0", "flaky-user", item, EventType.View, DateTimeOffset.UtcNow));
        await cluster.Client.GetGrain<IStorageFaultGrain>("user").AddFaultOnWrite(user.GetGrainId(), new InvalidOperationException("connection reset"));

        var receipt = await user.RecordAsync(new UserEvent("t1", "flaky-user", item, EventType.Cart, DateTimeOffset.UtcNow));
        Assert.True(receipt.Recorded);
        // The state the storage holds (not just the activation's memory) has it: a fresh activation reads it back.
        await cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        Assert.Equal([EventType.View, EventType.Cart], (await user.GetHistoryAsync()).Select(h => h.Type));
    }

    [Fact]
    public async Task Events_whose_write_failed_are_not_mistaken_for_duplicates_on_retry()
    {
        // No retries in the grain: the failure reaches the client, which retries itself.
        await using var cluster = ClusterFixture.Build(1, _ => SiloRoles.Gpu, fallback: true, settings: new Dictionary<string, string?> { ["StateWrites:MaxRetries"] = "0" },
            storage: FaultyStorage);
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
