using LMIndexer.Silo.Api;
using LMIndexer.Silo.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LMIndexer.Cli.Commands;

/// <summary>The silo host inside the CLI process (demo, serving benchmark): embedded cluster, API, widget.</summary>
internal static class EmbeddedHost
{
    /// <summary>Starts the host on a loopback port, waits until the bundle and catalog are served, returns it with its address.</summary>
    public static async Task<(WebApplication App, string Address)> StartAsync(string servingDirectory, string catalogDirectory, int port, CancellationToken cancellation, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
            EnvironmentName = Environments.Production,
        });
        var configuration = new Dictionary<string, string?>
        {
            ["Urls"] = $"http://127.0.0.1:{port}",
            ["Serving:BundlePath"] = servingDirectory,
            ["Serving:CatalogPath"] = catalogDirectory,
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
            // The CLI runs workstation GC; the silo's server-GC advice is noise here.
            ["Logging:LogLevel:Orleans.Runtime.Silo"] = "Error",
            ["Logging:LogLevel:Polly"] = "Error",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            configuration[key] = value;
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.AddLMIndexerSilo();
        var app = builder.Build();
        app.MapLMIndexer();
        try
        {
            await app.StartAsync(cancellation);
            await app.Services.GetRequiredService<ServingBootstrap>().Ready.WaitAsync(cancellation);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return (app, address);
    }
}
