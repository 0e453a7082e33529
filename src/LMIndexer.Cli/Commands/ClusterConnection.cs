using System.CommandLine;
using System.Net;
using LMIndexer.Cli.Console;
using LMIndexer.Storage.MongoDB;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace LMIndexer.Cli.Commands;

/// <summary>An Orleans client of a running cluster, from <c>--gateway</c>, <c>--cluster-id</c>, <c>--service-id</c>.</summary>
internal sealed class ClusterConnection
{
    public Option<string> Gateway { get; } = new("--gateway") { Description = "host:port of a silo's gateway.", DefaultValueFactory = _ => "127.0.0.1:30000" };
    public Option<string> ClusterId { get; } = new("--cluster-id") { Description = "The cluster's id (Cluster:ClusterId of the silos).", DefaultValueFactory = _ => "lmindexer" };
    public Option<string?> MongoDB { get; } = new("--mongodb") { Description = "Find the gateways in this MongoDB server's membership table (clusters with Cluster:Clustering=MongoDB) instead of --gateway." };
    public Option<string> MongoDatabase { get; } = new("--mongodb-database") { Description = "The database of the membership table (Storage:MongoDB:Database).", DefaultValueFactory = _ => "lmindexer" };
    public Option<string> ServiceId { get; } = new("--service-id") { Description = "The cluster's service id (Cluster:ServiceId of the silos).", DefaultValueFactory = _ => "lmindexer" };

    public void AddTo(Command command)
    {
        command.Options.Add(Gateway);
        command.Options.Add(ClusterId);
        command.Options.Add(ServiceId);
        command.Options.Add(MongoDB);
        command.Options.Add(MongoDatabase);
    }

    /// <summary>
    /// Gives <paramref name="command"/> the connection options and an action that connects, runs
    /// <paramref name="work"/> with the cluster's grain factory, disconnects, and reports failures in one line.
    /// </summary>
    public static void Attach(Command command, Func<ParseResult, IGrainFactory, CancellationToken, Task<int>> work)
    {
        ArgumentNullException.ThrowIfNull(command);
        var connection = new ClusterConnection();
        connection.AddTo(command);
        command.SetAction((result, cancellation) => CliErrors.RunAsync(() => connection.RunAsync(result, grains => work(result, grains, cancellation), cancellation)));
    }

    /// <summary>Connects, runs <paramref name="work"/> with the cluster's grain factory, disconnects.</summary>
    public async Task<int> RunAsync(ParseResult result, Func<IGrainFactory, Task<int>> work, CancellationToken cancellation)
    {
        var mongo = result.GetValue(MongoDB);
        var gateway = mongo is null ? ParseEndPoint(result.GetValue(Gateway)!) : null;
        var where = mongo is null ? gateway!.ToString() : "the gateways listed in MongoDB";
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            if (mongo is null)
                client.UseStaticClustering(gateway!);
            else
                client.UseMongoDBClustering(o => (o.ConnectionString, o.Database) = (mongo, result.GetValue(MongoDatabase)!));
            client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (result.GetValue(ClusterId)!, result.GetValue(ServiceId)!));
            // Fail fast with one line instead of retrying forever when no silo answers.
            client.UseConnectionRetryFilter((_, _) => Task.FromResult(false));
        });
        using var host = builder.Build();
        try
        {
            await host.StartAsync(cancellation);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException or System.Net.Sockets.SocketException)
        {
            throw new CliUsageException($"cannot reach the cluster at {where}: {e.Message.Split('\n', 2)[0]}");
        }
        try
        {
            return await work(host.Services.GetRequiredService<IGrainFactory>());
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    private static IPEndPoint ParseEndPoint(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), out var port) || port is < 1 or > 65535)
            throw new CliUsageException($"--gateway must be host:port, not '{text}'.");
        var host = text[..colon];
        var address = IPAddress.TryParse(host, out var parsed) ? parsed
            : Dns.GetHostAddresses(host).FirstOrDefault() ?? throw new CliUsageException($"--gateway: cannot resolve '{host}'.");
        return new IPEndPoint(address, port);
    }
}
