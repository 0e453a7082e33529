using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Training;

/// <summary>
/// An exponential moving average of the weights (Polyak averaging), updated after every optimizer
/// step and evaluated in place of the last weights. Long recommendation runs at a high learning rate
/// wander between nearby minima from one validation to the next; the average sits between them. The
/// effective decay ramps up as <c>min(decay, (1 + t) / (10 + t))</c> after t updates (TensorFlow's
/// <c>ExponentialMovingAverage</c> with <c>num_updates</c>), so the random initialisation is
/// forgotten within the first few hundred steps instead of lingering for 1 / (1 − decay).
/// </summary>
public sealed class WeightAverage : IDisposable
{
    private readonly Dictionary<string, Tensor> average;
    private readonly double decay;

    /// <param name="weights">The weights to average, by name (copied: the average owns its tensors).</param>
    /// <param name="decay">The longest memory, in [0, 1): 0.999 averages about the last thousand steps.</param>
    /// <param name="updates">Updates already folded in (a resumed run), for the decay ramp.</param>
    public WeightAverage(IReadOnlyDictionary<string, Tensor> weights, double decay, int updates = 0)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (decay is < 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(decay), decay, "The average's decay must be in [0, 1).");
        ArgumentOutOfRangeException.ThrowIfNegative(updates);
        this.decay = decay;
        Updates = updates;
        using var noGrad = no_grad();
        average = weights.ToDictionary(w => w.Key, w => w.Value.detach().clone().DetachFromDisposeScope());
    }

    /// <summary>The averaged weights, named as given.</summary>
    public IReadOnlyDictionary<string, Tensor> Weights => average;

    /// <summary>How many updates the average holds.</summary>
    public int Updates { get; private set; }

    /// <summary>The weight the next update gives the old average.</summary>
    public double NextDecay => Math.Min(decay, (1.0 + Updates) / (10.0 + Updates));

    /// <summary>Folds the current weights in: average ← d · average + (1 − d) · weights.</summary>
    public void Update(IReadOnlyDictionary<string, Tensor> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var d = NextDecay;
        using var keep = d.ToScalar();
        using var take = (1 - d).ToScalar();
        using (no_grad())
        {
            foreach (var (name, tensor) in average)
            {
                var current = weights[name];
                if (tensor.is_floating_point())
                    tensor.mul_(keep).add_(current, alpha: take);
                else
                    tensor.copy_(current);   // integer buffers are not averaged
            }
        }
        Updates++;
    }

    public void Dispose()
    {
        foreach (var tensor in average.Values)
            tensor.Dispose();
    }
}
