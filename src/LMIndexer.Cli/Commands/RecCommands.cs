using System.CommandLine;
using System.Globalization;
using LMIndexer.Cli.Console;
using LMIndexer.Core.Data;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Generation;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Runtime;
using Spectre.Console;

namespace LMIndexer.Cli.Commands;

/// <summary>How a ranking baseline scores one split's users (the first <c>limit</c> when positive) beside the model.</summary>
public delegate EvaluationResult BaselineEvaluation(Catalog catalog, SemanticIdTable table, string split, int limit, EvaluationOptions options);

/// <summary>A ranking baseline reported beside the model: the research tool adds its own (popularity is always there).</summary>
public sealed record RankingBaseline(string Name, BaselineEvaluation Evaluate);

/// <summary><c>lmindexer rec train|eval</c>: generative sequential recommendation.</summary>
public static class RecCommands
{
    /// <param name="researchOptions">
    /// The lab's <c>rec train</c>: every fine-tuning setting as its own flag. The product's takes a
    /// recipe and <c>--set</c> overrides instead, so its help stays short.
    /// </param>
    public static Command Create(bool researchOptions = false, params RankingBaseline[] baselines)
    {
        var rec = new Command("rec", "Generative sequential recommendation: history → the next item's semantic ID.");
        rec.Subcommands.Add(researchOptions ? Train(baselines) : RecipeTrain(baselines));
        rec.Subcommands.Add(Eval(baselines));
        return rec;
    }

    internal static Option<DirectoryInfo> DataOption() =>
        new("--data", "-d") { Description = "Catalog directory with items.jsonl and sequences.tsv.", Required = true };

    internal static Option<string> SourceOption() =>
        new("--source") { Description = "What the model reads per history item: text (reference), titles, ids, ids+titles, ids+items (ID tokens then a learned vector per item; needs --fresh-model), items (the learned vector alone, no ID tokens: an ablation; needs --fresh-model).", DefaultValueFactory = _ => "titles" };

    internal static Option<int> ItemTokensOption() =>
        new("--max-item-tokens") { Description = "Text tokens kept per history item.", DefaultValueFactory = _ => 32 };

    internal static Option<string> WindowsOption() =>
        new("--windows") { Description = "Training windows: reference (5 sampled per user) or all-prefixes.", DefaultValueFactory = _ => "reference" };

    internal static TrainingWindows ParseWindows(string text) => text.ToLowerInvariant() switch
    {
        "reference" => TrainingWindows.Reference,
        "all-prefixes" => TrainingWindows.AllPrefixes,
        var other => throw new CliUsageException($"Unknown --windows '{other}'; expected reference or all-prefixes."),
    };

    internal static Catalog LoadCatalog(DirectoryInfo directory)
    {
        if (!File.Exists(Path.Combine(directory.FullName, CatalogFiles.ItemsFile)) || !File.Exists(Path.Combine(directory.FullName, CatalogFiles.SequencesFile)))
            throw new CliUsageException($"{directory.FullName} needs {CatalogFiles.ItemsFile} and {CatalogFiles.SequencesFile}.");
        return CatalogFiles.Load(directory.FullName);
    }

    private static Command Train(IReadOnlyList<RankingBaseline> baselines)
    {
        var common = new CommonOptions();
        var tune = new FineTuneCommandOptions();
        var data = DataOption();
        var source = SourceOption();
        var itemTokens = ItemTokensOption();
        var windows = WindowsOption();
        var passes = new Option<int>("--passes") { Description = "Sampled windows per user with --windows reference.", DefaultValueFactory = _ => 5 };
        var historyDropout = FineTuneCommandOptions.HistoryDropoutOption();
        var itemDropout = FineTuneCommandOptions.ItemDropoutOption();
        var itemInit = FineTuneCommandOptions.ItemInitOption();
        var denseLoss = FineTuneCommandOptions.DenseLossOption();
        var command = new Command("train", "Fine-tune an index bundle into a recommender and write a serving bundle; reports test metrics.") { data, source, itemTokens, windows, passes, historyDropout, itemDropout, itemInit, denseLoss };
        tune.AddTo(command);
        common.AddTo(command);
        command.SetAction((result, cancellation) => CliErrors.RunAsync(() =>
        {
            var windowMode = ParseWindows(result.GetValue(windows)!);
            var plan = tune.Build(result, result.GetValue(common.Seed), new HistorySourceOptions
            {
                Mode = HistorySourceOptions.ParseMode(result.GetValue(source)!),
                MaxItemTokens = result.GetValue(itemTokens),
            }) with
            { Windows = windowMode, Passes = result.GetValue(passes) };
            plan = plan with
            {
                FineTune = FineTuneCommandOptions.WithDenseLoss(
                    FineTuneCommandOptions.WithSourceDropout(plan.FineTune, result.GetValue(historyDropout), result.GetValue(itemDropout), plan.Source.Mode),
                    result.GetValue(denseLoss), plan.Source.Mode),
                ItemInit = FineTuneCommandOptions.CheckedItemInit(result.GetValue(itemInit)!, plan.Source.Mode),
            };
            // Every option is checked before the catalog is read: a usage error costs no load.
            var catalog = LoadCatalog(result.GetValue(data)!);
            common.InitializeRuntime(result);
            TrainAndTest(catalog, result.GetValue(tune.Index)!.FullName, plan, result.GetValue(tune.Output)!.FullName, tune.CheckpointDirectory(result), baselines, cancellation);
            return Task.FromResult(0);
        }));
        return command;
    }

    /// <summary>
    /// <c>lmindexer rec train</c>: the recipe's recommender settings (<c>--recipe</c>, <c>--set
    /// recommender.…</c>) fine-tuned on an index bundle; the lab's twin has a flag per setting.
    /// </summary>
    private static Command RecipeTrain(IReadOnlyList<RankingBaseline> baselines)
    {
        var common = new CommonOptions();
        var data = DataOption();
        var index = new Option<DirectoryInfo>("--index", "-i") { Description = "Index bundle whose IDs to fine-tune on ('lmindexer index train', or a train output's indexer/).", Required = true };
        var output = new Option<DirectoryInfo>("--out", "-o") { Description = "Serving bundle directory to write (model, tokenizer, ids.tsv, trie.bin).", Required = true };
        var recipe = TrainCommand.RecipeOption();
        var set = TrainCommand.SetOption();
        var checkpointDir = new Option<DirectoryInfo?>("--checkpoint-dir") { Description = "Resumable checkpoint (default: <out>.checkpoint; removed on success)." };
        var command = new Command("train", "Fine-tune an index bundle into a recommender with a recipe's recommender settings; writes a serving bundle and reports test metrics.")
        {
            data, index, output, recipe, set, checkpointDir,
        };
        common.AddTo(command);
        common.Seed.Description = TrainCommand.RecipeSeedDescription;
        command.SetAction((result, cancellation) => CliErrors.RunAsync(() =>
        {
            var plan = TrainCommand.ReadRecipe(result, recipe, set, common).Resolved().Recommender;
            var catalog = LoadCatalog(result.GetValue(data)!);
            common.InitializeRuntime(result);
            var outputDirectory = result.GetValue(output)!.FullName;
            var checkpoint = result.GetValue(checkpointDir)?.FullName ?? outputDirectory.TrimEnd(Path.DirectorySeparatorChar) + ".checkpoint";
            TrainAndTest(catalog, result.GetValue(index)!.FullName, plan, outputDirectory, checkpoint, baselines, cancellation);
            return Task.FromResult(0);
        }));
        return command;
    }

    /// <summary>Fine-tunes (resuming from <paramref name="checkpoint"/>), saves the serving bundle and prints its test metrics beside the baselines'.</summary>
    private static void TrainAndTest(Catalog catalog, string indexDirectory, GenerativePlan plan, string output, string checkpoint, IReadOnlyList<RankingBaseline> baselines, CancellationToken cancellation)
    {
        plan = plan with { FineTune = plan.FineTune with { CheckpointDirectory = checkpoint } };
        using var outcome = TrainingProgressView.Run("rec", plan.FineTune.Steps,
            progress => RecommenderTraining.Run(catalog, indexDirectory, plan, progress, cancellation));
        outcome.Save(output, ColdStartProjection.Fit(outcome.Bundle, outcome.Table, catalog.Items, cancellationToken: cancellation, training: outcome.Data.Train));
        GenerativeFineTuner.DeleteCheckpoint(checkpoint);
        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"{outcome.Data.Train.Count} training examples; best validation {plan.FineTune.SelectionMetric} {outcome.Report.BestMetric:F4} at step {outcome.Report.BestStep}; bundle: {output}");
        using var trie = new Core.Generation.TrieTables(outcome.Trie, TorchRuntime.Device);
        var testOptions = outcome.Ranking.Apply(plan.FineTune.Evaluation with { Beams = 20, BatchSize = 64 });
        var test = ProgressBar.Run("rec test", outcome.Data.Test.Count,
            progress => GenerativeEvaluator.Evaluate(outcome.Bundle.Model, outcome.Data.Test, trie, testOptions, progress, cancellation));
        AnsiConsole.Write(MetricsTable("test", test,
            [("popularity", GenerativeEvaluator.EvaluateRanking(outcome.Data.Test, _ => outcome.Data.Popularity, testOptions)),
             .. baselines.Select(b => (b.Name, b.Evaluate(catalog, outcome.Table, "test", 0, testOptions)))]));
    }

    private static Command Eval(IReadOnlyList<RankingBaseline> baselines)
    {
        var common = new CommonOptions();
        var data = DataOption();
        var bundle = new Option<DirectoryInfo>("--bundle", "-b") { Description = "Serving bundle ('lmindexer rec train').", Required = true };
        var split = new Option<string>("--split") { Description = "test or validation.", DefaultValueFactory = _ => "test" };
        var beams = new Option<int>("--beams") { Description = "Beams per user.", DefaultValueFactory = _ => 20 };
        var batch = new Option<int>("--batch-size") { Description = "Users decoded together.", DefaultValueFactory = _ => 64 };
        var limit = new Option<int>("--limit") { Description = "Evaluate only the first N users (0: all).", DefaultValueFactory = _ => 0 };
        var report = new Option<FileInfo?>("--report") { Description = "Write the metrics, configuration and timings as JSON here." };
        var ensemble = new Option<DirectoryInfo[]>("--ensemble")
        {
            Description = "Another serving bundle of the same IDs and source (once per bundle): beams are scored by the mean log-probability of all the models.",
            DefaultValueFactory = _ => [],
        };
        var ranking = new Option<string?>("--ranking")
        {
            Description = $"How items are ranked: {RankingModes.NamesText} (dense and hybrid need bundles trained with --dense-loss; default: what the bundle's training chose on validation, or hybrid for those and generative otherwise).",
        };
        var denseWeight = new Option<double?>("--dense-weight") { Description = "--ranking hybrid: the weight of the dense log-probability beside the ID's sequence log-probability (default: the bundle's, or 1)." };
        var command = new Command("eval", "Full-ranking Recall/NDCG/MAP/MRR @5 and @10 of a serving bundle on the leave-one-out split.") { data, bundle, split, beams, batch, limit, report, ensemble, ranking, denseWeight };
        common.AddTo(command);
        command.SetAction((result, cancellation) => CliErrors.RunAsync(() =>
        {
            var catalog = LoadCatalog(result.GetValue(data)!);
            var which = result.GetValue(split)!;
            if (which is not ("test" or "validation"))
                throw new CliUsageException($"Unknown --split '{which}'; expected test or validation.");
            var rankingMode = result.GetValue(ranking) is { } rankingName
                ? RankingModes.Parse(rankingName.ToLowerInvariant()) ?? throw new CliUsageException($"Unknown --ranking '{rankingName}'; expected {RankingModes.NamesText}.")
                : (RankingMode?)null;
            if (result.GetValue(denseWeight) is { } weight && (weight < 0 || !double.IsFinite(weight)))
                throw new CliUsageException($"--dense-weight must be a number of at least 0, got {weight}.");
            common.InitializeRuntime(result);
            using var serving = ServingBundle.Load(result.GetValue(bundle)!.FullName, TorchRuntime.Device);
            if (serving.Task != "recommendation")
                throw new CliUsageException($"{result.GetValue(bundle)!.FullName} is a {serving.Task} bundle, not a recommendation bundle.");
            var source = new HistorySource(serving.Bundle.Tokenizer, catalog.Items.ToDictionary(i => i.ItemId, StringComparer.Ordinal), serving.Table, serving.Source);
            var taskData = RecommendationTask.Build(catalog, serving.Table, source);
            var examples = which == "test" ? taskData.Test : taskData.Validation;
            if (result.GetValue(limit) > 0)
                examples = [.. examples.Take(result.GetValue(limit))];
            var members = LoadEnsemble(serving, result.GetValue(ensemble)!);
            try
            {
                var models = (IReadOnlyList<Core.Model.T5Model>)[serving.Bundle.Model, .. members.Select(m => m.Bundle.Model)];
                if (rankingMode is RankingMode.Dense or RankingMode.Hybrid && models.Any(m => !m.Config.DenseItemHead))
                    throw new CliUsageException($"--ranking {RankingModes.Name(rankingMode.Value)} needs bundles with a dense item head (trained with --dense-loss).");
                var options = new EvaluationOptions
                {
                    Beams = result.GetValue(beams),
                    BatchSize = result.GetValue(batch),
                    // One bundle ranks as its training chose; an ensemble by the default for its heads.
                    Ranking = rankingMode ?? (members.Count == 0 ? serving.Ranking.Mode : RankingModes.DefaultFor(models)),
                    DenseWeight = result.GetValue(denseWeight) ?? (rankingMode is null && members.Count == 0 ? serving.Ranking.DenseWeight : 1),
                };
                var evaluation = ProgressBar.Run($"rec eval ({which}, {RankingModes.Name(options.Ranking!.Value)}{(members.Count > 0 ? $", {models.Count} models" : "")})", examples.Count,
                    progress => GenerativeEvaluator.Evaluate(models, examples, serving.Tables, options, progress, cancellation));
                var baselineResults = new Dictionary<string, EvaluationResult>(StringComparer.Ordinal)
                {
                    ["popularity"] = GenerativeEvaluator.EvaluateRanking(examples, _ => taskData.Popularity, options),
                };
                foreach (var baseline in baselines)
                    baselineResults[baseline.Name] = baseline.Evaluate(catalog, serving.Table, which, result.GetValue(limit), options);
                AnsiConsole.Write(MetricsTable(which, evaluation, [.. baselineResults.Select(kv => (kv.Key, kv.Value))]));
                if (result.GetValue(report) is { } reportFile)
                    EvaluationReportFile.Write(reportFile.FullName, serving, which, options, evaluation, baselineResults,
                        [.. result.GetValue(ensemble)!.Select(d => d.FullName)]);
            }
            finally
            {
                foreach (var member in members)
                    member.Dispose();
            }
            return Task.FromResult(0);
        }));
        return command;
    }

    /// <summary>
    /// The extra bundles of <c>rec eval --ensemble</c>: recommenders over the same ID table, source
    /// and vocabulary as <paramref name="primary"/> (plain ID sources may join an <c>ids+items</c>
    /// primary of the same items), or a one-line usage error naming the mismatch.
    /// </summary>
    private static List<ServingBundle> LoadEnsemble(ServingBundle primary, IReadOnlyList<DirectoryInfo> directories)
    {
        var members = new List<ServingBundle>();
        try
        {
            foreach (var directory in directories)
            {
                var member = ServingBundle.Load(directory.FullName, TorchRuntime.Device);
                members.Add(member);
                var mismatch = member.Task != "recommendation" ? $"a {member.Task} bundle"
                    : !member.Table.ItemIds.SequenceEqual(primary.Table.ItemIds) || !member.Table.Ids.Zip(primary.Table.Ids).All(p => p.First.SequenceEqual(p.Second)) ? "other semantic IDs"
                    : !member.Source.Reads(primary.Source, primary.Table.Ids[0].Length) ? "another history source"
                    : member.Bundle.Model.Config.VocabSize != primary.Bundle.Model.Config.VocabSize ? "another vocabulary"
                    : null;
                if (mismatch is not null)
                    throw new CliUsageException($"--ensemble {directory.FullName}: {mismatch}; an ensemble needs recommenders of --bundle's ID table, history source and vocabulary.");
            }
            return members;
        }
        catch
        {
            foreach (var member in members)
                member.Dispose();
            throw;
        }
    }

    internal static Table MetricsTable(string title, EvaluationResult result, params (string Name, EvaluationResult Result)[] baselines)
    {
        var table = new Table().Title(Markup.Escape($"{title}: {result.Examples} examples, {result.ExamplesPerSecond:F1}/s"))
            .AddColumn("metric").AddColumn(new TableColumn("model").RightAligned());
        foreach (var (name, _) in baselines)
            table.AddColumn(new TableColumn(Markup.Escape(name)).RightAligned());
        foreach (var metric in new[] { "recall@5", "ndcg@5", "recall@10", "ndcg@10", "map@10", "mrr@10" })
        {
            if (!result.Metrics.TryGetValue(metric, out var value))
                continue;
            var cells = new List<string> { metric, value.ToString("F4", CultureInfo.InvariantCulture) };
            cells.AddRange(baselines.Select(b => b.Result.Metrics[metric].ToString("F4", CultureInfo.InvariantCulture)));
            table.AddRow([.. cells]);
        }
        return table;
    }
}
