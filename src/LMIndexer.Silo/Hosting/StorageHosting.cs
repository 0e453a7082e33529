using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using LMIndexer.Grains;
using LMIndexer.Silo.Hosting.Options;
using LMIndexer.Storage.LiteDb;
using LMIndexer.Storage.MongoDB;
using Orleans.Configuration;

namespace LMIndexer.Silo.Hosting;

/// <summary>
/// Clustering (section <c>Cluster</c>) and grain storage + reminders (section <c>Storage</c>, both
/// always in the same store) from configuration; connection strings can come from the environment
/// (<c>Storage__MongoDB__ConnectionString</c>).
/// </summary>
public static class StorageHosting
{
    public static ISiloBuilder AddLMIndexerClustering(this ISiloBuilder silo, SiloClusterOptions cluster, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(cluster);
        switch (cluster.Clustering)
        {
            case ClusteringKind.Localhost:
                silo.UseLocalhostClustering(cluster.SiloPort, cluster.GatewayPort, serviceId: cluster.ServiceId, clusterId: cluster.ClusterId);
                break;
            case ClusteringKind.MongoDB:
                silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (cluster.ClusterId, cluster.ServiceId));
                var address = string.IsNullOrWhiteSpace(cluster.AdvertisedAddress) ? FirstNonLoopbackAddress() : ResolveAddress(cluster.AdvertisedAddress);
                silo.ConfigureEndpoints(address, cluster.SiloPort, cluster.GatewayPort, listenOnAnyHostAddress: true);
                silo.UseMongoDBClustering(MongoSection(configuration).Bind);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(cluster), cluster.Clustering, "Cluster:Clustering is validated at start-up.");
        }
        return silo;
    }

    public static ISiloBuilder AddLMIndexerStorage(this ISiloBuilder silo, StorageOptions storage, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(configuration);
        switch (storage.Provider)
        {
            case StorageProvider.Memory:
                silo.AddMemoryGrainStorage(StorageNames.Default);
                silo.UseInMemoryReminderService();
                break;
            case StorageProvider.LiteDb:
                var liteDb = configuration.GetSection($"{StorageOptions.Section}:{LiteDbStorageOptions.Section}");
                silo.AddLiteDbGrainStorage(StorageNames.Default, liteDb.Bind);
                silo.UseLiteDbReminderService(liteDb.Bind);
                break;
            case StorageProvider.MongoDB:
                var mongo = MongoSection(configuration);
                silo.AddMongoDBGrainStorage(StorageNames.Default, mongo.Bind);
                silo.UseMongoDBReminders(mongo.Bind);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(storage), storage.Provider, "Storage:Provider is validated at start-up.");
        }
        return silo;
    }

    private static IConfigurationSection MongoSection(IConfiguration configuration) =>
        configuration.GetSection($"{StorageOptions.Section}:{MongoDBStorageOptions.Section}");

    private static IPAddress ResolveAddress(string host) =>
        IPAddress.TryParse(host, out var address) ? address
            : Dns.GetHostAddresses(host).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
              ?? throw new InvalidOperationException($"Cluster:AdvertisedAddress '{host}' does not resolve to an IPv4 address.");

    private static IPAddress FirstNonLoopbackAddress() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
        ?? throw new InvalidOperationException("No network address to advertise to other silos; set Cluster:AdvertisedAddress.");
}
