using LMIndexer.Core.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LMIndexer.Core.Training;

/// <summary>
/// AdamW (Loshchilov &amp; Hutter's decoupled weight decay) with the same update as PyTorch's and
/// TorchSharp's, written so that every <see cref="Scalar"/> outlives the native call that reads it.
/// </summary>
/// <remarks>
/// TorchSharp's managed AdamW creates implicit Scalars that a collection can free while libtorch
/// still reads them (docs/decisions/003-decoupled-adamw.md); here each is a <c>using</c> local, and
/// the constant ones are made once per step instead of once per parameter.
/// </remarks>
public sealed class DecoupledAdamW : IDisposable
{
    /// <summary>The tag a state file starts with; a resumed run refuses any other layout.</summary>
    public const string StateFormat = "lmindexer-adamw/1";

    private readonly Slot[] slots;
    private readonly double beta1;
    private readonly double beta2;
    private readonly double epsilon;

    /// <param name="groups">Parameters with the weight decay each gets.</param>
    public DecoupledAdamW(IEnumerable<(Parameter Parameter, double WeightDecay)> groups, double beta1, double beta2, double epsilon)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (beta1 is < 0 or >= 1 || beta2 is < 0 or >= 1 || epsilon < 0)
            throw new ArgumentOutOfRangeException(nameof(beta1), "Betas must be in [0, 1) and ε non-negative.");
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        var members = groups.ToArray();
        foreach (var (_, weightDecay) in members)
        {
            if (weightDecay < 0)
                throw new ArgumentOutOfRangeException(nameof(groups), weightDecay, "Weight decay cannot be negative.");
        }
        slots = [.. members.Select(g => new Slot(g.Parameter, g.WeightDecay))];
    }

    /// <summary>
    /// Drops every gradient (PyTorch's <c>zero_grad(set_to_none=True)</c>): a parameter the next
    /// backward does not reach keeps no gradient and <see cref="Step"/> leaves it alone.
    /// </summary>
    public void ZeroGrad()
    {
        foreach (var slot in slots)
            slot.Parameter.grad = null;
    }

    /// <summary>One update at learning rate <paramref name="learningRate"/>; parameters without a gradient are skipped.</summary>
    public void Step(double learningRate)
    {
        using var noGrad = torch.no_grad();
        using var keepFirst = beta1.ToScalar();
        using var takeFirst = (1 - beta1).ToScalar();
        using var keepSecond = beta2.ToScalar();
        using var takeSecond = (1 - beta2).ToScalar();
        using var eps = epsilon.ToScalar();
        foreach (var slot in slots)
        {
            using var grad = slot.Parameter.grad;
            if (grad is null)
                continue;
            slot.Steps++;
            if (slot.WeightDecay > 0)
            {
                using var shrink = (1 - (learningRate * slot.WeightDecay)).ToScalar();
                slot.Parameter.mul_(shrink);
            }
            slot.ExpAvg.mul_(keepFirst).add_(grad, alpha: takeFirst);                 // m ← β1·m + (1 − β1)·g
            slot.ExpAvgSq.mul_(keepSecond).addcmul_(grad, grad, value: takeSecond);   // v ← β2·v + (1 − β2)·g²
            using var secondCorrection = Math.Sqrt(1 - Math.Pow(beta2, slot.Steps)).ToScalar();
            using var stepSize = (-learningRate / (1 - Math.Pow(beta1, slot.Steps))).ToScalar();
            using var denominator = slot.ExpAvgSq.sqrt();
            denominator.div_(secondCorrection).add_(eps, TensorArithmetic.One);          // √v̂ + ε
            slot.Parameter.addcdiv_(slot.ExpAvg, denominator, value: stepSize);        // p ← p − lr·m̂ / (√v̂ + ε)
        }
    }

    /// <summary>Writes the moments and per-parameter step counts, atomically (temp file, then move).</summary>
    public void Save(string path)
    {
        var temp = path + ".tmp";
        using (var writer = new BinaryWriter(File.Create(temp)))
        {
            writer.Write(StateFormat);
            writer.Write(slots.Length);
            foreach (var slot in slots)
            {
                writer.Write(slot.Steps);
                slot.ExpAvg.Save(writer);
                slot.ExpAvgSq.Save(writer);
            }
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Restores what <see cref="Save"/> wrote for the same parameters.</summary>
    /// <exception cref="InvalidDataException">The file is not this optimizer's state.</exception>
    public void Load(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        var format = reader.ReadString();
        var count = reader.ReadInt32();
        if (format != StateFormat || count != slots.Length)
            throw new InvalidDataException($"{path} holds '{format}' state for {count} parameters, not {StateFormat} for {slots.Length}.");
        foreach (var slot in slots)
        {
            slot.Steps = reader.ReadInt64();
            slot.ExpAvg.Load(reader);
            slot.ExpAvgSq.Load(reader);
        }
    }

    public void Dispose()
    {
        foreach (var slot in slots)
            slot.Dispose();
    }

    private sealed class Slot(Parameter parameter, double weightDecay) : IDisposable
    {
        public Parameter Parameter { get; } = parameter;

        public double WeightDecay { get; } = weightDecay;

        public long Steps { get; set; }

        public Tensor ExpAvg { get; } = torch.zeros_like(parameter).DetachFromDisposeScope();      // m

        public Tensor ExpAvgSq { get; } = torch.zeros_like(parameter).DetachFromDisposeScope();    // v

        public void Dispose()
        {
            ExpAvg.Dispose();
            ExpAvgSq.Dispose();
        }
    }
}
