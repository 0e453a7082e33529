using LMIndexer.Core.Runtime;
using LMIndexer.Grains;
using LMIndexer.Grains.Placement;
using LMIndexer.Silo.Api;
using LMIndexer.Silo.Security;
using Orleans.Dashboard;

namespace LMIndexer.Silo.Hosting;

/// <summary>Composes the host: libtorch, the Orleans silo with the LMIndexer grains, the API.</summary>
public static class SiloHosting
{
    public static WebApplicationBuilder AddLMIndexerSilo(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        var cluster = configuration.GetSection(ClusterSettings.Section).Get<ClusterSettings>() ?? new ClusterSettings();
        if (cluster.Role is not (SiloRoles.Gpu or SiloRoles.Cpu))
            throw new InvalidOperationException($"Cluster:Role must be '{SiloRoles.Gpu}' or '{SiloRoles.Cpu}', not '{cluster.Role}'.");
        var torch = configuration.GetSection(TorchSettings.Section).Get<TorchSettings>() ?? new TorchSettings();
        // A process that embeds the silo (the CLI's demo) may have set the runtime up already.
        if (!TorchRuntime.IsInitialized)
            TorchRuntime.Initialize(new TorchRuntimeOptions { Device = torch.Device, Threads = torch.Threads, Precision = TorchRuntimeOptions.ParsePrecision(torch.Precision) });

        builder.Services.Configure<ServingSettings>(configuration.GetSection(ServingSettings.Section));
        builder.Services.Configure<AdminSettings>(configuration.GetSection(AdminSettings.Section));
        builder.UseOrleans(silo =>
        {
            silo.AddLMIndexerClustering(cluster, configuration);
            silo.AddLMIndexerStorage(configuration);
            silo.AddLMIndexerGrains(configuration, new Dictionary<string, string> { [SiloRoles.MetadataKey] = cluster.Role });
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
