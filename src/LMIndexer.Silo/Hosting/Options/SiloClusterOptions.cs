using LMIndexer.Grains.Placement;
using Microsoft.Extensions.Options;

namespace LMIndexer.Silo.Hosting.Options;

/// <summary>How silos find each other.</summary>
public enum ClusteringKind
{
    /// <summary>One machine, nothing else to run.</summary>
    Localhost,

    /// <summary>Membership in <c>Storage:MongoDB</c>'s server; silos on many machines.</summary>
    MongoDB,
}

/// <summary>A silo's role in silo metadata: inference grains are placed on <see cref="Gpu"/> silos only.</summary>
public enum SiloRole
{
    Gpu,
    Cpu,
}

/// <summary>How this host joins a cluster (section <c>Cluster</c>).</summary>
public sealed class SiloClusterOptions
{
    public const string Section = "Cluster";

    public ClusteringKind Clustering { get; set; } = ClusteringKind.Localhost;

    /// <summary>The address other silos reach this one at (MongoDB clustering); empty: the first non-loopback IPv4 address.</summary>
    public string AdvertisedAddress { get; set; } = "";

    /// <summary>Silos and clients of one cluster share this id (clients: <c>--cluster-id</c>).</summary>
    public string ClusterId { get; set; } = "lmindexer";

    /// <summary>The service's id: grain state and reminders are keyed by it, so keep it across deployments.</summary>
    public string ServiceId { get; set; } = "lmindexer";

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    public SiloRole Role { get; set; } = SiloRole.Gpu;

    /// <summary>The role as silo metadata spells it (<see cref="SiloRoles"/>).</summary>
    public string RoleMetadata => Role == SiloRole.Gpu ? SiloRoles.Gpu : SiloRoles.Cpu;
}

/// <summary>Rejects cluster settings that cannot work, at start-up.</summary>
public sealed class SiloClusterOptionsValidator : IValidateOptions<SiloClusterOptions>
{
    public ValidateOptionsResult Validate(string? name, SiloClusterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (!Enum.IsDefined(options.Clustering))
            errors.Add($"Cluster:Clustering must be Localhost or MongoDB (got {options.Clustering}).");
        if (!Enum.IsDefined(options.Role))
            errors.Add($"Cluster:Role must be gpu or cpu (got {options.Role}).");
        if (string.IsNullOrWhiteSpace(options.ClusterId) || string.IsNullOrWhiteSpace(options.ServiceId))
            errors.Add("Cluster:ClusterId and Cluster:ServiceId cannot be empty.");
        if (options.SiloPort is < 1 or > 65535 || options.GatewayPort is < 1 or > 65535)
            errors.Add($"Cluster:SiloPort and Cluster:GatewayPort must be ports (1-65535; got {options.SiloPort}, {options.GatewayPort}).");
        else if (options.SiloPort == options.GatewayPort)
            errors.Add($"Cluster:SiloPort and Cluster:GatewayPort must differ (both {options.SiloPort}).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
