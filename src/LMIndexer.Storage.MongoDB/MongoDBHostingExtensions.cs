using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Messaging;
using Orleans.Runtime.Hosting;

namespace LMIndexer.Storage.MongoDB;

/// <summary>Wires the MongoDB providers into silos and clients.</summary>
public static class MongoDBHostingExtensions
{
    private const string ClusteringOptions = "clustering";
    private const string ReminderOptions = "reminders";

    /// <summary>Named grain storage on MongoDB.</summary>
    public static ISiloBuilder AddMongoDBGrainStorage(this ISiloBuilder silo, string name, Action<MongoDBStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(silo);
        AddOptions(silo.Services, name, configure);
        silo.Services.AddGrainStorage(name, (services, key) => new MongoGrainStorage(key, Options(services, key)));
        return silo;
    }

    /// <summary>Cluster membership in MongoDB (silos find each other and declare the dead).</summary>
    public static ISiloBuilder UseMongoDBClustering(this ISiloBuilder silo, Action<MongoDBStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(silo);
        AddOptions(silo.Services, ClusteringOptions, configure);
        silo.Services.AddSingleton<IMembershipTable>(services =>
            new MongoMembershipTable(services.GetRequiredService<IOptions<ClusterOptions>>(), Options(services, ClusteringOptions)));
        return silo;
    }

    /// <summary>Durable reminders in MongoDB.</summary>
    public static ISiloBuilder UseMongoDBReminders(this ISiloBuilder silo, Action<MongoDBStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.AddReminders();
        AddOptions(silo.Services, ReminderOptions, configure);
        silo.Services.AddSingleton<IReminderTable>(services =>
            new MongoReminderTable(services.GetRequiredService<IOptions<ClusterOptions>>(), Options(services, ReminderOptions)));
        return silo;
    }

    /// <summary>Clients find gateways in the MongoDB membership table.</summary>
    public static IClientBuilder UseMongoDBClustering(this IClientBuilder client, Action<MongoDBStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(client);
        AddOptions(client.Services, ClusteringOptions, configure);
        client.Services.AddSingleton<IGatewayListProvider>(services => new MongoGatewayListProvider(
            services.GetRequiredService<IOptions<ClusterOptions>>(), services.GetRequiredService<IOptions<GatewayOptions>>(), Options(services, ClusteringOptions)));
        return client;
    }

    private static void AddOptions(IServiceCollection services, string name, Action<MongoDBStorageOptions> configure)
    {
        services.AddOptions<MongoDBStorageOptions>(name).Configure(configure).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MongoDBStorageOptions>, MongoDBStorageOptionsValidator>();
    }

    private static MongoDBStorageOptions Options(IServiceProvider services, string name) =>
        services.GetRequiredService<IOptionsMonitor<MongoDBStorageOptions>>().Get(name);
}
