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
    /// Options (<c>Inference</c>, <c>Recommendations</c>, <c>Backfill</c>, <c>Versions</c>), the per-silo inference engines, GPU
    /// placement and silo metadata (the role comes from <c>Orleans:Metadata:role</c>, or
    /// <paramref name="metadata"/> when given).
    /// </summary>
    public static ISiloBuilder AddLMIndexerGrains(this ISiloBuilder silo, IConfiguration configuration, Dictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(configuration);
        var services = silo.Services;
        services.AddOptions<InferenceOptions>().Bind(configuration.GetSection(InferenceOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<InferenceOptions>, InferenceOptionsValidator>();
        services.AddOptions<RecommendationOptions>().Bind(configuration.GetSection(RecommendationOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RecommendationOptions>, RecommendationOptionsValidator>();
        services.AddOptions<BackfillOptions>().Bind(configuration.GetSection(BackfillOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<BackfillOptions>, BackfillOptionsValidator>();
        services.AddOptions<IndexVersionOptions>().Bind(configuration.GetSection(IndexVersionOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<IndexVersionOptions>, IndexVersionOptionsValidator>();
        services.AddOptions<Storage.StateWriteOptions>().Bind(configuration.GetSection(Storage.StateWriteOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<Storage.StateWriteOptions>, Storage.StateWriteOptionsValidator>();
        services.AddSingleton<Storage.StateWriter>();
        services.AddOptions<GpuPlacementOptions>().Configure<IOptions<InferenceOptions>>((placement, inference) => placement.FallbackToAnySilo = inference.Value.FallbackToAnySilo);
        services.AddSingleton<InferenceEngineRegistry>();
        services.AddSingleton<Items.ItemIdAssigner>();
        services.AddSingleton<Items.CatalogIdAssignment>();
        services.AddPlacementDirector<GpuPlacement, GpuPlacementDirector>();
        if (metadata is null)
            silo.UseSiloMetadata(configuration);
        else
            silo.UseSiloMetadata(metadata);
        return silo;
    }
}
