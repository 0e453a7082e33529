using System.Collections.Concurrent;
using LMIndexer.Abstractions;
using LMIndexer.Core.Indexing;
using LMIndexer.Grains.Placement;
using LMIndexer.Grains.Versions;
using LMIndexer.Testing;
using Orleans.TestingHost;

namespace LMIndexer.Grains.Tests;

/// <summary>Backfill, warm-up-gated activation, rollback and retention on a real in-process cluster.</summary>
public sealed class BackfillTests
{
    private static async Task<InProcessTestCluster> StartAsync(Dictionary<string, string?> settings, Action<ISiloBuilder>? storage = null)
    {
        _ = TestServingBundle.Directory;
        var cluster = ClusterFixture.Build(1, _ => SiloRoles.Gpu, fallback: true, settings: settings, storage: storage);
        await cluster.DeployAsync();
        var grains = cluster.Client;
        await Task.WhenAll(TestServingBundle.Records.Select(r => grains.GetGrain<IItemGrain>(r.ItemId).UpsertAsync(r)));
        await IndexPublisher.PublishAsync(grains, TestServingBundle.Directory);
        await grains.GetGrain<IIndexVersionGrain>(0).ActivateAsync("v1");
        foreach (var user in TestServingBundle.Catalog.Users.Take(12))
        {
            await grains.GetGrain<IUserGrain>(user.UserId).RecordBatchAsync(
                [.. user.ItemIds.Take(4).Select((item, i) => new UserEvent($"{user.UserId}-{i}", user.UserId, item, EventType.View, DateTimeOffset.UtcNow))]);
        }
        return cluster;
    }

    [Fact]
    public async Task Backfill_switch_and_rollback_never_fail_a_request_and_never_mix_versions()
    {
        await using var cluster = await StartAsync(new() { ["Backfill:BatchSize"] = "16", ["Backfill:PauseBetweenBatches"] = "00:00:00.050" });
        var grains = cluster.Client;
        var versions = grains.GetGrain<IIndexVersionGrain>(0);
        var users = TestServingBundle.Catalog.Users.Take(12).Select(u => u.UserId).ToList();
        var before = await Task.WhenAll(users.Select(u => grains.GetGrain<IUserGrain>(u).RecommendAsync(10)));
        Assert.All(before, r => Assert.Equal("v1", r.Version));

        // Users keep asking while the job runs and the version switches.
        using var stop = new CancellationTokenSource();
        var answers = new ConcurrentBag<RecommendationResult>();
        var failures = new ConcurrentBag<Exception>();
        var load = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                try
                {
                    answers.Add(await grains.GetGrain<IUserGrain>(users[i % users.Count]).RecommendAsync(10));
                }
                catch (Exception e)
                {
                    failures.Add(e);
                }
            }
        });

        var started = await grains.GetGrain<IBackfillGrain>("job-v2").StartAsync(TestServingBundle.Version2Directory);
        Assert.Equal(BackfillStatus.Running, started.Status);
        Assert.Equal(TestServingBundle.Records.Count, started.Total);
        var early = await Assert.ThrowsAsync<DomainConflictException>(() => versions.ActivateAsync("v2"));
        Assert.Contains("backfill", early.Message, StringComparison.OrdinalIgnoreCase);

        var done = await BackfillFlow.WaitAsync(grains, "job-v2", TimeSpan.FromSeconds(60));
        Assert.Equal(BackfillStatus.Completed, done.Status);
        Assert.Equal(done.Total, done.Done);
        Assert.Equal(0, done.Errors);
        Assert.True((await versions.GetAsync()).Versions.Single(v => v.Version == "v2").Ready);
        await BackfillFlow.AssertFullyWrittenAsync(grains, TestServingBundle.Version2Directory, "v2");

        var activation = await versions.ActivateAsync("v2");
        Assert.Equal(new ActivationResult("v2", "v1", []), activation with { Retired = [] });
        var switchedAt = answers.Count;
        await Task.Delay(300);
        await stop.CancelAsync();
        await load;

        Assert.Empty(failures);
        Assert.True(answers.Count > switchedAt, "requests continued after the switch");
        foreach (var answer in answers)
        {
            Assert.Contains(answer.Version, new[] { "v1", "v2" });
            // Consistent with the version it names: every model item holds an ID in that version.
            foreach (var item in answer.Items.Where(i => i.Source == RecommendationSource.Model))
            {
                var details = await grains.GetGrain<IItemGrain>(item.ItemId).GetDetailsAsync();
                Assert.Contains(details!.SemanticIds, s => s.Version == answer.Version);
            }
        }
        var after = await Task.WhenAll(users.Select(u => grains.GetGrain<IUserGrain>(u).RecommendAsync(10)));
        Assert.All(after, r => Assert.Equal("v2", r.Version));
        // Same model, IDs moved to other items: the answers change with the version.
        Assert.NotEqual(before.Select(r => r.Items[0].ItemId), after.Select(r => r.Items[0].ItemId));

        Assert.Equal("v1", await versions.RollbackAsync());
        var rolledBack = await Task.WhenAll(users.Select(u => grains.GetGrain<IUserGrain>(u).RecommendAsync(10)));
        Assert.Equal(before.Select(r => string.Join(',', r.Items.Select(i => i.ItemId))), rolledBack.Select(r => string.Join(',', r.Items.Select(i => i.ItemId))));
        Assert.All(rolledBack, r => Assert.Equal("v1", r.Version));
    }

    [Fact]
    public async Task A_cancelled_job_keeps_its_cursor_and_resumes_when_started_again()
    {
        await using var cluster = await StartAsync(new() { ["Backfill:BatchSize"] = "8", ["Backfill:PauseBetweenBatches"] = "00:00:00.100" });
        var job = cluster.Client.GetGrain<IBackfillGrain>("job-cancel");
        await job.StartAsync(TestServingBundle.Version2Directory);
        await BackfillFlow.WaitAsync(cluster.Client, "job-cancel", TimeSpan.FromSeconds(30), p => p.Done >= 16);
        var cancelled = await job.CancelAsync();
        Assert.Equal(BackfillStatus.Cancelled, cancelled!.Status);
        Assert.InRange(cancelled.Done, 16, cancelled.Total - 1);
        await Task.Delay(300);
        Assert.Equal(cancelled.Done, (await job.GetProgressAsync())!.Done);   // nothing runs after a cancel
        await Assert.ThrowsAsync<DomainConflictException>(() => cluster.Client.GetGrain<IIndexVersionGrain>(0).ActivateAsync("v2"));

        var resumed = await job.StartAsync(TestServingBundle.Version2Directory);
        Assert.Equal(BackfillStatus.Running, resumed.Status);
        Assert.True(resumed.Done >= cancelled.Done);
        var done = await BackfillFlow.WaitAsync(cluster.Client, "job-cancel", TimeSpan.FromSeconds(60));
        Assert.Equal(BackfillStatus.Completed, done.Status);
        Assert.Equal(done.Total, done.Done);
        await BackfillFlow.AssertFullyWrittenAsync(cluster.Client, TestServingBundle.Version2Directory, "v2");

        await Assert.ThrowsAsync<ArgumentException>(() => job.StartAsync(TestServingBundle.Directory));   // a job id is for one bundle
        await Assert.ThrowsAsync<DomainConflictException>(() => cluster.Client.GetGrain<IBackfillGrain>("job-active").StartAsync(TestServingBundle.Directory));   // v1 is served
    }

    [Fact]
    public async Task An_item_activated_only_to_take_an_id_leaves_after_the_write_and_a_read_item_stays()
    {
        await using var cluster = await StartAsync([]);
        var grains = cluster.Client;
        var management = grains.GetGrain<IManagementGrain>(0);
        await management.ForceActivationCollection(TimeSpan.Zero);
        var (readFirst, writeOnly) = (TestServingBundle.Records[0].ItemId, TestServingBundle.Records[1].ItemId);
        await grains.GetGrain<IItemGrain>(readFirst).GetDetailsAsync();
        async Task<int> ActiveItemsAsync() => (await management.GetSimpleGrainStatistics())
            .Where(s => s.GrainType.Contains(nameof(Items.ItemGrain), StringComparison.Ordinal)).Sum(s => s.ActivationCount);
        var before = await ActiveItemsAsync();
        Assert.True(before >= 1, "the item that was read is active");

        await grains.GetGrain<IItemGrain>(readFirst).SetSemanticIdAsync(new VersionedSemanticId("v9", [1, 2, 3]));
        await grains.GetGrain<IItemGrain>(writeOnly).SetSemanticIdAsync(new VersionedSemanticId("v9", [4, 5, 6]));
        // The write-only activation goes once idle; the one that served a read stays.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await ActiveItemsAsync() != before && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.Equal(before, await ActiveItemsAsync());

        var written = await grains.GetGrain<IItemGrain>(writeOnly).GetDetailsAsync();   // a new activation reads it from storage
        Assert.Contains(written!.SemanticIds, s => s.Version == "v9" && s.Codes.SequenceEqual([4L, 5, 6]));
    }

    [Fact]
    public async Task A_batch_whose_write_failed_is_not_counted_and_starting_again_writes_every_item()
    {
        await using var cluster = await StartAsync(
            new() { ["Backfill:BatchSize"] = "16", ["Backfill:MaxAttempts"] = "1", ["StateWrites:MaxRetries"] = "0" }, StorageFaultTests.FaultyStorage);
        var grains = cluster.Client;
        // The job writes the item grains in item order (records inserted in key order), and its cursor counts them.
        var table = SemanticIdTable.Load(Path.Combine(TestServingBundle.Version2Directory, SemanticIdTable.FileName)).InItemOrder();
        const int failingRow = 40;   // in the third batch, rows 32-47
        Assert.True(table.Count > 48, "the test bundle has more than three batches");
        var failing = grains.GetGrain<IItemGrain>(table.ItemIds[failingRow]);
        await grains.GetGrain<IStorageFaultGrain>("item").AddFaultOnWrite(failing.GetGrainId(), new IOException("disk full"));

        var job = grains.GetGrain<IBackfillGrain>("job-faulty");
        await job.StartAsync(TestServingBundle.Version2Directory);
        var failed = await BackfillFlow.WaitAsync(grains, "job-faulty", TimeSpan.FromSeconds(60));
        Assert.Equal(BackfillStatus.Failed, failed.Status);
        Assert.Equal(32, failed.Done);                                   // the two batches written, not the one that failed
        Assert.Contains("disk full", failed.LastError);
        Assert.DoesNotContain((await failing.GetDetailsAsync())!.SemanticIds, s => s.Version == "v2");   // an unsaved ID does not look saved
        var written = await Task.WhenAll(table.ItemIds.Select(async item => (await grains.GetGrain<IItemGrain>(item).GetDetailsAsync())!.SemanticIds.Any(s => s.Version == "v2")));
        // The first two batches in item order are written, nothing after the failed third one is.
        Assert.All(written.Take(32), Assert.True);
        Assert.All(written.Skip(48), Assert.False);
        await Assert.ThrowsAsync<DomainConflictException>(() => grains.GetGrain<IIndexVersionGrain>(0).ActivateAsync("v2"));

        Assert.Equal(BackfillStatus.Running, (await job.StartAsync(TestServingBundle.Version2Directory)).Status);
        var done = await BackfillFlow.WaitAsync(grains, "job-faulty", TimeSpan.FromSeconds(60));
        Assert.Equal((BackfillStatus.Completed, done.Total), (done.Status, done.Done));
        // What storage holds, not what the activations remember.
        await grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        await BackfillFlow.AssertFullyWrittenAsync(grains, TestServingBundle.Version2Directory, "v2");
    }

    [Fact]
    public async Task Activation_beyond_the_retention_limit_retires_the_oldest_version_and_its_state()
    {
        await using var cluster = await StartAsync(new() { ["Versions:Retain"] = "2" });
        var grains = cluster.Client;
        var versions = grains.GetGrain<IIndexVersionGrain>(0);
        foreach (var (version, shift) in new[] { ("r2", 2), ("r3", 3) })
        {
            var bundle = TestServingBundle.MovedVersion(version, shift);
            await grains.GetGrain<IBackfillGrain>("job-" + version).StartAsync(bundle);
            Assert.Equal(BackfillStatus.Completed, (await BackfillFlow.WaitAsync(grains, "job-" + version, TimeSpan.FromSeconds(60))).Status);
            await BackfillFlow.AssertFullyWrittenAsync(grains, bundle, version);
            var activation = await versions.ActivateAsync(version);
            Assert.Equal(version == "r3" ? ["v1"] : Array.Empty<string>(), activation.Retired);
        }
        // The retired version is cleaned up by a job of its own, after the switch returned.
        var retirement = await BackfillFlow.WaitAsync(grains, "retire-v1", TimeSpan.FromSeconds(60));
        Assert.Equal((BackfillStatus.Completed, "v1", TestServingBundle.Records.Count, TestServingBundle.Records.Count, (string?)null),
            (retirement.Status, retirement.Version, retirement.Total, retirement.Done, retirement.LastError));
        var registry = await versions.GetAsync();
        Assert.Equal(["r2", "r3"], registry.Versions.Select(v => v.Version).Order());
        Assert.Equal(("r3", "r2"), (registry.Active, registry.Previous));
        foreach (var record in TestServingBundle.Records.Take(20))
        {
            var details = await grains.GetGrain<IItemGrain>(record.ItemId).GetDetailsAsync();
            Assert.DoesNotContain(details!.SemanticIds, s => s.Version == "v1");
        }
        var firstCodes = TestServingBundle.Records.Count;   // upper bound on c1 values in use
        var left = await Task.WhenAll(Enumerable.Range(0, Math.Min(firstCodes, 8)).Select(c => grains.GetGrain<IIdPrefixGrain>($"v1/{c}").CountAsync()));
        Assert.All(left, count => Assert.Equal(0, count));
        Assert.Equal("r2", await versions.RollbackAsync());
    }
}
