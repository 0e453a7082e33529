using LMIndexer.Core.Runtime;
using LMIndexer.Silo.Hosting;
using LMIndexer.Silo.Hosting.Options;
using LMIndexer.Silo.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LMIndexer.EndToEnd.Tests;

/// <summary>Host settings bind to enums and are validated before the host starts, each error naming its key.</summary>
public sealed class HostOptionsTests
{
    [Theory]
    [InlineData("Cluster:Role", "tpu")]
    [InlineData("Cluster:Clustering", "Zookeeper")]
    [InlineData("Storage:Provider", "Postgres")]
    [InlineData("Torch:Precision", "fp8")]
    public void An_unknown_enum_value_stops_the_host_naming_its_key(string key, string value)
    {
        var error = Assert.ThrowsAny<Exception>(() => Compose(new() { [key] = value }));
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_values_are_all_reported_at_once_before_the_host_starts()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Compose(new() { ["Cluster:SiloPort"] = "30000", ["Cluster:GatewayPort"] = "30000", ["Cluster:ClusterId"] = "" }));
        Assert.Contains("Cluster:SiloPort and Cluster:GatewayPort must differ", error.Message, StringComparison.Ordinal);
        Assert.Contains("Cluster:ClusterId and Cluster:ServiceId cannot be empty", error.Message, StringComparison.Ordinal);
        var security = Assert.Throws<OptionsValidationException>(() => Compose(new() { ["Security:Burst"] = "-1", ["Security:MaxRequestBodyBytes"] = "10" }));
        Assert.Equal(2, security.Failures.Count());
        var serving = Assert.Throws<OptionsValidationException>(() => Compose(new() { ["Serving:BundlePath"] = "/nowhere/bundle" }));
        Assert.Contains("Serving:BundlePath '/nowhere/bundle' is not a directory", serving.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Enum_settings_bind_from_the_spellings_operators_write()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Cluster:Role"] = "cpu", ["Cluster:Clustering"] = "mongodb", ["Storage:Provider"] = "memory", ["Torch:Precision"] = "bf16",
        }).Build();
        var cluster = configuration.GetSection(SiloClusterOptions.Section).Get<SiloClusterOptions>()!;
        Assert.Equal((SiloRole.Cpu, ClusteringKind.MongoDB, "cpu"), (cluster.Role, cluster.Clustering, cluster.RoleMetadata));
        Assert.Equal(StorageProvider.Memory, configuration.GetSection(StorageOptions.Section).Get<StorageOptions>()!.Provider);
        Assert.Equal(ComputePrecision.BFloat16, configuration.GetSection(TorchOptions.Section).Get<TorchOptions>()!.Precision);
    }

    [Fact]
    public void Activation_collection_settings_reach_orleans()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Orleans:GrainCollection:CollectionAge"] = "00:03:00",
            ["Orleans:GrainCollection:EnableActivationSheddingOnMemoryPressure"] = "true",
            ["Orleans:GrainCollection:MemoryUsageLimitPercentage"] = "60",
        });
        builder.AddLMIndexerSilo();
        using var app = builder.Build();

        var options = app.Services.GetRequiredService<IOptions<Orleans.Configuration.GrainCollectionOptions>>().Value;
        Assert.Equal(TimeSpan.FromMinutes(3), options.CollectionAge);
        Assert.True(options.EnableActivationSheddingOnMemoryPressure);
        Assert.Equal(60, options.MemoryUsageLimitPercentage);
    }

    private static void Compose(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddLMIndexerSilo();
    }
}
