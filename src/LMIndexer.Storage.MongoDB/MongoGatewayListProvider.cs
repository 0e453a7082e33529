using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Messaging;

namespace LMIndexer.Storage.MongoDB;

/// <summary>Clients find the cluster's gateways in the MongoDB membership table: every active silo with a gateway port.</summary>
public sealed class MongoGatewayListProvider(IOptions<ClusterOptions> cluster, IOptions<GatewayOptions> gateways, MongoDBStorageOptions options) : IGatewayListProvider
{
    private readonly MongoMembershipTable table = new(cluster, options);

    public TimeSpan MaxStaleness => gateways.Value.GatewayListRefreshPeriod;

    public bool IsUpdatable => true;

    public Task InitializeGatewayListProvider() => Task.CompletedTask;

    public async Task<IList<Uri>> GetGateways()
    {
        var all = await table.ReadAll();
        return [.. all.Members
            .Select(m => m.Item1)
            .Where(e => e.Status == SiloStatus.Active && e.ProxyPort > 0)
            .Select(e => SiloAddress.New(e.SiloAddress.Endpoint.Address, e.ProxyPort, e.SiloAddress.Generation).ToGatewayUri())];
    }
}
