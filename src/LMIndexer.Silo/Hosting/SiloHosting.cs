using LMIndexer.Core.Runtime;
using LMIndexer.Grains;
using LMIndexer.Grains.Placement;
using LMIndexer.Silo.Hosting.Options;
using LMIndexer.Silo.Api;
using LMIndexer.Silo.Security;
using Orleans.Configuration;
using Orleans.Dashboard;

namespace LMIndexer.Silo.Hosting;

/// <summary>Composes the host: libtorch, the Orleans silo with the LMIndexer grains, the API.</summary>
public static class SiloHosting
{
    /// <summary>Orleans' activation collection settings (<c>CollectionAge</c>, <c>EnableActivationSheddingOnMemoryPressure</c>, …).</summary>
    public const string GrainCollectionSection = "Orleans:GrainCollection";

    public static WebApplicationBuilder AddLMIndexerSilo(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        var services = builder.Services;
        var cluster = services.AddAndReadValidatedOptions<SiloClusterOptions, SiloClusterOptionsValidator>(configuration, SiloClusterOptions.Section);
        var torch = services.AddAndReadValidatedOptions<TorchOptions, TorchOptionsValidator>(configuration, TorchOptions.Section);
        var storage = services.AddAndReadValidatedOptions<StorageOptions, StorageOptionsValidator>(configuration, StorageOptions.Section);
        services.AddAndReadValidatedOptions<ServingOptions, ServingOptionsValidator>(configuration, ServingOptions.Section);
        services.Configure<AdminOptions>(configuration.GetSection(AdminOptions.Section));
        // SIGTERM is followed by SIGKILL after 10 s (docker stop's default): the silo leaves the
        // cluster and flushes its grains and store within that, or stops waiting.
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(8));
        // A process that embeds the silo (the CLI's demo) may have set the runtime up already.
        if (!TorchRuntime.IsInitialized)
            TorchRuntime.Initialize(new TorchRuntimeOptions { Device = torch.Device, Threads = torch.Threads, Precision = torch.Precision });

        builder.UseOrleans(silo =>
        {
            silo.AddLMIndexerClustering(cluster, configuration);
            silo.AddLMIndexerStorage(storage, configuration);
            silo.AddLMIndexerGrains(configuration, new Dictionary<string, string> { [SiloRoles.MetadataKey] = cluster.RoleMetadata });
            silo.UseFastFailureDetection();
            // Every user seen gets a user grain (about 3.5 KB of heap): operators bound memory by how
            // long an idle one stays (CollectionAge) or by Orleans' shedding under memory pressure.
            silo.Services.Configure<GrainCollectionOptions>(configuration.GetSection(GrainCollectionSection));
            silo.AddDashboard();
            silo.AddActivityPropagation();   // traces follow requests from HTTP into grain calls
        });
        builder.Services.AddSingleton<ServingBootstrap>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ServingBootstrap>());
        builder.AddLMIndexerSecurity();
        builder.Services.AddLMIndexerApi(configuration);
        return builder;
    }
}
