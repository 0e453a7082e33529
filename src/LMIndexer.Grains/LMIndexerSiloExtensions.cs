using LMIndexer.Grains.Backfill;
using LMIndexer.Grains.Inference;
using LMIndexer.Grains.Placement;
using LMIndexer.Grains.Users;
using LMIndexer.Grains.Versions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace LMIndexer.Grains;

/// <summary>Wires the LMIndexer grains into a silo.</summary>
public static class LMIndexerSiloExtensions
{
    /// <summary>
    /// Options (<c>Inference</c>, <c>Recommendations</c>, <c>Backfill</c>, <c>Versions</c>, <c>Search</c>), the per-silo inference engines, GPU
    /// placement and silo metadata (the role comes from <c>Orleans:Metadata:role</c>, or
    /// <paramref name="metadata"/> when given).
    /// </summary>
    public static ISiloBuilder AddLMIndexerGrains(this ISiloBuilder silo, IConfiguration configuration, Dictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(configuration);
        var services = silo.Services;
        services.AddValidatedOptions<InferenceOptions, InferenceOptionsValidator>(configuration, InferenceOptions.Section);
        services.AddValidatedOptions<RecommendationOptions, RecommendationOptionsValidator>(configuration, RecommendationOptions.Section);
        services.AddValidatedOptions<BackfillOptions, BackfillOptionsValidator>(configuration, BackfillOptions.Section);
        services.AddValidatedOptions<IndexVersionOptions, IndexVersionOptionsValidator>(configuration, IndexVersionOptions.Section);
        services.AddValidatedOptions<Storage.StateWriteOptions, Storage.StateWriteOptionsValidator>(configuration, Storage.StateWriteOptions.Section);
        services.AddValidatedOptions<Search.SearchOptions, Search.SearchOptionsValidator>(configuration, Search.SearchOptions.Section);
        services.AddSingleton<Storage.StateWriter>();
        services.AddSingleton<Search.ItemTextEmbedder>();
        services.AddSingleton<Search.CatalogSearch>();
        services.AddOptions<GpuPlacementOptions>().Configure<IOptions<InferenceOptions>>((placement, inference) => placement.FallbackToAnySilo = inference.Value.FallbackToAnySilo);
        services.AddSingleton<InferenceEngineRegistry>();
        services.AddSingleton<InferenceRoute>();
        services.AddSingleton<UserRequests>();
        services.AddSingleton<ServedVersions>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(provider => provider.GetRequiredService<ServedVersions>());
        services.AddSingleton<Items.ItemIdAssigner>();
        services.AddSingleton<Items.CatalogIdAssignment>();
        services.AddPlacementDirector<GpuPlacement, GpuPlacementDirector>();
        if (metadata is null)
            silo.UseSiloMetadata(configuration);
        else
            silo.UseSiloMetadata(metadata);
        return silo;
    }

    /// <summary>
    /// Membership settings for a small cluster on one network: a silo that stops answering probes
    /// (one a second, three missed) is declared dead in about three seconds instead of Orleans'
    /// default of fifteen or more, so calls to it fail and its grains move that much sooner. Indirect
    /// probes through another silo keep a slow network link from being taken for a dead silo.
    /// Orleans 10 stretches probe timeouts up to <c>MaxProbeTimeout</c> (four times the probe timeout
    /// by default) and suppresses death votes while the silo's connection carried a message within
    /// <c>MaxProbeTimeout</c> × missed probes, so without a bound here a hung silo was kept for 12 s
    /// (<c>CrossProcessFailoverTests</c>, docs/reliability.md).
    /// </summary>
    public static ISiloBuilder UseFastFailureDetection(this ISiloBuilder silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.Configure<Orleans.Configuration.ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(1);
            o.MaxProbeTimeout = TimeSpan.FromSeconds(1);
            o.NumMissedProbesLimit = 3;
            o.EnableIndirectProbes = true;
        });
        return silo;
    }
}
