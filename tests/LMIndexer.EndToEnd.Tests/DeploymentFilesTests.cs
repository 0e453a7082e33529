using LMIndexer.Testing;
using System.Reflection;
using System.Text.Json;
using LMIndexer.Grains.Backfill;
using LMIndexer.Grains.Inference;
using LMIndexer.Grains.Users;
using LMIndexer.Grains.Versions;
using LMIndexer.Silo.Hosting;
using LMIndexer.Silo.Hosting.Options;
using LMIndexer.Storage.LiteDb;
using LMIndexer.Storage.MongoDB;
using YamlDotNet.RepresentationModel;

namespace LMIndexer.EndToEnd.Tests;

/// <summary>
/// No Docker engine runs here, so the deployment files are checked for what would break them:
/// services, Dockerfiles, GPU reservation, health checks, the bundle volume, and every setting
/// they pass naming a real option.
/// </summary>
public sealed class DeploymentFilesTests
{
    private static readonly string Root = TestEnvironment.RepositoryRoot();

    /// <summary>Configuration sections → the classes that bind them.</summary>
    private static readonly Dictionary<string, Type> Sections = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Cluster"] = typeof(SiloClusterOptions),
        ["Torch"] = typeof(TorchOptions),
        ["Serving"] = typeof(ServingOptions),
        ["Admin"] = typeof(AdminOptions),
        ["Storage"] = typeof(StorageOptions),
        ["Storage:MongoDB"] = typeof(MongoDBStorageOptions),
        ["Storage:LiteDb"] = typeof(LiteDbStorageOptions),
        ["Inference"] = typeof(InferenceOptions),
        ["Recommendations"] = typeof(RecommendationOptions),
        ["Backfill"] = typeof(BackfillOptions),
        ["Versions"] = typeof(IndexVersionOptions),
    };

    private static YamlMappingNode Compose()
    {
        var yaml = new YamlStream();
        using var reader = new StreamReader(Path.Combine(Root, "docker-compose.yml"));
        yaml.Load(reader);
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }

    private static YamlMappingNode Map(YamlNode node, string key) => (YamlMappingNode)((YamlMappingNode)node).Children[new YamlScalarNode(key)];

    private static bool Has(YamlNode node, string key) => ((YamlMappingNode)node).Children.ContainsKey(new YamlScalarNode(key));

    [Fact]
    public void The_compose_file_has_mongo_two_cpu_silos_and_a_gpu_silo_with_their_dockerfiles()
    {
        var services = Map(Compose(), "services");
        Assert.Equal(["mongo", "silo-cpu-1", "silo-cpu-2", "silo-gpu"], services.Children.Keys.Select(k => k.ToString()).Order());
        Assert.True(Has(services["mongo"], "healthcheck"), "mongo needs a health check (the silos wait for it)");

        var built = new Dictionary<string, string>();
        foreach (var (name, service) in services.Children.Where(s => s.Key.ToString().StartsWith("silo", StringComparison.Ordinal)))
        {
            if (Has(service, "build"))
            {
                var dockerfile = Map(service, "build")["dockerfile"].ToString();
                Assert.True(File.Exists(Path.Combine(Root, dockerfile)), $"{name}: {dockerfile} does not exist");
                Assert.Contains("HEALTHCHECK", File.ReadAllText(Path.Combine(Root, dockerfile)), StringComparison.Ordinal);
                built[service["image"].ToString()] = dockerfile;
            }
            var volumes = ((YamlSequenceNode)service["volumes"]).Children.Select(v => v.ToString()).ToList();
            Assert.Contains(volumes, v => v.EndsWith(":/bundles:ro", StringComparison.Ordinal));
            var environment = Environment(service);
            Assert.Equal("mongodb://mongo:27017", environment["Storage__MongoDB__ConnectionString"]);
        }
        // Every silo image is built by some service.
        foreach (var (name, service) in services.Children.Where(s => s.Key.ToString().StartsWith("silo", StringComparison.Ordinal)))
            Assert.True(built.ContainsKey(service["image"].ToString()), $"{name}: image {service["image"]} is built by no service");

        var gpu = services["silo-gpu"];
        Assert.Equal("gpu", Environment(gpu)["Cluster__Role"]);
        var device = (YamlMappingNode)((YamlSequenceNode)Map(Map(Map(gpu, "deploy"), "resources"), "reservations")["devices"]).Children[0];
        Assert.Equal("nvidia", device["driver"].ToString());
        Assert.Contains("gpu", ((YamlSequenceNode)device["capabilities"]).Children.Select(c => c.ToString()));
        var gpuDockerfile = File.ReadAllText(Path.Combine(Root, "deploy", "silo-gpu.Dockerfile"));
        Assert.Contains("-p:TorchBackend=cuda", gpuDockerfile, StringComparison.Ordinal);
        Assert.Contains("FROM nvidia/cuda:", gpuDockerfile, StringComparison.Ordinal);
        Assert.All(services.Children.Where(s => s.Key.ToString().StartsWith("silo-cpu", StringComparison.Ordinal)), s => Assert.Equal("cpu", Environment(s.Value)["Cluster__Role"]));
    }

    [Fact]
    public void Every_setting_the_deployment_passes_names_a_real_option()
    {
        var names = new List<string>();
        foreach (var (_, service) in Map(Compose(), "services").Children.Where(s => s.Key.ToString().StartsWith("silo", StringComparison.Ordinal)))
            names.AddRange(Environment(service).Keys.Select(k => k.Replace("__", ":", StringComparison.Ordinal)));
        foreach (var dockerfile in Directory.GetFiles(Path.Combine(Root, "deploy"), "*.Dockerfile"))
        {
            names.AddRange(File.ReadAllLines(dockerfile)
                .SkipWhile(l => !l.StartsWith("ENV ", StringComparison.Ordinal))
                .TakeWhile(l => l.StartsWith("ENV ", StringComparison.Ordinal) || l.StartsWith("    ", StringComparison.Ordinal))
                .Select(l => l.Replace("ENV ", "", StringComparison.Ordinal).Trim().TrimEnd('\\').Trim().Split('=')[0])
                .Where(n => n.Contains("__", StringComparison.Ordinal))
                .Select(n => n.Replace("__", ":", StringComparison.Ordinal)));
        }
        using (var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "deploy", "appsettings.Cluster.json"))))
            names.AddRange(Flatten(settings.RootElement, "").Where(n => n != "Urls"));
        Assert.NotEmpty(names);
        Assert.All(names, name =>
        {
            var colon = name.LastIndexOf(':');
            Assert.True(colon > 0, $"'{name}' is not section:option");
            var section = name[..colon];
            Assert.True(Sections.TryGetValue(section, out var type), $"'{name}': no options class binds section '{section}'");
            Assert.True(type!.GetProperty(name[(colon + 1)..], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase) is { CanWrite: true },
                $"'{name}': {type.Name} has no settable property '{name[(colon + 1)..]}'");
        });
    }

    private static Dictionary<string, string> Environment(YamlNode service)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in Map(service, "environment").Children)
        {
            if (key.ToString() == "<<" && value is YamlMappingNode merged)
            {
                foreach (var (k, v) in merged.Children)
                    result[k.ToString()] = v.ToString();
            }
            else
            {
                result[key.ToString()] = value.ToString();
            }
        }
        return result;
    }

    private static IEnumerable<string> Flatten(JsonElement element, string prefix) => element.ValueKind == JsonValueKind.Object
        ? element.EnumerateObject().SelectMany(p => Flatten(p.Value, prefix.Length == 0 ? p.Name : $"{prefix}:{p.Name}"))
        : [prefix];
}
