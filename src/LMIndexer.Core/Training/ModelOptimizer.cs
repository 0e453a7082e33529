using LMIndexer.Core.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LMIndexer.Core.Training;

/// <summary>The dense item head's part of a seq2seq step: each example's target item and the loss weight.</summary>
public sealed record DenseItemTargets(IReadOnlyList<int> Items, double Weight);

/// <summary>
/// AdamW + schedule + gradient clipping over a fixed set of trainable parameters, optionally through
/// fp32 master copies of a bf16 model's parameters (<see cref="MixedPrecision"/>).
/// </summary>
public sealed class ModelOptimizer : IDisposable
{
    private readonly Parameter[] parameters;
    private readonly Parameter[] computeCopies;
    private readonly DecoupledAdamW optimizer;
    private readonly LearningRateSchedule schedule;
    private readonly OptimizerOptions options;

    /// <param name="precision">
    /// When given, <paramref name="trainable"/> are the bf16 model's parameters: AdamW trains their
    /// fp32 masters and every step copies the masters into them.
    /// </param>
    public ModelOptimizer(IEnumerable<Parameter> trainable, OptimizerOptions options, int totalSteps, MixedPrecision? precision = null)
    {
        this.options = options;
        computeCopies = precision is null ? [] : [.. trainable];
        parameters = precision is null ? [.. trainable] : [.. computeCopies.Select(precision.MasterOf)];
        if (parameters.Length == 0)
            throw new ArgumentException("There is nothing to train: no parameter requires a gradient.", nameof(trainable));
        optimizer = new DecoupledAdamW(Groups(parameters, options), options.Beta1, options.Beta2, options.Epsilon);
        schedule = new LearningRateSchedule(options, totalSteps);
    }

    public int Step { get; private set; }

    public double CurrentLearningRate { get; private set; }

    public void ZeroGrad()
    {
        optimizer.ZeroGrad();
        foreach (var compute in computeCopies)
            compute.grad?.zero_();
    }

    /// <summary>Clips, sets this step's learning rate, updates. Returns the pre-clip gradient norm.</summary>
    public double Update()
    {
        for (var i = 0; i < computeCopies.Length; i++)
            parameters[i].grad = computeCopies[i].grad?.to(ScalarType.Float32);
        var norm = options.MaxGradNorm > 0
            ? torch.nn.utils.clip_grad_norm_(parameters, options.MaxGradNorm)
            : double.NaN;
        CurrentLearningRate = schedule.At(Step);
        optimizer.Step(CurrentLearningRate);
        if (computeCopies.Length > 0)
        {
            using var noGrad = torch.no_grad();
            for (var i = 0; i < computeCopies.Length; i++)
                computeCopies[i].copy_(parameters[i]);
        }
        Step++;
        return norm;
    }

    /// <summary>
    /// One teacher-forced seq2seq step: pad sources and targets, cross-entropy on the targets,
    /// backward, clipped update. Returns the loss.
    /// </summary>
    /// <param name="labelSmoothing">Mass spread uniformly over the vocabulary in the targets (0: none).</param>
    /// <param name="dense">
    /// With a dense item head: each example's target item and the weight of the head's full-softmax
    /// cross-entropy over all items, added to the ID tokens' loss (LIGER trains both at once).
    /// </param>
    public float TrainSeq2SeqStep(Model.T5Model model, IReadOnlyList<int[]> sources, IReadOnlyList<int[]> targets, double labelSmoothing = 0, DenseItemTargets? dense = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var scope = NewDisposeScope();
        var device = model.Shared.weight!.device;
        var (ids, mask) = TokenBatch.Pad(sources, Text.CatalogTokenizer.PadId, device);   // [batch, src]
        var labels = TokenBatch.PadLabels(targets, device);                                 // [batch, tgt]
        ZeroGrad();
        var encoded = model.Encode(ids, mask);                                              // [batch, src, d_model]
        var hidden = model.Decode(model.ShiftRight(labels), encoded, mask);                 // [batch, tgt, d_model]
        var loss = Model.T5Model.SequenceLoss(model.LmLogits(hidden), labels, labelSmoothing);
        if (dense is not null)
        {
            if (dense.Items.Count != targets.Count)
                throw new ArgumentException($"{dense.Items.Count} dense targets for {targets.Count} examples.", nameof(dense));
            var items = torch.tensor(dense.Items.Select(i => (long)i).ToArray(), device: device);              // [batch]
            var itemLogits = model.DenseItemLogits(hidden[.., 0]).to(ScalarType.Float32);                        // [batch, items]
            loss = loss.Plus(nn.functional.cross_entropy(itemLogits, items).Times(dense.Weight));
        }
        loss.backward();
        Update();
        return loss.item<float>();
    }

    /// <summary>Writes the AdamW moments (<see cref="DecoupledAdamW.StateFormat"/>) so a resumed run continues exactly.</summary>
    public void SaveState(string path) => optimizer.Save(path);

    /// <summary>Restores moments written by <see cref="SaveState"/> and the step the schedule continues from.</summary>
    public void LoadState(string path, int step)
    {
        optimizer.Load(path);
        Step = step;
        CurrentLearningRate = schedule.At(Math.Max(0, step - 1));
    }

    public void Dispose() => optimizer.Dispose();

    // A layer-norm scale multiplies the activations it normalises: decaying it toward 0 shrinks the
    // residual stream instead of regularising, so (as HF Trainer and nanoGPT do) only parameters of
    // two or more dimensions decay.
    private static IEnumerable<(Parameter, double)> Groups(Parameter[] parameters, OptimizerOptions options) =>
        parameters.Select(p => (p, p.dim() >= 2 ? options.WeightDecay : 0));
}
