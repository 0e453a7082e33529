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

    public static InProcessTestCluster Build(short silos, Func<int, string> role, bool fallback, Action<string, int>? named = null, Action<ISiloBuilder>? storage = null)
    {
        var builder = new InProcessTestClusterBuilder(silos);
        var index = 0;
        builder.ConfigureSilo((options, silo) =>
        {
            var i = Interlocked.Increment(ref index) - 1;
            named?.Invoke(options.SiloName, i);
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Inference:FallbackToAnySilo"] = fallback ? "true" : "false",
                ["Inference:MaxWaitMilliseconds"] = "2",
                ["Recommendations:HistoryLength"] = "6",
            }).Build();
            if (storage is null)
                silo.AddMemoryGrainStorage(StorageNames.Default);
            else
                storage(silo);
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
