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
        services.AddSingleton<IValidateOptions<Storage.StateWriteOptions>, StateWriteOptionsValidator>();
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

/// <summary>Rejects inference settings that cannot work, at start-up.</summary>
public sealed class InferenceOptionsValidator : IValidateOptions<InferenceOptions>
{
    public ValidateOptionsResult Validate(string? name, InferenceOptions options)
    {
        var errors = new List<string>();
        if (options.MaxBatchSize < 1)
            errors.Add($"Inference:MaxBatchSize must be at least 1 (got {options.MaxBatchSize}).");
        if (options.MaxWaitMilliseconds < 0)
            errors.Add($"Inference:MaxWaitMilliseconds cannot be negative (got {options.MaxWaitMilliseconds}).");
        if (options.Workers < 0)
            errors.Add($"Inference:Workers cannot be negative (got {options.Workers}; 0 picks one per core group).");
        if (options.ThreadsPerWorker < 0)
            errors.Add($"Inference:ThreadsPerWorker cannot be negative (got {options.ThreadsPerWorker}; 0 picks 1 on a CPU).");
        if (options.Replicas < 1)
            errors.Add($"Inference:Replicas must be at least 1 (got {options.Replicas}).");
        if (options.Beams < 1)
            errors.Add($"Inference:Beams must be at least 1 (got {options.Beams}).");
        if (options.TimeoutMilliseconds < 1)
            errors.Add($"Inference:TimeoutMilliseconds must be at least 1 (got {options.TimeoutMilliseconds}).");
        if (options.MaxQueueLength < 1)
            errors.Add($"Inference:MaxQueueLength must be at least 1 (got {options.MaxQueueLength}).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>Rejects recommendation settings that cannot work, at start-up.</summary>
public sealed class RecommendationOptionsValidator : IValidateOptions<RecommendationOptions>
{
    public ValidateOptionsResult Validate(string? name, RecommendationOptions options)
    {
        var errors = new List<string>();
        if (options.HistoryLength < 1)
            errors.Add($"Recommendations:HistoryLength must be at least 1 (got {options.HistoryLength}).");
        if (options.SeenLength < 1)
            errors.Add($"Recommendations:SeenLength must be at least 1 (got {options.SeenLength}).");
        if (options.EventIdMemory < 1)
            errors.Add($"Recommendations:EventIdMemory must be at least 1 (got {options.EventIdMemory}).");
        if (options.MaxCount < 1)
            errors.Add($"Recommendations:MaxCount must be at least 1 (got {options.MaxCount}).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>Rejects retry settings that cannot work, at start-up.</summary>
public sealed class StateWriteOptionsValidator : IValidateOptions<Storage.StateWriteOptions>
{
    public ValidateOptionsResult Validate(string? name, Storage.StateWriteOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.MaxRetries is < 0 or > 10 || options.FirstDelayMilliseconds < 1
            ? ValidateOptionsResult.Fail($"StateWrites: MaxRetries must be 0-10 and FirstDelayMilliseconds at least 1 (got {options.MaxRetries}, {options.FirstDelayMilliseconds}).")
            : ValidateOptionsResult.Success;
    }
}
