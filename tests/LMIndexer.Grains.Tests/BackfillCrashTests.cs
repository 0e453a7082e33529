using LMIndexer.Abstractions;
using LMIndexer.Core.Indexing;
using LMIndexer.Grains.Backfill;
using LMIndexer.Grains.Placement;
using LMIndexer.Grains.Versions;
using LMIndexer.Storage.LiteDb;
using LMIndexer.Testing;

namespace LMIndexer.Grains.Tests;

/// <summary>A silo dies under a running backfill; the job's reminder brings it back on the survivor.</summary>
public sealed class BackfillCrashTests
{
    [Fact]
    public async Task A_job_whose_silo_is_killed_resumes_on_another_silo_and_writes_every_item()
    {
        _ = TestServingBundle.Directory;
        var file = Path.Combine(Path.GetTempPath(), "lmindexer-tests", $"crash-{Guid.NewGuid():N}.db");
        var store = $"Filename={file}";
        try
        {
            await KillMidBackfillAsync(store);
        }
        finally
        {
            TestEnvironment.DeleteLiteDb(file);
        }
    }

    /// <summary>Silos keeping state and reminders in one LiteDB file (the durable store that outlives a silo), serving v1.</summary>
    private static async Task<Orleans.TestingHost.InProcessTestCluster> StartServingV1Async(short silos, string store, Dictionary<string, string?> settings)
    {
        var cluster = ClusterFixture.Build(silos, _ => SiloRoles.Gpu, fallback: true,
            storage: silo => silo
                .AddLiteDbGrainStorage(StorageNames.Default, o => o.ConnectionString = store)
                .UseLiteDbReminderService(o => o.ConnectionString = store),
            settings: settings);
        await cluster.DeployAsync();
        var grains = cluster.Client;
        await Task.WhenAll(TestServingBundle.Records.Select(r => grains.GetGrain<IItemGrain>(r.ItemId).UpsertAsync(r)));
        await IndexPublisher.PublishAsync(grains, TestServingBundle.Directory);
        await grains.GetGrain<IIndexVersionGrain>(0).ActivateAsync("v1");
        return cluster;
    }

    private static async Task KillMidBackfillAsync(string store)
    {
        await using var cluster = await StartServingV1Async(2, store, new() { ["Backfill:BatchSize"] = "8", ["Backfill:PauseBetweenBatches"] = "00:00:00.150" });
        var grains = cluster.Client;

        var started = await grains.GetGrain<IBackfillGrain>("crash").StartAsync(TestServingBundle.Version2Directory);
        var victim = cluster.Silos.Single(s => s.SiloAddress.ToString() == started.Silo);   // the silo running the job
        var job = started.JobId;
        var beforeKill = await BackfillFlow.WaitAsync(grains, job, TimeSpan.FromSeconds(30), p => p.Done >= 16);
        Assert.Equal(BackfillStatus.Running, beforeKill.Status);
        await cluster.KillSiloAsync(victim);

        var done = await BackfillFlow.WaitAsync(grains, job, TimeSpan.FromSeconds(120));
        Assert.Equal(BackfillStatus.Completed, done.Status);
        Assert.Equal(done.Total, done.Done);
        Assert.True(done.Resumes >= 1, "the job was picked up again after the kill");
        Assert.NotEqual(victim.SiloAddress.ToString(), done.Silo);
        await BackfillFlow.AssertFullyWrittenAsync(grains, TestServingBundle.Version2Directory, "v2");
        await grains.GetGrain<IIndexVersionGrain>(0).ActivateAsync("v2");
        var user = grains.GetGrain<IUserGrain>("crash-user");
        await user.RecordAsync(new UserEvent("e1", "crash-user", TestServingBundle.Records[0].ItemId, EventType.View, DateTimeOffset.UtcNow));
        Assert.Equal("v2", (await user.RecommendAsync(5)).Version);
    }

    [Fact]
    public async Task A_job_saved_by_the_version_that_counted_rows_in_id_order_starts_again_and_writes_every_item()
    {
        _ = TestServingBundle.Directory;
        var file = Path.Combine(Path.GetTempPath(), "lmindexer-tests", $"upgrade-{Guid.NewGuid():N}.db");
        var store = $"Filename={file}";
        try
        {
            await using var cluster = await StartServingV1Async(1, store, new() { ["Backfill:BatchSize"] = "8" });
            var grains = cluster.Client;
            var bundle = Path.GetFullPath(TestServingBundle.Version2Directory);
            var total = SemanticIdTable.Load(Path.Combine(bundle, SemanticIdTable.FileName)).Count;
            await grains.GetGrain<IIndexVersionGrain>(0).RegisterAsync("v2", bundle, total, ready: false);
            // What the older version left: a running job whose cursor counted 16 rows in ID order, none of them written here.
            var job = grains.GetGrain<IBackfillGrain>("upgraded");
            using (var storage = new LiteDbGrainStorage(StorageNames.Default, new LiteDbStorageOptions { ConnectionString = store }))
            {
                await storage.WriteStateAsync("backfill", job.GetGrainId(), new GrainState<BackfillState>(new BackfillState
                {
                    Version = "v2", BundlePath = bundle, Status = BackfillStatus.Running, Total = total, Done = 16, Started = DateTimeOffset.UtcNow,
                }));
            }

            await job.GetProgressAsync();   // the activation picks the job up
            var done = await BackfillFlow.WaitAsync(grains, "upgraded", TimeSpan.FromSeconds(60));
            Assert.Equal((BackfillStatus.Completed, total, 1), (done.Status, done.Done, done.Resumes));
            await grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
            await BackfillFlow.AssertFullyWrittenAsync(grains, bundle, "v2");
        }
        finally
        {
            TestEnvironment.DeleteLiteDb(file);
        }
    }
}
