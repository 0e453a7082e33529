using System.CommandLine;
using LMIndexer.Cli.Console;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Model;
using LMIndexer.Core.Runtime;
using LMIndexer.Core.Training;

namespace LMIndexer.Cli.Commands;

/// <summary>The fine-tuning flags shared by <c>rec</c>, <c>search</c> and <c>retrieval train</c>.</summary>
public sealed class FineTuneCommandOptions
{
    public Option<DirectoryInfo> Index { get; } = new("--index", "-i") { Description = "Index bundle whose model and IDs to fine-tune ('lmindexer index train').", Required = true };
    public Option<DirectoryInfo> Output { get; } = new("--out", "-o") { Description = "Serving bundle directory to write (model, tokenizer, ids.tsv, trie.bin).", Required = true };
    public Option<int> Steps { get; } = new("--steps") { Description = "Optimizer steps.", DefaultValueFactory = _ => 2000 };
    public Option<int> BatchSize { get; } = new("--batch-size") { Description = "Examples per step.", DefaultValueFactory = _ => 32 };
    public Option<double> LearningRate { get; } = new("--lr") { Description = "Peak learning rate (the reference: 1e-3).", DefaultValueFactory = _ => 1e-3 };
    public Option<double> WarmupRatio { get; } = new("--warmup-ratio") { Description = "Fraction of steps for linear warm-up (the reference: 0).", DefaultValueFactory = _ => 0 };
    public Option<string> Decay { get; } = DecayOption();
    public Option<int> EvalEvery { get; } = new("--eval-every") { Description = "Validate and keep the best weights every N steps (0: only at the end).", DefaultValueFactory = _ => 500 };
    public Option<int> ValidationLimit { get; } = new("--validation-limit") { Description = "Validation examples per evaluation.", DefaultValueFactory = _ => 512 };
    public Option<int> Beams { get; } = new("--beams") { Description = "Beams for validation (the reference: 20).", DefaultValueFactory = _ => 20 };
    public Option<int> MaxSourceTokens { get; } = new("--max-source-tokens") { Description = "Source budget in tokens, </s> included.", DefaultValueFactory = _ => 128 };
    public Option<bool> BFloat16 { get; } = new("--bf16") { Description = "Train in bfloat16 with fp32 master weights (faster on CPUs with AVX-512 BF16; checkpoints and the bundle stay fp32)." };
    public Option<bool> FreshModel { get; } = FreshModelOption();
    public Option<string?> ModelSize { get; } = ModelSizeOption();
    public Option<double?> Dropout { get; } = new("--dropout") { Description = "Dropout while fine-tuning (default: the index bundle's, 0.1). 0 lets the model memorise item-to-item transitions faster." };
    public Option<double> WeightDecay { get; } = WeightDecayOption();
    public Option<double> LabelSmoothing { get; } = LabelSmoothingOption();
    public Option<double> WeightAverage { get; } = WeightAverageOption();
    public Option<bool> GroupByLength { get; } = GroupByLengthOption();
    public Option<bool> RandomIds { get; } = new("--random-ids") { Description = "Ablation: random IDs of the same shape instead of the bundle's." };
    public Option<string> Version { get; } = new("--version") { Description = "Version label of the serving bundle.", DefaultValueFactory = _ => "v1" };
    public Option<DirectoryInfo?> CheckpointDir { get; } = new("--checkpoint-dir") { Description = "Resumable checkpoint (default: <out>.checkpoint; removed on success)." };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Index, Output, Steps, BatchSize, LearningRate, WarmupRatio, Decay, EvalEvery, ValidationLimit, Beams, MaxSourceTokens, BFloat16, FreshModel, ModelSize, Dropout, WeightDecay, LabelSmoothing, WeightAverage, GroupByLength, RandomIds, Version, CheckpointDir })
            command.Options.Add(option);
    }

    public string CheckpointDirectory(ParseResult result) =>
        result.GetValue(CheckpointDir)?.FullName ?? result.GetValue(Output)!.FullName.TrimEnd(Path.DirectorySeparatorChar) + ".checkpoint";

    /// <summary><c>--fresh-model</c>, shared with the benchmarks that fine-tune.</summary>
    internal static Option<bool> FreshModelOption() => new("--fresh-model") { Description = "Re-initialise the network instead of starting from the index bundle (ablation, or a wider network with --model-size)." };

    /// <summary><c>--model-size</c>, shared with the benchmarks that fine-tune.</summary>
    internal static Option<string?> ModelSizeOption() => new("--model-size") { Description = $"With --fresh-model: the new network's size, {T5Config.PresetNamesText} (default: the index bundle's shape)." };

    /// <summary><c>--weight-decay</c>, shared with the benchmarks that fine-tune.</summary>
    internal static Option<double> WeightDecayOption() => new("--weight-decay") { Description = "AdamW weight decay of the weight matrices and embeddings (layer norms never decay; default 0, the reference)." };

    /// <summary><c>--label-smoothing</c>, shared with the benchmarks that fine-tune.</summary>
    internal static Option<double> LabelSmoothingOption() => new("--label-smoothing") { Description = "Label smoothing of the target ID tokens, in [0, 1) (default 0, the reference); regularises long runs that memorise transitions." };

    /// <summary><c>--weight-average</c>, shared with the benchmarks that fine-tune.</summary>
    internal static Option<double> WeightAverageOption() => new("--weight-average") { Description = "Decay of a moving average of the weights that is validated, kept and served in place of the last weights, in [0, 1) (default 0: off, the reference; 0.999 averages about the last thousand steps)." };

    /// <summary><c>--group-by-length</c>, shared with the benchmarks that fine-tune.</summary>
    internal static Option<bool> GroupByLengthOption() => new("--group-by-length") { Description = "Batch training sources of similar length together (sorted within groups of 50 shuffled batches), so long sources pad only their own batches: faster with long histories (default: off, uniform batches, the reference)." };

    /// <summary><c>--history-dropout</c>, for <c>rec train</c> and <c>rec bench</c> (search and retrieval sources are queries, not histories).</summary>
    internal static Option<double> HistoryDropoutOption() => new("--history-dropout") { Description = "With --source ids, ids+items or items: the chance that each history item but the newest is left out of a training source, drawn afresh every time, in [0, 1) (default 0: off, the reference)." };

    /// <summary>A <c>--history-dropout</c> value, refused out of range or without ID sources before any data is read.</summary>
    private static FineTuneOptions WithHistoryDropout(FineTuneOptions options, double probability, SourceMode mode)
    {
        if (probability is < 0 or >= 1)
            throw new CliUsageException($"--history-dropout must be in [0, 1), got {probability}.");
        if (probability > 0 && !HistorySourceOptions.ReadsNoText(mode))
            throw new CliUsageException($"--history-dropout needs --source ids, ids+items or items (items are found by their ID or item tokens), not {HistorySourceOptions.ModeName(mode)}.");
        return options with { HistoryDropout = probability };
    }

    /// <summary><c>--item-dropout</c>, for <c>rec train</c> and <c>rec bench</c> with <c>--source ids+items</c>.</summary>
    internal static Option<double> ItemDropoutOption() => new("--item-dropout") { Description = "With --source ids+items: the chance that each history item's own token (its item vector) is left out of a training source, its ID tokens kept, drawn afresh every time, in [0, 1) (default 0: off)." };

    /// <summary>An <c>--item-dropout</c> value, refused out of range or without item tokens before any data is read.</summary>
    private static FineTuneOptions WithItemDropout(FineTuneOptions options, double probability, SourceMode mode)
    {
        if (probability is < 0 or >= 1)
            throw new CliUsageException($"--item-dropout must be in [0, 1), got {probability}.");
        if (probability > 0 && mode != SourceMode.IdsAndItems)
            throw new CliUsageException($"--item-dropout needs --source ids+items (it drops item tokens and keeps ID tokens), not {HistorySourceOptions.ModeName(mode)}.");
        return options with { ItemDropout = probability };
    }

    /// <summary>
    /// <c>--history-dropout</c> and <c>--item-dropout</c> together, as <c>rec train</c> and
    /// <c>rec bench</c> take them: each checked as <see cref="WithHistoryDropout"/> and
    /// <see cref="WithItemDropout"/> check it, history dropout first.
    /// </summary>
    internal static FineTuneOptions WithSourceDropout(FineTuneOptions options, double historyDropout, double itemDropout, SourceMode mode) =>
        WithItemDropout(WithHistoryDropout(options, historyDropout, mode), itemDropout, mode);

    /// <summary><c>--item-init</c>, shared by <c>rec train</c> and <c>rec bench</c>.</summary>
    internal static Option<string> ItemInitOption() => new("--item-init")
    {
        Description = "With --source ids+items or items: where the item vectors start: random (N(0, 1), as token vectors), ids (the mean of the item's learned ID-token vectors) or zero.",
        DefaultValueFactory = _ => ItemVectorInitializer.Name(ItemVectorInit.Random),
    };

    /// <summary>An <c>--item-init</c> value, refused when unknown or without item tokens before any data is read.</summary>
    internal static ItemVectorInit CheckedItemInit(string name, SourceMode mode)
    {
        var init = ItemVectorInitializer.Parse(name.ToLowerInvariant())
            ?? throw new CliUsageException($"Unknown --item-init '{name}'; expected {OptionSpelling.NamesText<ItemVectorInit>()}.");
        if (init != ItemVectorInit.Random && !HistorySourceOptions.ReadsItemTokens(mode))
            throw new CliUsageException($"--item-init needs --source ids+items or items (it sets item vectors), not {HistorySourceOptions.ModeName(mode)}.");
        return init;
    }

    /// <summary><c>--dense-loss</c>, for <c>rec train</c> and <c>rec bench</c> with <c>--source ids+items</c>.</summary>
    internal static Option<double> DenseLossOption() => new("--dense-loss")
    {
        Description = "With --source ids+items or items: train a dense item head beside the ID tokens (LIGER's hybrid) with this weight on its full-softmax loss over all items; the recommender then ranks the beam's items and the head's best items by both scores (default 0: no head).",
    };

    /// <summary>A <c>--dense-loss</c> weight, refused when negative or without item vectors before any data is read.</summary>
    internal static FineTuneOptions WithDenseLoss(FineTuneOptions options, double weight, SourceMode mode)
    {
        if (weight < 0 || !double.IsFinite(weight))
            throw new CliUsageException($"--dense-loss must be a number of at least 0, got {weight}.");
        if (weight > 0 && !HistorySourceOptions.ReadsItemTokens(mode))
            throw new CliUsageException($"--dense-loss needs --source ids+items or items (the head scores item vectors), not {HistorySourceOptions.ModeName(mode)}.");
        return options with { DenseLoss = weight };
    }

    /// <summary>Refuses <c>--source ids+items</c> or <c>items</c> without <c>--fresh-model</c> before any data is read.</summary>
    internal static void CheckItemSource(SourceMode mode, bool freshModel)
    {
        if (HistorySourceOptions.ReadsItemTokens(mode) && !freshModel)
            throw new CliUsageException($"--source {HistorySourceOptions.ModeName(mode)} needs --fresh-model (the index bundle's network has no item vectors).");
    }

    /// <summary><c>--decay</c>, shared with the benchmarks that fine-tune.</summary>
    internal static Option<string> DecayOption() => new("--decay") { Description = "Learning-rate decay after warm-up: linear (the reference) or cosine.", DefaultValueFactory = _ => "linear" };

    /// <summary>A <c>--decay</c> value, refused when unknown before any data is read.</summary>
    internal static LearningRateDecay CheckedDecay(string decay) => decay.ToLowerInvariant() switch
    {
        "linear" => LearningRateDecay.Linear,
        "cosine" => LearningRateDecay.Cosine,
        _ => throw new CliUsageException($"Unknown --decay '{decay}'; expected linear or cosine."),
    };

    /// <summary>The regularisers these flags name, refused when out of range before any data is read.</summary>
    internal static FineTuneOptions WithRegularisers(FineTuneOptions options, double weightDecay, double labelSmoothing, double weightAverage)
    {
        if (weightDecay < 0)
            throw new CliUsageException($"--weight-decay cannot be negative, got {weightDecay}.");
        if (labelSmoothing is < 0 or >= 1)
            throw new CliUsageException($"--label-smoothing must be in [0, 1), got {labelSmoothing}.");
        if (weightAverage is < 0 or >= 1)
            throw new CliUsageException($"--weight-average must be in [0, 1), got {weightAverage}.");
        return options with { LabelSmoothing = labelSmoothing, WeightAverage = weightAverage, Optimizer = options.Optimizer with { WeightDecay = weightDecay } };
    }

    /// <summary>A <c>--model-size</c> value, refused without <c>--fresh-model</c> or when unknown, before any data is read.</summary>
    internal static string? CheckedModelSize(string? size, bool freshModel)
    {
        if (size is null)
            return null;
        if (!freshModel)
            throw new CliUsageException("--model-size needs --fresh-model: the index bundle's weights have the bundle's shape.");
        var name = size.ToLowerInvariant();
        return T5Config.PresetNames.Contains(name)
            ? name
            : throw new CliUsageException($"Unknown --model-size '{size}'; expected {string.Join(", ", T5Config.PresetNames)}.");
    }

    /// <summary>A <c>--dropout</c> value, refused outside [0, 1) before any data is read.</summary>
    internal static double? CheckedDropout(double? rate) => rate switch
    {
        null => null,
        < 0 or >= 1 => throw new CliUsageException($"--dropout must be in [0, 1), got {rate}."),
        _ => rate,
    };

    /// <summary>The plan these flags describe; <paramref name="source"/> carries the task's source options.</summary>
    public GenerativePlan Build(ParseResult result, int seed, HistorySourceOptions source)
    {
        var decay = CheckedDecay(result.GetValue(Decay)!);
        var plan = new GenerativePlan
        {
            Source = source with { MaxSourceTokens = result.GetValue(MaxSourceTokens) },
            FreshModel = result.GetValue(FreshModel),
            FreshModelSize = CheckedModelSize(result.GetValue(ModelSize), result.GetValue(FreshModel)),
            Ids = result.GetValue(RandomIds) ? IdSource.Random : IdSource.Bundle,
            Dropout = CheckedDropout(result.GetValue(Dropout)),
            Version = result.GetValue(Version)!,
            FineTune = WithRegularisers(new FineTuneOptions
            {
                Steps = result.GetValue(Steps),
                BatchSize = result.GetValue(BatchSize),
                Optimizer = new OptimizerOptions { LearningRate = result.GetValue(LearningRate), WarmupRatio = result.GetValue(WarmupRatio), Decay = decay },
                EvalEvery = result.GetValue(EvalEvery),
                ValidationLimit = result.GetValue(ValidationLimit),
                Evaluation = new EvaluationOptions { Beams = result.GetValue(Beams) },
                BFloat16 = result.GetValue(BFloat16),
                GroupByLength = result.GetValue(GroupByLength),
                Seed = seed,
                CheckpointDirectory = CheckpointDirectory(result),
            }, result.GetValue(WeightDecay), result.GetValue(LabelSmoothing), result.GetValue(WeightAverage)),
        };
        plan.FineTune.Validate();
        plan.Source.Validate();
        CheckItemSource(plan.Source.Mode, plan.FreshModel);
        return plan;
    }
}
