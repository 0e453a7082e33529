using System.Diagnostics;
using LMIndexer.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Indexing;

/// <summary>What one stage measured.</summary>
public sealed record StageReport(int Position, IndexerStage Stage, int Steps, double FirstLoss, double FinalLoss, double Seconds);

/// <summary>The outcome of progressive training.</summary>
/// <param name="Codes">Final learned codes per item ([items][positions]), from the finished model.</param>
/// <param name="TrainingCodes">Codes as assigned right after each position's stage (what later positions were trained on).</param>
public sealed record IndexerTrainingResult(long[][] Codes, long[][] TrainingCodes, IReadOnlyList<StageReport> Stages, IReadOnlyList<double> KMeansInertia);

/// <summary>
/// The reference's progressive schedule: reconstructor warm-up; then for each position t a
/// continuous stage (h instead of z), k-means initialisation of codebook t from eval-mode h^t, a
/// codebook stage, assignment, and the copy of codebook t into the ID-token rows. Same-prefix
/// groups for hard negatives are rebuilt from the codes of the finished positions.
/// </summary>
public static class ProgressiveIndexerTrainer
{
    public static IndexerTrainingResult Train(SemanticIndexerModel model, IReadOnlyList<int[]> itemTokens, SemanticIndexerOptions options,
        IProgress<TrainingProgress>? progress = null, IndexerCheckpoint? checkpoint = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        if (itemTokens.Count < options.CodebookSize)
            throw new ArgumentException($"{itemTokens.Count} items cannot fill a codebook of {options.CodebookSize} codes; use a smaller codebook size.");
        var fingerprint = IndexerCheckpoint.Fingerprint(options, itemTokens);
        var state = checkpoint?.TryResume(model, fingerprint)
            ?? new IndexerProgressState(fingerprint, [], [.. itemTokens.Select(_ => new long[options.Positions])], [], []);
        var codes = state.Codes;
        model.train();
        foreach (var (name, position, run) in Milestones(options))
        {
            // Finished in an earlier run: its effects (ID rows included) are in the checkpoint's weights.
            if (state.Completed.Contains(name))
                continue;
            // Every milestone seeds its own generators, so a resumed run equals an uninterrupted one.
            var milestoneSeed = options.Seed * 1000 + position * 10 + state.Completed.Count;
            torch.manual_seed(milestoneSeed);
            var random = new Random(milestoneSeed);
            switch (run)
            {
                case MilestoneKind.Stage:
                    var stage = StageOf(name);
                    state.Stages.Add(RunStage(model, stage, position, itemTokens, codes, options, Epochs(options, stage, position), random, progress, cancellationToken));
                    break;
                case MilestoneKind.KMeans:
                    using (var states = SemanticIdAssigner.States(model, itemTokens, codes, position))
                    {
                        var clustering = KMeans.Fit(states, options.CodebookSize, options.KMeans with { Seed = options.KMeans.Seed + position });
                        model.Codebook(position).Load(clustering.Centroids);
                        clustering.Centroids.Dispose();
                        state.KMeansInertia.Add(clustering.Inertia);
                    }
                    break;
                default:
                    var assigned = SemanticIdAssigner.AssignPosition(model, itemTokens, codes, position);
                    for (var i = 0; i < codes.Length; i++)
                        codes[i][position - 1] = assigned[i];
                    model.CopyCodebookToIdTokens(position);
                    break;
            }
            model.train();
            state.Completed.Add(name);
            checkpoint?.Save(model, state);
        }
        model.eval();
        var final = SemanticIdAssigner.Assign(model, itemTokens);
        return new IndexerTrainingResult(final, codes, state.Stages, state.KMeansInertia);
    }

    /// <summary>Optimiser steps the whole schedule takes over <paramref name="items"/> items (for progress bars).</summary>
    public static int PlannedSteps(SemanticIndexerOptions options, int items)
    {
        var perEpoch = (items + options.BatchSize - 1) / options.BatchSize;
        return Milestones(options).Where(m => m.Kind == MilestoneKind.Stage).Sum(m => Epochs(options, StageOf(m.Name), m.Position) * perEpoch);
    }

    private static IndexerStage StageOf(string milestone) => Enum.Parse<IndexerStage>(milestone.Split('/')[1], ignoreCase: true);

    private static int Epochs(SemanticIndexerOptions options, IndexerStage stage, int position) => stage switch
    {
        IndexerStage.Warmup => options.WarmupEpochs,
        IndexerStage.Continuous => options.ContinuousEpochsAt(position),
        _ => options.CodebookEpochs,
    };

    private enum MilestoneKind
    {
        Stage,
        KMeans,
        Assign,
    }

    /// <summary>The reference's schedule as named milestones, e.g. p1/warmup, p1/continuous, p1/kmeans, p1/codebook, p1/assign.</summary>
    private static IEnumerable<(string Name, int Position, MilestoneKind Kind)> Milestones(SemanticIndexerOptions options)
    {
        for (var position = 1; position <= options.Positions; position++)
        {
            if (position == 1 && options.Warmup && options.WarmupEpochs > 0)
                yield return ($"p{position}/warmup", position, MilestoneKind.Stage);
            if (options.ContinuousEpochsAt(position) > 0)
                yield return ($"p{position}/continuous", position, MilestoneKind.Stage);
            yield return ($"p{position}/kmeans", position, MilestoneKind.KMeans);
            if (options.CodebookEpochs > 0)
                yield return ($"p{position}/codebook", position, MilestoneKind.Stage);
            yield return ($"p{position}/assign", position, MilestoneKind.Assign);
        }
    }

    /// <summary>Runs only the warm-up stage (for inspection and tests).</summary>
    internal static StageReport RunWarmup(SemanticIndexerModel model, IReadOnlyList<int[]> itemTokens, SemanticIndexerOptions options)
    {
        var codes = itemTokens.Select(_ => new long[options.Positions]).ToArray();
        model.train();
        return RunStage(model, IndexerStage.Warmup, 1, itemTokens, codes, options, options.WarmupEpochs, new Random(options.Seed), null, CancellationToken.None);
    }

    private static StageReport RunStage(SemanticIndexerModel model, IndexerStage stage, int position, IReadOnlyList<int[]> itemTokens, long[][] codes,
        SemanticIndexerOptions options, int epochs, Random random, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        // Warm-up: reconstructor only. Continuous: no codebook. Codebook: only this position's codebook joins.
        model.SetTrainable(backbone: stage != IndexerStage.Warmup, codebook: false, reconstructorToo: true);
        if (stage == IndexerStage.Codebook)
        {
            foreach (var p in model.Codebook(position).parameters())
                p.requires_grad = true;
        }
        var stepsPerEpoch = (itemTokens.Count + options.BatchSize - 1) / options.BatchSize;
        var totalSteps = epochs * stepsPerEpoch;
        var optimizerOptions = stage == IndexerStage.Warmup && options.WarmupLearningRate is double warmupRate
            ? options.Optimizer with { LearningRate = warmupRate }
            : options.Optimizer;
        // Only the stages compute in bf16: k-means, assignment and checkpoints see the fp32 model.
        using var precision = options.BFloat16 ? MixedPrecision.BFloat16(model) : null;
        using var optimizer = new ModelOptimizer(model.TrainableParameters(), optimizerOptions, totalSteps, precision);
        var groups = position > 1 ? PrefixGroups(codes, position) : null;
        var order = Enumerable.Range(0, itemTokens.Count).ToArray();
        var name = $"{StageName(stage)} p{position}";
        var clock = Stopwatch.StartNew();
        double first = double.NaN, last = 0;
        var step = 0;
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            random.Shuffle(order);
            for (var start = 0; start < order.Length; start += options.BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var members = order.Skip(start).Take(options.BatchSize).ToArray();
                if (members.Length < 2)
                    continue; // in-batch negatives need company
                var batch = new IndexerBatch(
                    [.. members.Select(i => itemTokens[i])],
                    [.. members.Select(i => codes[i])],
                    groups is null || !options.Contrastive ? null : [.. members.Select(i => PickNegatives(i, groups, codes, position, options.HardNegatives, epoch, random).Select(n => itemTokens[n]).ToArray())]);
                Dictionary<string, double> parts;
                double loss;
                using (var scope = NewDisposeScope())
                {
                    optimizer.ZeroGrad();
                    var (total, lossParts) = IndexerLoss.Compute(model, stage, position, batch, options, random);
                    total.backward();
                    optimizer.Update();
                    loss = total.item<float>();
                    parts = lossParts;
                }
                step++;
                if (double.IsNaN(first))
                    first = loss;
                last = loss;
                progress?.Report(new TrainingProgress(name, step, totalSteps, loss, optimizer.CurrentLearningRate, step * options.BatchSize / clock.Elapsed.TotalSeconds, parts, epoch + 1, epochs));
            }
        }
        return new StageReport(position, stage, step, first, last, clock.Elapsed.TotalSeconds);
    }

    private static string StageName(IndexerStage stage) => stage switch
    {
        IndexerStage.Warmup => "warm-up",
        IndexerStage.Continuous => "continuous",
        _ => "codebook",
    };

    /// <summary>Items grouped by their codes before <paramref name="position"/>.</summary>
    private static Dictionary<string, List<int>> PrefixGroups(long[][] codes, int position)
    {
        var groups = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < codes.Length; i++)
        {
            var key = string.Join(',', codes[i].Take(position - 1));
            if (!groups.TryGetValue(key, out var list))
                groups[key] = list = [];
            list.Add(i);
        }
        return groups;
    }

    /// <summary>
    /// The reference's sampling: with at least m candidates a per-epoch window of a (seeded)
    /// shuffled list, otherwise m draws with replacement; none when the item is alone in its group.
    /// </summary>
    private static int[] PickNegatives(int item, Dictionary<string, List<int>> groups, long[][] codes, int position, int m, int epoch, Random random)
    {
        if (m == 0)
            return [];
        var candidates = groups[string.Join(',', codes[item].Take(position - 1))].Where(i => i != item).ToArray();
        if (candidates.Length == 0)
            return [];
        if (candidates.Length < m)
            return [.. Enumerable.Range(0, m).Select(_ => candidates[random.Next(candidates.Length)])];
        var shuffled = candidates.ToArray();
        new Random(unchecked((item * 1_000_003) + (position * 7_919))).Shuffle(shuffled); // stable across runs, unlike HashCode
        var offset = (epoch * m) % shuffled.Length;
        return [.. Enumerable.Range(0, m).Select(j => shuffled[(offset + j) % shuffled.Length])];
    }
}
