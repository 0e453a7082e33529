using Microsoft.Extensions.DependencyInjection;
using LMIndexer.Testing;
using LMIndexer.Abstractions;
using LMIndexer.Grains.Placement;
using LMIndexer.Grains.Versions;
using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;

namespace LMIndexer.Grains.Tests;

/// <summary>
/// Two silos, only the first with the <c>gpu</c> role and no CPU fallback; the test bundle's
/// catalog and IDs published as version v1 and activated.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>The silo that got the gpu role.</summary>
    public string GpuSilo { get; private set; } = "";

    public IGrainFactory Grains => Cluster.Client;

    /// <summary>
    /// A cluster of <paramref name="silos"/>; <paramref name="storage"/> replaces the default memory
    /// storage and in-memory reminders (it must add both); <paramref name="settings"/> adds configuration.
    /// </summary>
    public static InProcessTestCluster Build(short silos, Func<int, string> role, bool fallback, Action<string, int>? named = null, Action<ISiloBuilder>? storage = null,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        var builder = new InProcessTestClusterBuilder(silos);
        var index = 0;
        builder.ConfigureSilo((options, silo) =>
        {
            var i = Interlocked.Increment(ref index) - 1;
            named?.Invoke(options.SiloName, i);
            var values = new Dictionary<string, string?>
            {
                ["Inference:FallbackToAnySilo"] = fallback ? "true" : "false",
                ["Inference:MaxWaitMilliseconds"] = "2",
                ["Recommendations:HistoryLength"] = "6",
                ["Backfill:ReminderPeriod"] = "00:00:02",
                // BM25 alone: the packaged encoder's dense search is tested on the real host.
                ["Search:Encoder"] = "none",
            };
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
                values[key] = value;
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
            if (storage is null)
            {
                silo.AddMemoryGrainStorage(StorageNames.Default);
                silo.UseInMemoryReminderService();
            }
            else
            {
                storage(silo);
            }
            // Backfill jobs are driven by reminders; tests cannot wait the production minimum of a minute.
            silo.Services.Configure<Orleans.Hosting.ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
            silo.AddLMIndexerGrains(configuration, new Dictionary<string, string> { [SiloRoles.MetadataKey] = role(i) });
        });
        return builder.Build();
    }

    public async Task InitializeAsync()
    {
        _ = TestServingBundle.Directory;   // train before the cluster's clock starts
        string? gpuName = null;
        Cluster = Build(2, i => i == 0 ? SiloRoles.Gpu : SiloRoles.Cpu, fallback: false, (name, i) =>
        {
            if (i == 0)
                gpuName = name;
        });
        await Cluster.DeployAsync();
        GpuSilo = Cluster.Silos.Single(s => s.Name == gpuName).SiloAddress.ToString();
        await Task.WhenAll(TestServingBundle.Records.Select(r => Grains.GetGrain<IItemGrain>(r.ItemId).UpsertAsync(r)));
        await IndexPublisher.PublishAsync(Grains, TestServingBundle.Directory);
        await Grains.GetGrain<IIndexVersionGrain>(0).ActivateAsync("v1");
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
