using System.Net;
using System.Net.Sockets;
using LMIndexer.Silo.Api;
using LMIndexer.Silo.Hosting;
using LMIndexer.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace LMIndexer.EndToEnd.Tests;

/// <summary>
/// The real host (silo + API + widget) on a free loopback port, serving the test bundle and its
/// catalog exactly as <c>lmindexer-silo</c> does from configuration.
/// </summary>
public class HostFixture : IAsyncLifetime
{
    public const string ApiKey = "test-admin-key";

    /// <summary>A key that may write the catalog and nothing else (configured by its hash only).</summary>
    public const string CatalogKey = "test-catalog-key";

    private readonly string storeFile = Path.Combine(Path.GetTempPath(), "lmindexer-tests", $"host-{Guid.NewGuid():N}.db");
    private WebApplication? app;

    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    /// <summary>The silo's Orleans gateway port (what <c>lmindexer backfill</c> connects to).</summary>
    public int GatewayPort { get; } = TestEnvironment.FreePort();

    public async Task InitializeAsync()
    {
        _ = TestServingBundle.Directory;
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = "Production",
            WebRootPath = Path.Combine(TestEnvironment.RepositoryRoot(), "src", "LMIndexer.Silo", "wwwroot"),
        });
        var settings = new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Cluster:SiloPort"] = TestEnvironment.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Cluster:GatewayPort"] = GatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Torch:Threads"] = "1",
            // The default store, in a fresh file per run.
            ["Storage:Provider"] = "LiteDb",
            ["Storage:LiteDb:ConnectionString"] = $"Filename={storeFile}",
            ["Serving:BundlePath"] = TestServingBundle.Directory,
            ["Serving:CatalogPath"] = TestServingBundle.CatalogDirectory,
            ["Serving:SearchBundlePath"] = TestServingBundle.SearchDirectory,
            // Search shards read the approximate vector index from their first item, so the search
            // tests go through it end to end; the cluster tests keep the exact scan (the default here).
            ["Search:ApproximateDenseAbove"] = "1",
            ["Admin:ApiKey"] = ApiKey,
            ["Security:ApiKeys:0:Name"] = "catalog feed",
            ["Security:ApiKeys:0:Sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(CatalogKey))),
            ["Security:ApiKeys:0:Scopes:0"] = "catalog",
            // Off here, so that load and fuzz tests reach the endpoints; RateLimitedHostFixture turns it on.
            ["Security:PermitsPerSecond"] = "0",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in Overrides)
            settings[key] = value;
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddLMIndexerSilo();
        app = builder.Build();
        app.MapLMIndexer();
        await app.StartAsync();
        await app.Services.GetRequiredService<ServingBootstrap>().Ready.WaitAsync(TimeSpan.FromMinutes(2));
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address);
        Http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>Settings that a specialised host changes.</summary>
    protected virtual IReadOnlyDictionary<string, string?> Overrides => new Dictionary<string, string?>();

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        TestEnvironment.DeleteLiteDb(storeFile);
    }
}

/// <summary>The same host with a tight public rate limit and a small body limit.</summary>
public sealed class RateLimitedHostFixture : HostFixture
{
    protected override IReadOnlyDictionary<string, string?> Overrides => new Dictionary<string, string?>
    {
        ["Security:PermitsPerSecond"] = "1",
        ["Security:Burst"] = "3",
        ["Security:MaxRequestBodyBytes"] = "65536",
    };
}

/// <summary>The same host with the search version's generative ranking weighed into search (by default it is not).</summary>
public class GenerativeSearchHostFixture : HostFixture
{
    protected override IReadOnlyDictionary<string, string?> Overrides => new Dictionary<string, string?>
    {
        ["Search:GenerativeWeight"] = "1",
        ["Search:GenerativeTimeoutMilliseconds"] = "30000",
    };
}

/// <summary>A host on a store and a search vector cache of the caller's, so that a test can start it again on them.</summary>
public sealed class RestartableHostFixture(string storeFile, string vectorCache) : HostFixture
{
    protected override IReadOnlyDictionary<string, string?> Overrides => new Dictionary<string, string?>
    {
        ["Storage:LiteDb:ConnectionString"] = $"Filename={storeFile}",
        ["Search:VectorCacheDirectory"] = vectorCache,
    };
}

[CollectionDefinition(nameof(HostCollection))]
public sealed class HostCollection : ICollectionFixture<HostFixture>;
