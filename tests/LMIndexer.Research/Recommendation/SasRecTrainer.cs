using System.Diagnostics;
using LMIndexer.Core.Data;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Evaluation;
using LMIndexer.Core.Runtime;
using LMIndexer.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Research.Recommendation;

/// <summary>Options of <see cref="SasRecTrainer"/>.</summary>
public sealed record SasRecOptions
{
    public int Steps { get; init; } = 3000;
    public int BatchSize { get; init; } = 128;
    public double LearningRate { get; init; } = 1e-3;
    public int EvalEvery { get; init; } = 500;
    public int ValidationLimit { get; init; } = 2048;
    public int Seed { get; init; } = 42;
    public SasRecConfig? Model { get; init; }

    /// <summary>
    /// The served-model protocol (<see cref="LeaveOneOut.Split"/>): each user's validation target
    /// trains too, nothing is validated, and the weights after <see cref="Steps"/> are kept.
    /// </summary>
    public bool Refit { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> for settings that cannot train.</summary>
    public void Validate()
    {
        if (Steps < 1 || BatchSize < 1 || EvalEvery < 1 || ValidationLimit < 1)
            throw new ArgumentException("SASRec needs at least one step, example, validation interval step and validation user.");
        if (!(LearningRate > 0))
            throw new ArgumentException($"SASRec's learning rate must be positive, got {LearningRate}.");
    }
}

/// <summary>A trained SASRec with its item vocabulary.</summary>
public sealed record SasRecOutcome(SasRecModel Model, IReadOnlyList<string> ItemIds, IReadOnlyList<ValidationPoint> Validations, int BestStep, double Seconds) : IDisposable
{
    public void Dispose() => Model.Dispose();
}

/// <summary>
/// Trains SASRec on the same leave-one-out split as the generative models: every position of each
/// user's training prefix predicts the next item with full-softmax cross-entropy (Adam, constant
/// learning rate); validation NDCG@10 every N steps keeps the best weights. With a checkpoint
/// directory each validation saves the run's state there, and a run started again with the same
/// directory resumes from it and ends as the uninterrupted run would.
/// </summary>
public static class SasRecTrainer
{
    public static SasRecOutcome Train(Catalog catalog, IReadOnlyList<string> itemIds, SasRecOptions options, IProgress<TrainingProgress>? progress = null,
        string? checkpointDirectory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var index = itemIds.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i + 1, StringComparer.Ordinal);
        var config = options.Model ?? new SasRecConfig { ItemCount = itemIds.Count };
        var sequences = catalog.Users.Select(u => u.ItemIds.Where(index.ContainsKey).Select(id => index[id]).ToArray()).ToList();
        // The last two are validation and test targets (refit: the test target alone).
        var heldOut = LeaveOneOut.HeldOut(options.Refit);
        var training = sequences.Where(s => s.Length >= heldOut + 2).Select(s => s[..^heldOut]).ToList();
        if (training.Count == 0)
            throw new ArgumentException($"No user has the {heldOut + 2} interactions a training sequence needs.");
        var validation = options.Refit ? [] : sequences.Where(s => s.Length >= 3).Take(options.ValidationLimit).Select(s => (History: s[..^2], Target: s[^2])).ToList();
        var generator = torch.manual_seed(options.Seed);   // the default generator: initial weights, then dropout
        var model = new SasRecModel(config);
        var random = new Random(options.Seed);
        var device = TorchRuntime.Device;
        model.to(device);
        using var optimizer = torch.optim.Adam(model.parameters(), options.LearningRate, beta1: 0.9, beta2: 0.98);
        var clock = Stopwatch.StartNew();
        var validations = new List<ValidationPoint>();
        Dictionary<string, Tensor>? best = null;
        double bestMetric = double.NegativeInfinity, windowLoss = 0, secondsBefore = 0;
        int bestStep = 0, windowCount = 0, start = 0;
        var checkpoint = checkpointDirectory is null ? null : new SasRecCheckpoint(checkpointDirectory);
        // Validation NDCG@10 at a step: the curve, and the best weights so far.
        void Validate(int done)
        {
            var metrics = Evaluate(model, validation, [5, 10]).Metrics;
            validations.Add(new ValidationPoint(done, windowLoss / windowCount, metrics));
            windowLoss = 0;
            windowCount = 0;
            if (metrics["ndcg@10"] > bestMetric)
            {
                bestMetric = metrics["ndcg@10"];
                bestStep = done;
                if (best is not null)
                {
                    foreach (var t in best.Values)
                        t.Dispose();
                }
                best = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope());
            }
        }
        try
        {
            if (checkpoint?.TryResume(model, optimizer, generator, out best) is { } resumed)
            {
                (start, bestStep, bestMetric, secondsBefore) = (resumed.Step, resumed.BestStep, resumed.BestMetric, resumed.Seconds);
                validations.AddRange(resumed.Validations);
                // The batches drawn before the save, drawn again so the next ones are those the uninterrupted run draws.
                for (var draw = 0L; draw < (long)start * options.BatchSize; draw++)
                    random.Next(training.Count);
            }
            for (var step = start; step < options.Steps; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                model.train();
                var batch = Enumerable.Range(0, options.BatchSize).Select(_ => training[random.Next(training.Count)]).ToList();
                float loss;
                using (var scope = NewDisposeScope())
                {
                    var inputs = LeftPad([.. batch.Select(s => s[..^1])], config.MaxLength, device);   // [batch, len]
                    var targets = LeftPad([.. batch.Select(s => s[1..])], config.MaxLength, device);   // [batch, len]
                    var lossTensor = NextItemLoss(model, inputs, targets);
                    optimizer.zero_grad();
                    lossTensor.backward();
                    optimizer.step();
                    loss = lossTensor.item<float>();
                }
                windowLoss += loss;
                windowCount++;
                var done = step + 1;
                progress?.Report(new TrainingProgress("sasrec", done, options.Steps, loss, options.LearningRate, (done - start) * options.BatchSize / clock.Elapsed.TotalSeconds));
                if (done % options.EvalEvery != 0 && done != options.Steps)
                    continue;
                if (!options.Refit)
                    Validate(done);
                checkpoint?.Save(model, best, optimizer, generator, new SasRecCheckpoint.Progress(done, [.. validations], bestStep, bestMetric, secondsBefore + clock.Elapsed.TotalSeconds));
            }
            if (best is not null)
            {
                using var noGrad = torch.no_grad();
                foreach (var (name, tensor) in model.state_dict())
                    tensor.copy_(best[name]);
            }
        }
        catch
        {
            model.Dispose();
            throw;
        }
        finally
        {
            if (best is not null)
            {
                foreach (var t in best.Values)
                    t.Dispose();
            }
        }
        model.eval();
        return new SasRecOutcome(model, itemIds, validations, options.Refit ? options.Steps : bestStep, secondsBefore + clock.Elapsed.TotalSeconds);
    }

    /// <summary>Removes a run's checkpoint once its outcome is saved.</summary>
    public static void DeleteCheckpoint(string directory) => new SasRecCheckpoint(directory).Delete();

    /// <summary>
    /// Mean full-softmax cross-entropy of the next item over the real (non-padding) target positions.
    /// Only those positions are scored: padding is most of each row (Beauty's training prefixes average
    /// about six items of fifty), and scoring it against every item was almost all of a step's time and
    /// memory traffic. The loss equals cross-entropy over all positions with padding ignored.
    /// </summary>
    public static Tensor NextItemLoss(SasRecModel model, Tensor inputs, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(model);
        var hidden = model.Encode(inputs);                                                       // [batch, len, hidden]
        var flatTargets = targets.reshape(-1);                                                   // [batch * len]
        var real = flatTargets.OtherThan(0).nonzero().squeeze(-1);                               // [positions]
        var picked = hidden.reshape(-1, hidden.shape[^1]).index_select(0, real);                 // [positions, hidden]
        return nn.functional.cross_entropy(model.Scores(picked), flatTargets.index_select(0, real)); // scalar
    }

    /// <summary>Test examples of the split: history = all but the last item, target = the last.</summary>
    public static List<(int[] History, int Target)> TestExamples(Catalog catalog, IReadOnlyList<string> itemIds)
    {
        var index = itemIds.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i + 1, StringComparer.Ordinal);
        return [.. catalog.Users.Select(u => u.ItemIds.Where(index.ContainsKey).Select(id => index[id]).ToArray())
            .Where(s => s.Length >= 2).Select(s => (s[..^1], s[^1]))];
    }

    /// <summary>Full-ranking metrics: every item scored, padding excluded, top 20 ranked.</summary>
    public static EvaluationResult Evaluate(SasRecModel model, IReadOnlyList<(int[] History, int Target)> examples, IReadOnlyList<int> cutoffs, int batchSize = 256) =>
        Evaluate([model], examples, cutoffs, batchSize);

    /// <summary>
    /// The same ranking by an ensemble (seeds of one configuration): items ranked by the mean of the
    /// members' log-probabilities, as the generative ensembles average theirs.
    /// </summary>
    public static EvaluationResult Evaluate(IReadOnlyList<SasRecModel> models, IReadOnlyList<(int[] History, int Target)> examples, IReadOnlyList<int> cutoffs, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(models);
        if (models.Count == 0 || models.Any(m => m.Config.ItemCount != models[0].Config.ItemCount))
            throw new ArgumentException("An ensemble needs at least one model, all over the same items.", nameof(models));
        var accumulator = new RankingAccumulator(cutoffs);
        var clock = Stopwatch.StartNew();
        var wasTraining = models.Select(m => m.training).ToList();
        foreach (var model in models)
            model.eval();
        var device = models[0].parameters().First().device;
        using var noGrad = torch.no_grad();
        for (var start = 0; start < examples.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = examples.Skip(start).Take(batchSize).ToList();
            Tensor Scores(SasRecModel model) =>
                model.Scores(model.Encode(LeftPad([.. batch.Select(e => e.History)], model.Config.MaxLength, device))[.., -1]); // [batch, items + 1]
            // One model ranks by its scores as they are (the softmax keeps their order).
            var scores = models.Count == 1 ? Scores(models[0])
                : models.Select(m => Scores(m).log_softmax(-1)).Aggregate((a, b) => a.Plus(b));
            scores[.., 0] = torch.tensor(float.NegativeInfinity);
            var top = scores.topk(Math.Max(20, cutoffs.Max())).indexes.cpu().data<long>().ToArray();   // [batch, 20]
            var width = top.Length / batch.Count;
            for (var b = 0; b < batch.Count; b++)
                accumulator.Add(top.AsSpan(b * width, width).ToArray(), new HashSet<long> { batch[b].Target });
        }
        for (var i = 0; i < models.Count; i++)
        {
            if (wasTraining[i])
                models[i].train();
        }
        return new EvaluationResult(accumulator.Means(), accumulator.Count, clock.Elapsed.TotalSeconds) { PerExample = accumulator.PerQuery() };
    }

    /// <summary>The last <paramref name="length"/> items of each sequence, left-padded with 0. // [batch, length]</summary>
    public static Tensor LeftPad(IReadOnlyList<int[]> sequences, int length, Device device)
    {
        var data = new long[sequences.Count * length];
        for (var b = 0; b < sequences.Count; b++)
        {
            var s = sequences[b];
            var take = Math.Min(length, s.Length);
            for (var i = 0; i < take; i++)
                data[b * length + length - take + i] = s[s.Length - take + i];
        }
        return torch.tensor(data, [sequences.Count, length], device: device);
    }
}
