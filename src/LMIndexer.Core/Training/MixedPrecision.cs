using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LMIndexer.Core.Training;

/// <summary>
/// bf16 training with fp32 master weights. The model computes in bf16, which roughly doubles the
/// matmul throughput of a CPU with AVX-512 BF16 (the experiment log's `training-step`);
/// AdamW updates fp32 copies of the trainable weights and every step writes them back rounded
/// (<see cref="ModelOptimizer"/>). Pure bf16 weights would silently drop any update below 2^-8 of
/// the weight, which is most of AdamW's steps late in a schedule. Disposing puts the model back to
/// fp32 from the masters, so frozen weights and buffers return bit-exact and trained ones at full
/// precision.
/// </summary>
public sealed class MixedPrecision : IDisposable
{
    private readonly nn.Module model;
    private readonly Dictionary<string, Parameter> masters;
    private readonly Dictionary<string, Tensor> buffers;
    private readonly (Parameter Master, Parameter Compute)[] trainable;
    private readonly Dictionary<Parameter, Parameter> masterOfCompute;
    private bool disposed;

    private MixedPrecision(nn.Module model)
    {
        this.model = model;
        using (torch.no_grad())
        {
            masters = model.named_parameters().ToDictionary(p => p.name, p => new Parameter(p.parameter.detach().to(ScalarType.Float32, copy: true), p.parameter.requires_grad));
            buffers = model.named_buffers().ToDictionary(b => b.name, b => b.buffer.detach().clone());
        }
        model.to(ScalarType.BFloat16);
        var compute = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, master) in masters)
            compute[name].requires_grad = master.requires_grad; // the cast keeps the flags; this makes it explicit
        trainable = [.. masters.Where(m => m.Value.requires_grad).Select(m => (m.Value, compute[m.Key]))];
        masterOfCompute = masters.ToDictionary<KeyValuePair<string, Parameter>, Parameter, Parameter>(m => compute[m.Key], m => m.Value, ReferenceEqualityComparer.Instance);
    }

    /// <summary>Casts <paramref name="model"/> to bf16 for training; its trainable flags must already be set.</summary>
    public static MixedPrecision BFloat16(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new MixedPrecision(model);
    }

    /// <summary>The fp32 master of each trainable parameter and the bf16 parameter the model computes with.</summary>
    public IReadOnlyList<(Parameter Master, Parameter Compute)> Trainable => trainable;

    /// <summary>The fp32 master of one of the bf16 model's parameters.</summary>
    public Parameter MasterOf(Parameter compute) =>
        masterOfCompute.TryGetValue(compute, out var master)
            ? master
            : throw new ArgumentException("The parameter is not one of this model's bf16 parameters (was it taken before the cast?).", nameof(compute));

    /// <summary>
    /// The model's weights at full precision, named as in its state dict: the fp32 master of every
    /// parameter and the fp32 copy of every buffer. Checkpoints and best-weight snapshots read these,
    /// not the rounded bf16 copies the model computes with.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> MasterWeights()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var weights = new Dictionary<string, Tensor>(masters.Count + buffers.Count);
        foreach (var (name, master) in masters)
            weights[name] = master;
        foreach (var (name, buffer) in buffers)
            weights[name] = buffer;
        return weights;
    }

    /// <summary>Model back to fp32, every parameter from its master and every buffer from its copy.</summary>
    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        model.to(ScalarType.Float32);
        using (torch.no_grad())
        {
            foreach (var (name, parameter) in model.named_parameters())
                parameter.copy_(masters[name]);
            foreach (var (name, buffer) in model.named_buffers())
                buffer.copy_(buffers[name]);
        }
        foreach (var tensor in masters.Values.Cast<Tensor>().Concat(buffers.Values))
            tensor.Dispose();
    }
}
