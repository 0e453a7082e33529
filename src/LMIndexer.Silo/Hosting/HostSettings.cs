namespace LMIndexer.Silo.Hosting;

/// <summary>How this host joins a cluster (section <c>Cluster</c>).</summary>
public sealed class ClusterSettings
{
    public const string Section = "Cluster";

    /// <summary>
    /// How silos find each other: <c>Localhost</c> (one machine, nothing else to run) or
    /// <c>MongoDB</c> (membership in <c>Storage:MongoDB</c>'s server; silos on many machines).
    /// </summary>
    public string Clustering { get; set; } = "Localhost";

    /// <summary>The address other silos reach this one at (MongoDB clustering); empty: the first non-loopback IPv4 address.</summary>
    public string AdvertisedAddress { get; set; } = "";

    /// <summary>Silos and clients of one cluster share this id (clients: <c>--cluster-id</c>).</summary>
    public string ClusterId { get; set; } = "lmindexer";

    /// <summary>The service's id: grain state and reminders are keyed by it, so keep it across deployments.</summary>
    public string ServiceId { get; set; } = "lmindexer";

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    /// <summary>This silo's role in silo metadata: <c>gpu</c> (runs inference) or <c>cpu</c>.</summary>
    public string Role { get; set; } = "gpu";
}

/// <summary>libtorch settings (section <c>Torch</c>).</summary>
public sealed class TorchSettings
{
    public const string Section = "Torch";

    public string Device { get; set; } = "cpu";

    public int Threads { get; set; }

    /// <summary>Inference precision: <c>float32</c> or <c>bf16</c>.</summary>
    public string Precision { get; set; } = "float32";
}

/// <summary>What to serve at start-up (section <c>Serving</c>); both empty: start with an empty cluster.</summary>
public sealed class ServingSettings
{
    public const string Section = "Serving";

    /// <summary>A serving bundle to publish and activate at start-up.</summary>
    public string BundlePath { get; set; } = "";

    /// <summary>A search serving bundle ('lmindexer search train') to publish and activate for <c>/api/search</c>.</summary>
    public string SearchBundlePath { get; set; } = "";

    /// <summary>A catalog directory (items.jsonl) to load into the item grains at start-up.</summary>
    public string CatalogPath { get; set; } = "";
}

/// <summary>Admin API settings (section <c>Admin</c>).</summary>
public sealed class AdminSettings
{
    public const string Section = "Admin";

    /// <summary>Key expected in the <c>X-Api-Key</c> header of admin calls; empty disables the admin API.</summary>
    public string ApiKey { get; set; } = "";
}

/// <summary>Where grain state and reminders live (section <c>Storage</c>).</summary>
public sealed class StorageSettings
{
    public const string Section = "Storage";

    /// <summary><c>LiteDb</c> (embedded default: a file that survives restarts), <c>MongoDB</c> or <c>Memory</c>.</summary>
    public string Provider { get; set; } = StorageProviders.LiteDb;
}

/// <summary>The storage provider names of <see cref="StorageSettings.Provider"/>.</summary>
public static class StorageProviders
{
    public const string Memory = "Memory";
    public const string LiteDb = "LiteDb";
    public const string MongoDB = "MongoDB";
}

/// <summary>Telemetry export (section <c>Telemetry</c>); Prometheus scraping at <c>/metrics</c> is always on.</summary>
public sealed class TelemetrySettings
{
    public const string Section = "Telemetry";

    /// <summary>An OTLP collector (e.g. <c>http://collector:4317</c>) for metrics and traces; empty: no export.</summary>
    public string OtlpEndpoint { get; set; } = "";
}
