using LMIndexer.Core.Recipes;
using System.Globalization;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Data;
using LMIndexer.Core.Encoders;
using LMIndexer.Core.Generation;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Model;
using LMIndexer.Core.Text;
using LMIndexer.Core.Training;
using TorchSharp;

namespace LMIndexer.Core.Downstream;

/// <summary>Which IDs the recommender generates.</summary>
public enum IdSource
{
    /// <summary>The index bundle's own table (LMIndexer, or a baseline's IDs when the bundle is one).</summary>
    Bundle,

    /// <summary>Ablation: uniform random codes of the same shape, with collision counters.</summary>
    Random,
}

/// <summary>How to fine-tune a generative model (recommendation, search or retrieval) from an index bundle.</summary>
public sealed record GenerativePlan
{
    /// <summary>How sources are built (recommendation: the history; search and retrieval: the query budget).</summary>
    public HistorySourceOptions Source { get; init; } = new();

    /// <summary>Recommendation only: how training windows are cut.</summary>
    public TrainingWindows Windows { get; init; } = TrainingWindows.Reference;

    /// <summary>Recommendation only: sampled windows per user (the reference: 5).</summary>
    public int Passes { get; init; } = 5;

    public FineTuneOptions FineTune { get; init; } = new();

    /// <summary>Ablation: re-initialise the network instead of starting from the index bundle's weights.</summary>
    public bool FreshModel { get; init; }

    /// <summary>
    /// With <see cref="FreshModel"/>: the preset (tiny, mini, small, base) of the new network; null keeps
    /// the index bundle's shape. A wider network than the indexer's can only start fresh.
    /// </summary>
    public string? FreshModelSize { get; init; }

    public IdSource Ids { get; init; } = IdSource.Bundle;

    /// <summary>
    /// Whether text sources (text, titles) are read with the pretrained encoder the index bundle
    /// learned its IDs on, as the indexer read the items; false reads them with the bundle's own T5
    /// encoder (an ablation; also much cheaper per step). ID sources are always read by T5.
    /// </summary>
    public bool IndexerEncoder { get; init; } = true;

    /// <summary>With <see cref="SourceMode.IdsAndItems"/>: where the fresh network's item vectors start.</summary>
    public ItemVectorInit ItemInit { get; init; } = ItemVectorInit.Random;

    /// <summary>
    /// Whether the network's vocabulary is the ID tokens alone: a fresh network reading ID
    /// sources never sees text, and its untrained text rows would only cost time in the LM head
    /// (docs/decisions/006-ids-only-vocabulary.md).
    /// </summary>
    public bool IdsOnlyVocabulary => FreshModel && HistorySourceOptions.ReadsNoText(Source.Mode);

    /// <summary>The vocabulary as serving manifests record it; bundles from before it was recorded read as the default.</summary>
    public string VocabularyName => IdsOnlyVocabulary ? "ids" : DefaultVocabularyName;

    public const string DefaultVocabularyName = "text+ids";

    /// <summary>
    /// Dropout while fine-tuning; null keeps the index bundle's rate (T5's 0.1). Most of the
    /// next-item signal is item-to-item transitions, which the model has to memorise, and dropout
    /// slows memorising down (docs/decisions/002-fine-tuning-dropout.md).
    /// </summary>
    public double? Dropout { get; init; }

    public string Version { get; init; } = "v1";

    /// <summary>
    /// Recommendation under the served-model protocol: each user's validation target trains too and
    /// no validation users are held out, so the network keeps its last weights after the steps chosen
    /// on a plain run (<see cref="LeaveOneOut.Split"/>).
    /// </summary>
    public bool Refit { get; init; }

    /// <summary>Every invalid field and combination (camelCase paths, as in recipe files).</summary>
    public IEnumerable<OptionError> Errors()
    {
        foreach (var error in Source.Errors())
            yield return error with { Field = "source." + error.Field };
        foreach (var error in FineTune.Errors())
            yield return error with { Field = "fineTune." + error.Field };
        var mode = HistorySourceOptions.ModeName(Source.Mode);
        if (FineTune.HistoryDropout > 0 && !HistorySourceOptions.ReadsNoText(Source.Mode))
            yield return new("fineTune.historyDropout", $"History dropout needs ID or item sources (ids, ids+items or items), not {mode}");
        // In items sources the item token is the whole item: dropping it is history dropout.
        if (FineTune.ItemDropout > 0 && Source.Mode != SourceMode.IdsAndItems)
            yield return new("fineTune.itemDropout", $"Item-vector dropout needs item tokens (source ids+items) beside ID tokens, not {mode}");
        if (ItemInit != ItemVectorInit.Random && !HistorySourceOptions.ReadsItemTokens(Source.Mode))
            yield return new("itemInit", $"Item-vector initialisation needs item tokens (source ids+items or items), not {mode}");
        if (FineTune.DenseLoss > 0 && !HistorySourceOptions.ReadsItemTokens(Source.Mode))
            yield return new("fineTune.denseLoss", $"A dense item head scores item vectors (source ids+items or items), not {mode}");
        if (HistorySourceOptions.ReadsItemTokens(Source.Mode) && !FreshModel)
            yield return new("freshModel", $"Item tokens (source {mode}) need a fresh network: the index bundle's network has no item vectors");
        if (FreshModelSize is not null && !T5Config.PresetNames.Contains(FreshModelSize, StringComparer.Ordinal))
            yield return new("freshModelSize", $"unknown preset '{FreshModelSize}'; expected {T5Config.PresetNamesText}");
        if (Passes < 1)
            yield return new("passes", $"at least one window per user is needed, got {Passes}");
        if (Dropout is < 0 or >= 1)
            yield return new("dropout", $"dropout must be in [0, 1), got {Dropout}");
    }
}

/// <summary>Examples of one generative task over an ID table.</summary>
public sealed record TaskData(
    IReadOnlyList<GenerativeExample> Train,
    IReadOnlyList<GenerativeExample> Validation,
    IReadOnlyList<GenerativeExample> Test,
    IReadOnlyList<int> Popularity);

/// <summary>A fine-tuned generative model before it is saved.</summary>
public sealed record GenerativeOutcome(ModelBundle Bundle, SemanticIdTable Table, IdTrie Trie, TaskData Data, FineTuneReport Report) : IDisposable
{
    public void Save(string directory, ItemTextProjection? projection = null) => ServingBundle.Save(directory, Bundle, Table, Trie, projection);

    /// <summary>How the trained network ranks (<see cref="RankingChoice.Of"/>).</summary>
    public RankingChoice Ranking => RankingChoice.Of(Bundle);

    public void Dispose() => Bundle.Dispose();
}

/// <summary>Index bundle + task examples → fine-tuned generative model (a serving bundle).</summary>
public static class GenerativeTraining
{
    /// <summary>The progress stage of the ranking choice after training.</summary>
    public const string RankingStage = "ranking";

    /// <summary>
    /// Loads the index bundle, swaps in random IDs or a fresh network for ablations, builds the
    /// task's examples with <paramref name="buildData"/> (tokenizer, ID table), fine-tunes and
    /// returns the serving bundle's parts. <paramref name="dataHash"/> identifies the task data.
    /// </summary>
    public static GenerativeOutcome Run(string indexBundleDirectory, GenerativePlan plan, string task, string dataHash,
        Func<ModelBundle, SemanticIdTable, TaskData> buildData, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(buildData);
        OptionErrors.ThrowIfAny(plan.Errors());
        var tablePath = Path.Combine(indexBundleDirectory, SemanticIdTable.FileName);
        if (!File.Exists(tablePath))
            throw new FileNotFoundException($"{indexBundleDirectory} has no {SemanticIdTable.FileName}; pass an index bundle ('lmindexer index train').", tablePath);
        var table = SemanticIdTable.Load(tablePath);
        // A fresh network takes the index bundle's vocabulary and shape, not its weights: IDs kept
        // without the network (manifest, tokenizer and table of a recorded run) train one too.
        var bundle = plan.FreshModel ? FreshBundle(indexBundleDirectory, plan, table) : IndexerBundle(indexBundleDirectory, plan);
        try
        {
            if (plan.Ids == IdSource.Random)
                table = RandomIds(table, bundle.Tokenizer.IdPositionSizes, plan.FineTune.Seed);
            if (table.RequiredCounterSize > bundle.Tokenizer.IdPositionSizes[^1] || table.Ids[0].Length > bundle.Tokenizer.IdPositionSizes.Count)
                throw new InvalidDataException($"The IDs need {table.Ids[0].Length} positions and a counter range of {table.RequiredCounterSize}; the bundle's tokenizer has [{string.Join(", ", bundle.Tokenizer.IdPositionSizes)}].");
            var model = bundle.Model;
            if (plan.Dropout is { } rate && rate != model.Config.DropoutRate)
            {
                // Every module reads its rate from the immutable config: same weights, new config.
                var rebuilt = new T5Model(model.Config with { DropoutRate = rate });
                if (model.SourceEncoder is not null)
                    rebuilt.AttachSourceEncoder(PretrainedSourceEncoder.ForBundle(indexBundleDirectory, bundle.Manifest, bundle.Tokenizer)!);
                using (var noGrad = torch.no_grad())
                    rebuilt.load_state_dict(model.state_dict());
                bundle.Dispose();
                model = rebuilt;
                bundle = new ModelBundle(model, bundle.Tokenizer, bundle.Manifest);
            }
            model.to(Runtime.TorchRuntime.Device);
            var data = buildData(bundle, table);
            var trie = IdTrie.FromTable(table, bundle.Tokenizer);
            var idTokens = table.Ids.Select(id => IdTrie.IdTokens(id, bundle.Tokenizer)).ToList();
            ItemVectorInitializer.Apply(model, idTokens, plan.ItemInit);
            using var tables = new TrieTables(trie, Runtime.TorchRuntime.Device);
            var report = TrainWithSourceEncoder(model, () =>
                GenerativeFineTuner.Train(model, idTokens, data.Train, data.Validation, tables, plan.FineTune, SourceItemStart(plan, bundle.Tokenizer), progress, cancellationToken));
            var manifest = new BundleManifest
            {
                Version = plan.Version,
                Kind = ServingBundle.Kind,
                Config = model.Config,
                TrainingDataHash = dataHash,
                Properties = new Dictionary<string, string>
                {
                    ["task"] = task,
                    ["source"] = HistorySourceOptions.ModeName(plan.Source.Mode),
                    ["maxSourceTokens"] = Invariant(plan.Source.MaxSourceTokens),
                    ["maxItemTokens"] = Invariant(plan.Source.MaxItemTokens),
                    ["windows"] = plan.Windows.ToString(),
                    ["ids"] = plan.Ids == IdSource.Random ? "random" : bundle.Manifest.Properties.GetValueOrDefault("method", bundle.Manifest.Kind),
                    ["indexVersion"] = bundle.Manifest.Version,
                    // Where new catalog items get their IDs from (serving assigns them with the indexer).
                    ["indexer"] = plan.Ids == IdSource.Random ? "" : Path.GetFullPath(indexBundleDirectory),
                    ["freshModel"] = plan.FreshModel ? "true" : "false",
                    ["refit"] = plan.Refit ? "true" : "false",
                    ["itemInit"] = ItemVectorInitializer.Name(plan.ItemInit),
                    ["modelSize"] = plan.FreshModelSize ?? "",
                    ["vocabulary"] = plan.VocabularyName,
                    ["dropout"] = model.Config.DropoutRate.ToString(CultureInfo.InvariantCulture),
                    ["steps"] = Invariant(report.Steps),
                    ["bestStep"] = Invariant(report.BestStep),
                    ["selectionMetric"] = plan.FineTune.SelectionMetric,
                    ["validationLimit"] = Invariant(plan.FineTune.ValidationLimit),
                    ["bestMetric"] = report.BestMetric.ToString("F5", CultureInfo.InvariantCulture),
                    [ValidationCurve.Property] = ValidationCurve.Format(report.Validations, plan.FineTune.SelectionMetric),
                    ["beams"] = Invariant(plan.FineTune.Evaluation.Beams),
                    // Initial weights and batch order: what tells an ensemble's members apart.
                    ["seed"] = Invariant(plan.FineTune.Seed),
                    // Fine-tuning time only (this process's part when resumed); benchmarks overwrite it with their own clock.
                    ["trainSeconds"] = report.Seconds.ToString("F0", CultureInfo.InvariantCulture),
                },
            };
            foreach (var (key, value) in OptimizerProperties(plan.FineTune))
                manifest.Properties[key] = value;
            if (model.SourceEncoder is { } sourceEncoder)
            {
                manifest.Properties[PretrainedSourceEncoder.EncoderProperty] = sourceEncoder.Package.Name;
                manifest.Properties[PretrainedSourceEncoder.TrainableLayersProperty] = Invariant(sourceEncoder.TrainableLayers);
            }
            // A run that kept its step on validation also chooses there how the kept network ranks
            // (a refit validates nothing: it serves the default, or what its plain run chose).
            if (model.Config.DenseItemHead && plan.FineTune.EvalEvery > 0 && plan.FineTune.ValidationLimit > 0 && !plan.Refit && data.Validation.Count > 0)
            {
                var choosingOn = data.Validation.Take(plan.FineTune.ValidationLimit).ToList();
                var choosing = RankingProgress(progress, RankingSelection.Candidates(model).Count * choosingOn.Count);
                var selection = RankingSelection.Choose(model, choosingOn, tables, plan.FineTune.Evaluation, plan.FineTune.SelectionMetric, choosing, cancellationToken);
                selection.Choice.WriteTo(manifest.Properties);
                manifest.Properties[RankingChoice.ValidationProperty] = selection.Format();
            }
            return new GenerativeOutcome(new ModelBundle(model, bundle.Tokenizer, manifest), table, trie, data, report);
        }
        catch
        {
            bundle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The indexer's own network to fine-tune. Text sources are read the way the indexer read the
    /// items, through its pretrained encoder when it had one.
    /// </summary>
    private static ModelBundle IndexerBundle(string directory, GenerativePlan plan)
    {
        if (!File.Exists(Path.Combine(directory, ModelBundle.WeightsFile)))
            throw new FileNotFoundException($"{directory} holds semantic IDs without the indexer's network ({ModelBundle.WeightsFile} is missing): only a fresh network can be trained on them.",
                Path.Combine(directory, ModelBundle.WeightsFile));
        return ModelBundle.Load(directory, withSourceEncoder: plan.IndexerEncoder && plan.Source.Mode is SourceMode.Text or SourceMode.Titles);
    }

    /// <summary>
    /// A new network of the index bundle's shape (or the plan's preset), with the bundle's
    /// vocabulary (ID tokens alone when the sources read no text); ID tokens only the T5 encoder
    /// can read, so it has no pretrained source encoder.
    /// </summary>
    private static ModelBundle FreshBundle(string directory, GenerativePlan plan, SemanticIdTable table)
    {
        var manifest = ModelBundle.ReadManifest(directory);
        var indexTokenizer = CatalogTokenizer.Load(Path.Combine(directory, ModelBundle.TokenizerFile));
        var tokenizer = plan.IdsOnlyVocabulary ? indexTokenizer.WithoutText() : indexTokenizer;
        var shape = plan.FreshModelSize is null ? manifest.Config : T5Config.Preset(plan.FreshModelSize, tokenizer.VocabSize);
        torch.manual_seed(plan.FineTune.Seed);
        var model = new T5Model(shape with
        {
            VocabSize = tokenizer.VocabSize,
            DropoutRate = plan.Dropout ?? manifest.Config.DropoutRate,
            SourceItemCount = HistorySourceOptions.ReadsItemTokens(plan.Source.Mode) ? table.Count : 0,
            DenseItemHead = plan.FineTune.DenseLoss > 0,
        });
        return new ModelBundle(model, tokenizer, manifest);
    }

    /// <summary>
    /// Fine-tunes with the source encoder's trained part (the top layers it was indexed with, the
    /// projection and its norm) learning too, and the frozen layers' states computed once per
    /// distinct source: every epoch reads the same queries again. The kept states are dropped
    /// afterwards, since a serving model meets new sources all the time.
    /// </summary>
    private static FineTuneReport TrainWithSourceEncoder(T5Model model, Func<FineTuneReport> train)
    {
        if (model.SourceEncoder is not { } sourceEncoder)
            return train();
        sourceEncoder.SetTrainable(true);
        sourceEncoder.KeepsFrozenStates = true;
        try
        {
            return train();
        }
        finally
        {
            sourceEncoder.KeepsFrozenStates = false;
            sourceEncoder.ClearCache();
            sourceEncoder.SetTrainable(false);
        }
    }

    /// <summary>
    /// Where history items start in the plan's sources, for <see cref="FineTuneOptions.HistoryDropout"/>:
    /// an ID source opens every item with a first-position ID token, and an items source is one item
    /// token (numbered above the vocabulary) per item. Text sources have no such mark (history
    /// dropout on them is refused at the start of <see cref="Run"/>).
    /// </summary>
    private static Func<int, bool>? SourceItemStart(GenerativePlan plan, CatalogTokenizer tokenizer) => plan.Source.Mode switch
    {
        SourceMode.Items => token => token >= tokenizer.VocabSize,
        _ when HistorySourceOptions.ReadsIds(plan.Source.Mode) => token => tokenizer.TryParseIdToken(token, out var position, out _) && position == 0,
        _ => null,
    };

    /// <summary>Uniform random learned codes of the same shape as <paramref name="table"/>, with fresh counters.</summary>
    public static SemanticIdTable RandomIds(SemanticIdTable table, IReadOnlyList<int> positionSizes, int seed)
    {
        var random = new Random(seed);
        var learned = table.Ids[0].Length - 1;
        var codes = table.ItemIds.Select(_ => Enumerable.Range(0, learned).Select(p => (long)random.Next(positionSizes[p])).ToArray()).ToList();
        return SemanticIdTable.WithCounters(table.ItemIds, codes);
    }

    /// <summary>
    /// The optimizer settings a serving manifest records, in the form it records them, so that a
    /// caller deciding whether a bundle was trained with given options compares like with like.
    /// </summary>
    public static IReadOnlyDictionary<string, string> OptimizerProperties(FineTuneOptions options) => new Dictionary<string, string>
    {
        ["batchSize"] = Invariant(options.BatchSize),
        ["lr"] = options.Optimizer.LearningRate.ToString(CultureInfo.InvariantCulture),
        ["warmupRatio"] = options.Optimizer.WarmupRatio.ToString(CultureInfo.InvariantCulture),
        ["weightDecay"] = options.Optimizer.WeightDecay.ToString(CultureInfo.InvariantCulture),
        ["labelSmoothing"] = options.LabelSmoothing.ToString(CultureInfo.InvariantCulture),
        ["weightAverage"] = options.WeightAverage.ToString(CultureInfo.InvariantCulture),
        ["decay"] = options.Optimizer.Decay.ToString().ToLowerInvariant(),
        ["historyDropout"] = options.HistoryDropout.ToString(CultureInfo.InvariantCulture),
        ["itemDropout"] = options.ItemDropout.ToString(CultureInfo.InvariantCulture),
        ["denseLoss"] = options.DenseLoss.ToString(CultureInfo.InvariantCulture),
        ["groupByLength"] = options.GroupByLength ? "true" : "false",
    };

    /// <summary>What an <see cref="OptimizerProperties"/> entry missing from an older manifest stood for.</summary>
    public static string? UnrecordedOptimizerProperty(string key) => key switch
    {
        "weightDecay" or "labelSmoothing" or "weightAverage" or "historyDropout" or "itemDropout" or "denseLoss" => "0",
        "decay" => "linear",
        "groupByLength" => "false",
        _ => null,
    };

    /// <summary>
    /// The ranking choice as training progress (stage <see cref="RankingStage"/>, users scored so far
    /// over every candidate, no loss), so that a progress view does not go silent for the minute it takes.
    /// </summary>
    private static IProgress<int>? RankingProgress(IProgress<TrainingProgress>? progress, int total)
    {
        if (progress is null)
            return null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        return new InlineProgress<int>(done => progress.Report(new TrainingProgress(RankingStage, done, total, double.NaN, 0,
            done / Math.Max(clock.Elapsed.TotalSeconds, 1e-9))));
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Index bundle + catalog with user sequences → fine-tuned generative recommender.</summary>
public static class RecommenderTraining
{
    public static GenerativeOutcome Run(Catalog catalog, string indexBundleDirectory, GenerativePlan plan, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var items = catalog.Items.ToDictionary(i => i.ItemId, StringComparer.Ordinal);
        return GenerativeTraining.Run(indexBundleDirectory, plan, "recommendation", DataHash(catalog), (bundle, table) =>
        {
            var source = new HistorySource(bundle.Tokenizer, items, table, plan.Source with { ItemTokenCount = bundle.Model.Config.SourceItemCount });
            return RecommendationTask.Build(catalog, table, source, plan.Windows, plan.Passes, plan.FineTune.Seed, plan.Refit);
        }, progress, cancellationToken);
    }

    public static string DataHash(Catalog catalog) =>
        ModelBundle.HashOf(catalog.Users.Select(u => u.UserId + "\t" + string.Join(' ', u.ItemIds)));
}
