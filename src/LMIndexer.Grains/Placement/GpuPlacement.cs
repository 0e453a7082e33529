using Microsoft.Extensions.Options;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace LMIndexer.Grains.Placement;

/// <summary>Silo roles, carried in silo metadata under <see cref="MetadataKey"/>.</summary>
public static class SiloRoles
{
    public const string MetadataKey = "role";
    public const string Gpu = "gpu";
    public const string Cpu = "cpu";
}

/// <summary>Places activations only on silos whose metadata role is <c>gpu</c>.</summary>
[GenerateSerializer, Immutable]
public sealed class GpuPlacement : PlacementStrategy
{
    public static readonly GpuPlacement Instance = new();
}

/// <summary>Marks a grain class for <see cref="GpuPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class GpuPlacementAttribute : PlacementAttribute
{
    public GpuPlacementAttribute() : base(GpuPlacement.Instance)
    {
    }
}

/// <summary>Options of GPU placement.</summary>
public sealed class GpuPlacementOptions
{
    /// <summary>When no silo has the <c>gpu</c> role, place on any compatible silo instead of failing.</summary>
    public bool FallbackToAnySilo { get; set; }
}

/// <summary>
/// Chooses among the compatible silos whose role is <c>gpu</c>, spreading activations by grain id
/// (so replicas of one version land on different GPU silos); without one, falls back to any
/// compatible silo only when configured, else fails with a message that says how to fix it.
/// </summary>
public sealed class GpuPlacementDirector(ISiloMetadataCache metadata, IOptions<GpuPlacementOptions> options) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target).OrderBy(s => s.ToString(), StringComparer.Ordinal).ToArray();
        var gpu = compatible.Where(IsGpu).ToArray();
        var candidates = gpu.Length > 0 ? gpu : options.Value.FallbackToAnySilo ? compatible : [];
        if (candidates.Length == 0)
        {
            throw new OrleansException(
                $"No silo has the '{SiloRoles.Gpu}' role for {target.GrainIdentity}: start a silo with Orleans:Metadata:{SiloRoles.MetadataKey}={SiloRoles.Gpu}, or allow the CPU fallback (Inference:FallbackToAnySilo=true).");
        }
        var spread = (uint)target.GrainIdentity.GetUniformHashCode() % (uint)candidates.Length;
        return Task.FromResult(candidates[spread]);
    }

    private bool IsGpu(SiloAddress silo) =>
        metadata.GetSiloMetadata(silo).Metadata.TryGetValue(SiloRoles.MetadataKey, out var role) && role == SiloRoles.Gpu;
}
