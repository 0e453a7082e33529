using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using LMIndexer.Cli.Console;
using LMIndexer.Core.Data;
using LMIndexer.Research.Protocol;
using LMIndexer.Research.Recommendation;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Evaluation;
using LMIndexer.Core.Generation;
using LMIndexer.Core.Model;
using LMIndexer.Core.Runtime;
using LMIndexer.Core.Training;
using Spectre.Console;
using LMIndexer.Bench.Reporting;
using LMIndexer.Cli.Commands;

namespace LMIndexer.Bench.Commands;

/// <summary>
/// <c>lmindexer-bench rec bench</c>: the recommendation benchmark — the same split, the same fine-tuning
/// budget, LMIndexer IDs against popularity, rq-VAE IDs and random IDs — into the bench results.
/// </summary>
public static class RecBenchCommand
{
    /// <summary>The systems that fine-tune the seq2seq network, each on its own IDs; the others are baselines.</summary>
    private static readonly string[] Seq2SeqSystems = ["lmindexer", "rqvae", "random", NoIds];

    /// <summary>The ablation that reads no ID tokens: the recipe's sources with each item's item token alone.</summary>
    private const string NoIds = "no-ids";

    private static readonly string[] KnownSystems = ["popularity", "markov", .. Seq2SeqSystems, "sasrec"];

    /// <summary>The row of SASRec's seeds decoded together (--sasrec-ensemble-seeds).</summary>
    private const string SasRecEnsemble = "sasrec-ensemble";

    public static Command Create()
    {
        var common = new CommonOptions();
        var data = new Option<DirectoryInfo>("--data", "-d") { Description = "Catalog with items.jsonl and sequences.tsv.", DefaultValueFactory = _ => new DirectoryInfo("../shared/data/amazon-beauty") };
        var indexDir = new Option<DirectoryInfo>("--index-dir") { Description = "Directory holding the index bundles lmindexer/ and rqvae/ ('lmindexer-bench index bench').", DefaultValueFactory = _ => new DirectoryInfo("data/bench") };
        var outDir = new Option<DirectoryInfo>("--out-dir") { Description = "Where the serving bundles are written.", DefaultValueFactory = _ => new DirectoryInfo("data/bench/rec") };
        var systems = new Option<string>("--systems") { Description = "Comma-separated: popularity, markov (item-to-item transitions), lmindexer, rqvae, random, no-ids (item tokens only, no ID tokens in the source), sasrec.", DefaultValueFactory = _ => string.Join(',', KnownSystems) };
        var sasrecSteps = new Option<int>("--sasrec-steps") { Description = "SASRec training steps (batch 128).", DefaultValueFactory = _ => 4000 };
        var sasrecEvalEvery = new Option<int>("--sasrec-eval-every") { Description = "SASRec validation interval in steps; the best validated weights are kept.", DefaultValueFactory = _ => 500 };
        var sasrecMaxLength = new Option<int>("--sasrec-max-length") { Description = "Most recent items SASRec reads (Kang & McAuley use 50 on Amazon data).", DefaultValueFactory = _ => 50 };
        var sasrecGrid = new Option<string>("--sasrec-grid")
        {
            Description = "SASRec settings to search, e.g. 'hidden=64,128 layers=1,2 dropout=0.2,0.5 lr=0.001 max-length=20,50': every combination trains; "
                + "the best validation NDCG@10 is kept and only it decodes test. Keys not named keep the single settings.",
            DefaultValueFactory = _ => "",
        };
        var sasrecEnsembleSeeds = new Option<string>("--sasrec-ensemble-seeds")
        {
            Description = "Further SASRec seeds, comma-separated: each trains the settings kept on validation again, and the members with the first "
                + "(items ranked by their mean log-probability) are reported as sasrec-ensemble, the baseline for an ensemble of ours at the same compute.",
            DefaultValueFactory = _ => "",
        };
        var refit = new Option<bool>("--refit")
        {
            Description = "The served-model protocol: every system trains on training + validation targets with the settings of a plain run given on the command line "
                + "(--steps and --sasrec-steps: the steps that run kept on validation), keeps its last weights, and decodes test once. Nothing is chosen in this run.",
        };
        var ranking = new Option<string>("--ranking")
        {
            Description = "With --refit: how the trained networks rank (generative, dense or hybrid@W), as the plain run of the same settings chose on validation "
                + "(its result's 'ranked …'); the refit bundle serves it too. Without it a refit ranks by the default for its heads (hybrid@1 with a dense item head).",
        };
        var reuse = new Option<bool>("--reuse")
        {
            Description = "Evaluate serving bundles already in --out-dir (trained with the same steps, source, windows, dropout and regularisers) instead of retraining them, "
                + "and load each SASRec (grid candidate or ensemble member) saved under <out-dir>/sasrec with the same settings and seed.",
        };
        var validateOnly = new Option<bool>("--validate-only")
        {
            Description = "Train (or, with --reuse, load) the networks, save them (seq2seq bundles in <out-dir>, SASRec's grid candidates at --seed under <out-dir>/sasrec) and print their validation figures; "
                + "decode no test and record nothing. A later run with --reuse (and SASRec's whole grid) decodes test once for what validation chose.",
        };
        var steps = new Option<int>("--steps") { Description = "Fine-tuning steps per seq2seq system.", DefaultValueFactory = _ => 3000 };
        var batch = new Option<int>("--batch-size") { Description = "Examples per step.", DefaultValueFactory = _ => 32 };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate.", DefaultValueFactory = _ => 1e-3 };
        var warmup = new Option<double>("--warmup-ratio") { Description = "Fraction of steps for linear warm-up (the reference: 0).", DefaultValueFactory = _ => 0 };
        var dropout = new Option<double?>("--dropout") { Description = "Dropout while fine-tuning (default: the index bundle's, 0.1)." };
        var windows = RecCommands.WindowsOption();
        var evalEvery = new Option<int>("--eval-every") { Description = "Validation interval (steps).", DefaultValueFactory = _ => 1000 };
        var source = RecCommands.SourceOption();
        var itemTokens = RecCommands.ItemTokensOption();
        var sourceTokens = new Option<int>("--max-source-tokens") { Description = "Source budget in tokens.", DefaultValueFactory = _ => 96 };
        var validationLimit = new Option<int>("--validation-limit")
        {
            // 512 users hold about five NDCG@10 hits on Beauty, too few to tell checkpoints apart.
            Description = "Validation users per evaluation; more make the kept checkpoint less a matter of chance.",
            DefaultValueFactory = _ => BenchFineTuning.DefaultValidationLimit,
        };
        var testLimit = new Option<int>("--test-limit") { Description = "Evaluate the first N test users only (0: all).", DefaultValueFactory = _ => 0 };
        var docs = BenchmarkReport.DirectoryOption();
        var name = new Option<string>("--name") { Description = "Benchmark section name.", DefaultValueFactory = _ => "rec-beauty" };
        var freshModel = FineTuneCommandOptions.FreshModelOption();
        var modelSize = FineTuneCommandOptions.ModelSizeOption();
        var weightDecay = FineTuneCommandOptions.WeightDecayOption();
        var labelSmoothing = FineTuneCommandOptions.LabelSmoothingOption();
        var weightAverage = FineTuneCommandOptions.WeightAverageOption();
        var decay = FineTuneCommandOptions.DecayOption();
        var historyDropout = FineTuneCommandOptions.HistoryDropoutOption();
        var itemDropout = FineTuneCommandOptions.ItemDropoutOption();
        var itemInit = FineTuneCommandOptions.ItemInitOption();
        var denseLoss = FineTuneCommandOptions.DenseLossOption();
        var groupByLength = FineTuneCommandOptions.GroupByLengthOption();
        var ensembleSeeds = new Option<string>("--ensemble-seeds")
        {
            Description = "Further seeds of the LMIndexer recommender, comma-separated: each is trained like the first (or reused from <out-dir>/lmindexer-seed<N>), "
                + "and the ensemble of all of them (beams scored by their mean log-probability) is reported as lmindexer×K.",
            DefaultValueFactory = _ => "",
        };
        var command = new Command("bench", "Recommendation benchmark: LMIndexer IDs vs popularity, rq-VAE IDs and random IDs on one split, recorded in the bench results.")
        {
            data, indexDir, outDir, systems, steps, batch, lr, warmup, dropout, evalEvery, validationLimit, windows, source, itemTokens, sourceTokens, testLimit, docs, name, sasrecSteps, sasrecEvalEvery, sasrecMaxLength, sasrecGrid, sasrecEnsembleSeeds, reuse, validateOnly, refit, ranking,
            freshModel, modelSize, weightDecay, labelSmoothing, weightAverage, decay, historyDropout, itemDropout, itemInit, denseLoss, groupByLength, ensembleSeeds,
        };
        common.AddTo(command);
        command.SetAction((result, cancellation) => CliErrors.RunAsync(() =>
        {
            var chosen = result.GetValue(systems)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (chosen.FirstOrDefault(s => !KnownSystems.Contains(s)) is { } unknown)
                throw new CliUsageException($"Unknown system '{unknown}'; expected {string.Join(", ", KnownSystems)}.");
            var freshSize = FineTuneCommandOptions.CheckedModelSize(result.GetValue(modelSize), result.GetValue(freshModel));
            if (chosen.Contains("sasrec") && (result.GetValue(sasrecSteps) < 1 || result.GetValue(sasrecEvalEvery) < 1 || result.GetValue(sasrecMaxLength) < 1))
                throw new CliUsageException("--sasrec-steps, --sasrec-eval-every and --sasrec-max-length must be at least 1.");
            var sasrecCandidates = chosen.Contains("sasrec") ? CheckedSasRecGrid(result.GetValue(sasrecGrid)!, new SasRecOptions
            {
                Steps = result.GetValue(sasrecSteps),
                EvalEvery = result.GetValue(sasrecEvalEvery),
                Seed = result.GetValue(common.Seed),
                Model = new SasRecConfig { ItemCount = 1, MaxLength = result.GetValue(sasrecMaxLength) },   // sized to the ID table when it is read
                Refit = result.GetValue(refit),
            }) : [];
            var refitting = result.GetValue(refit);
            if (refitting && sasrecCandidates.Count > 1)
                throw new CliUsageException("--refit trains settings chosen before; a --sasrec-grid of several settings would be chosen on test. Give the kept settings alone.");
            var extraSeeds = CheckedEnsembleSeeds(result.GetValue(ensembleSeeds)!, result.GetValue(common.Seed), chosen);
            var sasrecSeeds = CheckedSeeds("--sasrec-ensemble-seeds", result.GetValue(sasrecEnsembleSeeds)!, result.GetValue(common.Seed));
            if (sasrecSeeds.Count > 0 && !chosen.Contains("sasrec"))
                throw new CliUsageException("--sasrec-ensemble-seeds ensembles the sasrec system; add it to --systems.");
            var validatingOnly = result.GetValue(validateOnly);
            if (validatingOnly && chosen.FirstOrDefault(s => s is "popularity" or "markov") is { } counted)
                throw new CliUsageException($"--validate-only trains networks and {counted} has nothing to choose on validation; leave it out of --systems.");
            if (validatingOnly && refitting)
                throw new CliUsageException("--validate-only and --refit exclude each other: a refit validates nothing.");
            var fixedRanking = CheckedRanking(result.GetValue(ranking), refitting, result.GetValue(denseLoss));
            if (validatingOnly && sasrecSeeds.Count > 0)
                throw new CliUsageException("--validate-only trains the grid at --seed alone; train an ensemble member as its own run (--seed N, the kept settings) before the run that ensembles it.");
            // Each further seed's bundle folder and row, and the row of the seeds decoded together.
            static string SeedFolder(int seed) => $"lmindexer-seed{seed}";
            var ensembleRow = $"lmindexer×{extraSeeds.Count + 1}";
            var fineTune = FineTuneCommandOptions.WithRegularisers(
                BenchFineTuning.Options(result.GetValue(steps), result.GetValue(batch), result.GetValue(lr), result.GetValue(evalEvery), result.GetValue(common.Seed),
                    result.GetValue(warmup), result.GetValue(validationLimit), FineTuneCommandOptions.CheckedDecay(result.GetValue(decay)!)),
                result.GetValue(weightDecay), result.GetValue(labelSmoothing), result.GetValue(weightAverage));
            var sourceOptions = new HistorySourceOptions
            {
                Mode = HistorySourceOptions.ParseMode(result.GetValue(source)!),
                MaxSourceTokens = result.GetValue(sourceTokens),
                MaxItemTokens = result.GetValue(itemTokens),
            };
            fineTune = FineTuneCommandOptions.WithSourceDropout(fineTune, result.GetValue(historyDropout), result.GetValue(itemDropout), sourceOptions.Mode) with { GroupByLength = result.GetValue(groupByLength) };
            fineTune = FineTuneCommandOptions.WithDenseLoss(fineTune, result.GetValue(denseLoss), sourceOptions.Mode);
            FineTuneCommandOptions.CheckItemSource(sourceOptions.Mode, result.GetValue(freshModel));
            if (chosen.Contains(NoIds))
                RequireIdAndItemSources(sourceOptions.Mode);
            var vectorInit = FineTuneCommandOptions.CheckedItemInit(result.GetValue(itemInit)!, sourceOptions.Mode);
            var catalog = RecCommands.LoadCatalog(result.GetValue(data)!);
            common.InitializeRuntime(result);
            var clock = Stopwatch.StartNew();
            var plan = new GenerativePlan
            {
                Source = sourceOptions,
                Windows = RecCommands.ParseWindows(result.GetValue(windows)!),
                Refit = refitting,
                Dropout = FineTuneCommandOptions.CheckedDropout(result.GetValue(dropout)),
                FreshModel = result.GetValue(freshModel),
                FreshModelSize = freshSize,
                FineTune = fineTune,
                ItemInit = vectorInit,
            };
            var evaluation = plan.FineTune.Evaluation;
            var results = new Dictionary<string, RankingBenchResult>();
            // Popularity and SASRec rank the LMIndexer table's items, so every system sees one item set.
            var lmindexerTable = new Lazy<Core.Indexing.SemanticIdTable>(() => Core.Indexing.SemanticIdTable.Load(
                Path.Combine(result.GetValue(indexDir)!.FullName, "lmindexer", Core.Indexing.SemanticIdTable.FileName)));
            var limit = result.GetValue(testLimit);
            // Every system's test list keeps catalog order; one that drops no leave-one-out test user
            // ranks the same users in the same order, so its per-user metrics pair with another's.
            var looTest = new Lazy<IReadOnlyList<NextItemExample>>(() => LeaveOneOut.Split(catalog.Users, refit: refitting).Test);
            var complete = new HashSet<string>(StringComparer.Ordinal);
            void Covers(string system, int unlimitedExamples)
            {
                if (unlimitedExamples == looTest.Value.Count)
                    complete.Add(system);
            }
            // The step each trained system kept, chosen on validation before its one test decode.
            var bestSteps = new Dictionary<string, int>(StringComparer.Ordinal);
            // How each trained network ranks its test users, chosen on its validation users.
            var rankings = new Dictionary<string, RankingSelectionResult>(StringComparer.Ordinal);
            var gridChoice = new List<CandidateScore>();
            string? sasrecChoice = null;
            foreach (var system in chosen)
            {
                cancellation.ThrowIfCancellationRequested();
                var indexName = system is "random" or NoIds ? "lmindexer" : system;
                var indexPath = Path.Combine(result.GetValue(indexDir)!.FullName, indexName);
                if (system is "popularity" or "markov")
                {
                    var table = lmindexerTable.Value;
                    var itemIndex = table.ItemIds.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i, StringComparer.Ordinal);
                    // Count-based baselines read the history as item indices instead of tokens.
                    var test = RecommendationTask.ItemIndexExamples(looTest.Value, itemIndex);
                    Covers(system, test.Count);
                    if (system == "popularity")
                    {
                        var popular = RecommendationTask.Popularity(catalog.Users, itemIndex, refitting);
                        results[system] = new(GenerativeEvaluator.EvaluateRanking(Limit(test, limit), _ => popular, evaluation), 0, refitting ? "training + validation counts" : "training-split counts");
                    }
                    else
                    {
                        var transitions = ItemTransitionRanker.Fit(catalog.Users, itemIndex, refitting);
                        var depth = evaluation.Cutoffs.Max();
                        results[system] = new(GenerativeEvaluator.EvaluateRanking(Limit(test, limit), e => transitions.Rank(e.Source, depth), evaluation), 0,
                            refitting ? "last item's training + validation successors, then popularity" : "last item's training-split successors, then popularity");
                    }
                    continue;
                }
                if (system == "sasrec")
                {
                    var table = lmindexerTable.Value;
                    SasRecOptions Sized(SasRecOptions options, int seed) => options with { Seed = seed, Model = options.Model! with { ItemCount = table.ItemIds.Count } };
                    var store = Path.Combine(result.GetValue(outDir)!.FullName, "sasrec");
                    // Loaded from the store with --reuse when trained before with these settings; saved there when trained now.
                    SasRecOutcome Trained(string label, SasRecOptions options)
                    {
                        var folder = SasRecStore.Folder(store, options, table.ItemIds);
                        if (result.GetValue(reuse) && SasRecStore.TryLoad(folder, options, table.ItemIds) is { } saved)
                        {
                            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"{label}: loaded from {folder} (best step {saved.BestStep})");
                            return saved;
                        }
                        // A run stopped part-way resumes from its last validation.
                        var checkpoint = folder + ".checkpoint";
                        var trained = TrainingProgressView.Run(label, options.Steps, progress => SasRecTrainer.Train(catalog, table.ItemIds, options, progress, checkpoint, cancellation));
                        SasRecStore.Save(folder, options, trained);
                        SasRecTrainer.DeleteCheckpoint(checkpoint);
                        return trained;
                    }
                    // Each grid candidate trains in turn; only the best on validation is kept, and only it meets test.
                    SasRecOutcome? kept = null;
                    SasRecCandidate? keptCandidate = null;
                    var keptScore = double.NegativeInfinity;
                    var validationTable = new Table().Title($"sasrec validation, seed {result.GetValue(common.Seed)}")
                        .AddColumn("candidate").AddColumn(new TableColumn("best step").RightAligned()).AddColumn(new TableColumn("ndcg@10").RightAligned())
                        .AddColumn(new TableColumn("recall@10").RightAligned()).AddColumn(new TableColumn("train s").RightAligned());
                    foreach (var candidate in sasrecCandidates)
                    {
                        var options = Sized(candidate.Options, candidate.Options.Seed);
                        var label = sasrecCandidates.Count == 1 ? "sasrec" : $"sasrec {candidate.Name}";
                        var trained = Trained(label, options);
                        var best = trained.Validations.Single(v => v.Step == trained.BestStep).Metrics;
                        var score = best["ndcg@10"];
                        validationTable.AddRow(Markup.Escape(candidate.Name), trained.BestStep.ToString(CultureInfo.InvariantCulture), score.ToString("F4", CultureInfo.InvariantCulture),
                            best["recall@10"].ToString("F4", CultureInfo.InvariantCulture), trained.Seconds.ToString("F0", CultureInfo.InvariantCulture));
                        if (sasrecCandidates.Count > 1)
                            gridChoice.Add(new CandidateScore($"sasrec[{candidate.Name}]", score));
                        if (score > keptScore)
                        {
                            kept?.Dispose();
                            (kept, keptCandidate, keptScore) = (trained, candidate, score);
                        }
                        else
                        {
                            trained.Dispose();
                        }
                    }
                    using var sasrec = kept!;
                    AnsiConsole.Write(validationTable);
                    if (validatingOnly)
                    {
                        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"best on validation: {keptCandidate!.Name} (no test decoded)");
                        continue;
                    }
                    if (sasrecCandidates.Count > 1)
                        sasrecChoice = $"sasrec[{keptCandidate!.Name}]@{sasrec.BestStep}";
                    var sasrecTest = SasRecTrainer.TestExamples(catalog, table.ItemIds);
                    Covers(system, sasrecTest.Count);
                    bestSteps[system] = sasrec.BestStep;
                    if (limit > 0)
                        sasrecTest = [.. sasrecTest.Take(limit)];
                    var evaluated = SasRecTrainer.Evaluate(sasrec.Model, sasrecTest, evaluation.Cutoffs);
                    var shape = sasrec.Model.Config;
                    var grid = sasrecCandidates.Count == 1 ? "" : $"; chosen on validation among {sasrecCandidates.Count} settings ({result.GetValue(sasrecGrid)})";
                    results[system] = new(evaluated, sasrec.Seconds, string.Create(CultureInfo.InvariantCulture,
                        $"d {shape.Hidden}, {shape.Layers} layers, {shape.Heads} heads, dropout {shape.Dropout:G2}, lr {keptCandidate!.Options.LearningRate:G2}, last {shape.MaxLength} items, full-softmax CE; best step {sasrec.BestStep}{grid}"), sasrec.Validations);
                    AnsiConsole.Write(RecCommands.MetricsTable("sasrec test", evaluated));
                    if (sasrecSeeds.Count > 0)
                    {
                        // The kept settings at the further seeds, fixed on the command line before any test decode.
                        var members = new List<SasRecOutcome>();
                        try
                        {
                            foreach (var seed in sasrecSeeds)
                            {
                                var options = Sized(keptCandidate.Options, seed);
                                members.Add(Trained($"sasrec seed {seed}", options));
                            }
                            var ensembled = SasRecTrainer.Evaluate([sasrec.Model, .. members.Select(m => m.Model)], sasrecTest, evaluation.Cutoffs);
                            results[SasRecEnsemble] = new(ensembled, sasrec.Seconds + members.Sum(m => m.Seconds), string.Create(CultureInfo.InvariantCulture,
                                $"sasrec×{members.Count + 1}: the kept settings at seeds {result.GetValue(common.Seed)}, {string.Join(", ", sasrecSeeds)}, items ranked by the members' mean log-probability"));
                            AnsiConsole.Write(RecCommands.MetricsTable($"{SasRecEnsemble} test", ensembled));
                            if (complete.Contains(system))
                                complete.Add(SasRecEnsemble);   // the same test users as its first member
                        }
                        finally
                        {
                            foreach (var member in members)
                                member.Dispose();
                        }
                    }
                    continue;
                }
                Debug.Assert(Seq2SeqSystems.Contains(system), $"{system} is neither a baseline nor a seq2seq system");
                Record(system, Seq2Seq(system, system, plan, indexPath));
                if (system == "lmindexer" && extraSeeds.Count > 0)
                {
                    foreach (var seed in extraSeeds)
                        Record(SeedFolder(seed), Seq2Seq(system, SeedFolder(seed), plan with { FineTune = plan.FineTune with { Seed = seed } }, indexPath));
                    if (!validatingOnly)
                        results[ensembleRow] = Ensemble(system, [system, .. extraSeeds.Select(SeedFolder)]);
                }
            }
            if (validatingOnly)
                return Task.FromResult(0);
            var reported = chosen.SelectMany(s => s == "lmindexer" && extraSeeds.Count > 0 ? [s, .. extraSeeds.Select(SeedFolder), ensembleRow]
                : s == "sasrec" && sasrecSeeds.Count > 0 ? [s, SasRecEnsemble]
                : new[] { s }).ToArray();
            var protocol = Protocol([result.GetValue(common.Seed), .. extraSeeds, .. sasrecSeeds.Where(s => !extraSeeds.Contains(s))], reported, results, bestSteps, gridChoice, sasrecChoice, refitting, rankings, fixedRanking);
            Report(result, catalog, reported, results, plan, clock.Elapsed.TotalSeconds, limit, protocol, complete);
            return Task.FromResult(0);

            void Record(string row, RankingBenchResult? outcome)
            {
                if (outcome is not null)
                    results[row] = outcome;
            }

            // One seq2seq recommender on the system's IDs, trained into <out-dir>/<folder> or, with --reuse, evaluated from there;
            // with --validate-only its validation curve is printed and nothing is decoded (null).
            RankingBenchResult? Seq2Seq(string system, string folder, GenerativePlan basePlan, string indexPath)
            {
                if (system == NoIds)
                    basePlan = WithoutIdTokens(basePlan, lmindexerTable.Value.Ids[0].Length);
                var servingPath = Path.Combine(result.GetValue(outDir)!.FullName, folder);
                if (result.GetValue(reuse) && Reusable(servingPath, indexPath, basePlan))
                {
                    if (validatingOnly)
                    {
                        var saved = Core.Checkpoints.ModelBundle.ReadManifest(servingPath).Properties;
                        AnsiConsole.Write(ValidationTable($"{folder} (bundle reused)", ValidationCurve.Read(saved, plan.FineTune.SelectionMetric), plan.FineTune.SelectionMetric));
                        return null;
                    }
                    using var serving = ServingBundle.Load(servingPath, TorchRuntime.Device);
                    var reusedTask = TaskOf(serving);
                    var reusedTest = Limit(reusedTask.Test, limit);
                    Covers(folder, reusedTask.Test.Count);
                    if (int.TryParse(serving.Bundle.Manifest.Properties.GetValueOrDefault("bestStep"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var reusedStep))
                        bestSteps[folder] = reusedStep;
                    var properties = serving.Bundle.Manifest.Properties;
                    var reusedRanking = ReusedRanking(serving, folder, properties, reusedTask.Validation);
                    var reusedResult = ProgressBar.Run($"rec {folder} test", reusedTest.Count,
                        progress => GenerativeEvaluator.Evaluate(serving.Bundle.Model, reusedTest, serving.Tables, reusedRanking.Apply(evaluation), progress, cancellation));
                    AnsiConsole.Write(RecCommands.MetricsTable($"{folder} test", reusedResult));
                    return new(reusedResult, double.Parse(properties.GetValueOrDefault("trainSeconds", "0"), CultureInfo.InvariantCulture),
                        $"best step {properties.GetValueOrDefault("bestStep", "?")}, ranked {reusedRanking.Name} (bundle reused)", ValidationCurve.Read(properties, plan.FineTune.SelectionMetric));
                }
                if (!Directory.Exists(indexPath))
                    throw new CliUsageException($"{indexPath} does not exist; build the index bundles with 'lmindexer-bench index bench' first.");
                var systemPlan = basePlan with
                {
                    Ids = system == "random" ? IdSource.Random : IdSource.Bundle,
                    Version = system,
                    FineTune = basePlan.FineTune with { CheckpointDirectory = Path.Combine(result.GetValue(outDir)!.FullName, folder + ".checkpoint") },
                };
                var trainClock = Stopwatch.StartNew();
                using var outcome = TrainingProgressView.Run($"rec {folder}", systemPlan.FineTune.Steps,
                    progress => RecommenderTraining.Run(catalog, indexPath, systemPlan, progress, cancellation));
                var trainSeconds = trainClock.Elapsed.TotalSeconds;
                outcome.Bundle.Manifest.Properties["trainSeconds"] = trainSeconds.ToString("F0", CultureInfo.InvariantCulture);
                fixedRanking?.WriteTo(outcome.Bundle.Manifest.Properties);
                outcome.Save(servingPath);
                GenerativeFineTuner.DeleteCheckpoint(systemPlan.FineTune.CheckpointDirectory!);
                if (validatingOnly)
                {
                    AnsiConsole.Write(ValidationTable(folder, outcome.Report.Validations, plan.FineTune.SelectionMetric));
                    AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"{folder}: kept step {outcome.Report.BestStep} (no test decoded)");
                    return null;
                }
                using var trie = new TrieTables(outcome.Trie, TorchRuntime.Device);
                var testSet = Limit(outcome.Data.Test, limit);
                Covers(folder, outcome.Data.Test.Count);
                bestSteps[folder] = outcome.Report.BestStep;
                if (RankingSelectionResult.ReadFrom(outcome.Bundle.Manifest.Properties) is { } trainedRanking)
                    rankings[folder] = trainedRanking;
                var testResult = ProgressBar.Run($"rec {folder} test", testSet.Count,
                    progress => GenerativeEvaluator.Evaluate(outcome.Bundle.Model, testSet, trie, outcome.Ranking.Apply(evaluation), progress, cancellation));
                AnsiConsole.Write(RecCommands.MetricsTable($"{folder} test", testResult));
                return new(testResult, trainSeconds, $"best step {outcome.Report.BestStep}, ranked {outcome.Ranking.Name}", outcome.Report.Validations);
            }

            // A reused network ranks as its training chose; one trained before that choice existed
            // (or by an older tool) chooses now, on the same validation users its step was kept on.
            RankingChoice ReusedRanking(ServingBundle serving, string folder, IReadOnlyDictionary<string, string> properties, IReadOnlyList<GenerativeExample> validationUsers)
            {
                if (fixedRanking is not null)
                    return fixedRanking;
                if (RankingSelectionResult.ReadFrom(properties) is { } recorded)
                {
                    rankings[folder] = recorded;
                    return recorded.Choice;
                }
                if (!serving.Bundle.Model.Config.DenseItemHead || refitting || plan.FineTune.ValidationLimit <= 0)
                    return serving.Ranking;
                var validation = validationUsers.Take(plan.FineTune.ValidationLimit).ToList();
                var candidates = RankingSelection.Candidates(serving.Bundle.Model).Count;
                var chosen = ProgressBar.Run($"rec {folder} ranking (validation)", validation.Count * candidates,
                    progress => RankingSelection.Choose(serving.Bundle.Model, validation, serving.Tables, plan.FineTune.Evaluation, plan.FineTune.SelectionMetric, progress, cancellation));
                rankings[folder] = chosen;
                return chosen.Choice;
            }

            // The test users as a saved bundle's IDs and history source encode them.
            List<GenerativeExample> TestSet(ServingBundle serving, out int unlimited)
            {
                var test = TaskOf(serving).Test;
                unlimited = test.Count;
                return Limit(test, limit);
            }

            // The leave-one-out examples as a saved bundle's IDs and history source encode them.
            TaskData TaskOf(ServingBundle serving)
            {
                var source = new HistorySource(serving.Bundle.Tokenizer, catalog.Items.ToDictionary(i => i.ItemId, StringComparer.Ordinal), serving.Table, serving.Source);
                return RecommendationTask.Build(catalog, serving.Table, source);
            }

            // The saved recommenders of <out-dir>/<folders> decoded together; their training time adds up.
            RankingBenchResult Ensemble(string system, IReadOnlyList<string> folders)
            {
                var members = new List<ServingBundle>();
                try
                {
                    foreach (var folder in folders)
                        members.Add(ServingBundle.Load(Path.Combine(result.GetValue(outDir)!.FullName, folder), TorchRuntime.Device));
                    var first = members[0];
                    var test = TestSet(first, out var unlimited);
                    Covers($"{system}×{members.Count}", unlimited);
                    var ensembled = ProgressBar.Run($"rec {system}×{members.Count} test", test.Count,
                        progress => GenerativeEvaluator.Evaluate([.. members.Select(m => m.Bundle.Model)], test, first.Tables, evaluation, progress, cancellation));
                    AnsiConsole.Write(RecCommands.MetricsTable($"{system}×{members.Count} test", ensembled));
                    var seconds = members.Sum(m => double.Parse(m.Bundle.Manifest.Properties.GetValueOrDefault("trainSeconds", "0"), CultureInfo.InvariantCulture));
                    return new(ensembled, seconds, $"the {members.Count} seeds above, beams scored by their mean log-probability");
                }
                finally
                {
                    foreach (var member in members)
                        member.Dispose();
                }
            }
        }));

        void Report(ParseResult result, Catalog catalog, string[] chosen, Dictionary<string, RankingBenchResult> results, GenerativePlan plan, double wall, int limit,
            ProtocolRecord protocol, IReadOnlySet<string> complete)
        {
            var (rows, table, ratios) = RankingBenchReport.Build(chosen, results, "users", ["recall@5", "ndcg@5"]);
            var paired = PairedAgainstBaselines(chosen, results, complete, rows);
            var testUsers = results.Values.First().Test.Examples;
            var commandLine = RecordedCommand.Of(result);
            // The seq2seq recipe is described only when a seq2seq system ran: a SASRec-only run trains none.
            var seq2seq = chosen.Any(Seq2SeqSystems.Contains);
            string Seq2SeqText() => string.Create(CultureInfo.InvariantCulture,
                $" Every seq2seq system {NetworkText(plan, result.GetValue(indexDir)!.FullName)} for {plan.FineTune.Steps} steps × {plan.FineTune.BatchSize} (lr {plan.FineTune.Optimizer.LearningRate:G3}, {WarmupText(plan)}{plan.FineTune.Optimizer.Decay.ToString().ToLowerInvariant()} decay, dropout {(plan.Dropout is { } rate ? rate.ToString("G2", CultureInfo.InvariantCulture) : "as the bundle")}{RegularisersText(plan)}, {(plan.Refit ? "the last weights kept" : $"best of validations on {plan.FineTune.ValidationLimit:N0} users every {plan.FineTune.EvalEvery} steps")}), {WindowsText(plan)}, source `{HistorySourceOptions.ModeName(plan.Source.Mode)}` ≤ {plan.Source.MaxSourceTokens} tokens; only the IDs differ (`random` = random codes of the LMIndexer table's shape){(chosen.Contains(NoIds) ? "; `no-ids` reads each history item by its item token alone (as many items per source, no item-vector dropout) and writes the LMIndexer IDs" : "")}.");
            BenchmarkReport.Write(result.GetValue(docs)!.FullName, result.GetValue(name)!, commandLine, wall, rows,
                string.Create(CultureInfo.InvariantCulture,
                    $"{(seq2seq ? "Generative sequential" : "Sequential")} recommendation on `{result.GetValue(data)!.Name}` ({catalog.Items.Count:N0} items, {catalog.Users.Count:N0} users), leave-one-out{(plan.Refit ? ", every system refit on its users' training and validation targets with settings fixed before the run (the served-model protocol)" : "")}, {testUsers:N0} test users{(limit > 0 ? " (limited)" : "")}, full ranking{(seq2seq ? " with 20 trie-constrained beams" : "")}.{(seq2seq ? Seq2SeqText() : "")}"),
                table,
                ratios + "Paper (t5-base, 8 GPUs, 15k steps × 32): LMIndexer Recall@5 .0415 / NDCG@5 .0262; TIGER .0454 / .0321." + paired,
                protocol, PerUser(chosen, results, complete));
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"benchmark written to {result.GetValue(docs)!.FullName} in {wall / 60:F1} min");
        }

        return command;
    }

    /// <summary>
    /// The run's protocol block: the seeds fixed on the command line, each trained system's kept step
    /// (chosen on its validation users before its one test decode) and the validation curve behind it.
    /// </summary>
    /// <param name="grid">SASRec's grid candidates with their best validation NDCG@10, when a grid ran.</param>
    /// <param name="sasrecChoice">The grid candidate kept and its step, when a grid ran.</param>
    public static ProtocolRecord Protocol(IReadOnlyList<int> seeds, IReadOnlyList<string> systems, IReadOnlyDictionary<string, RankingBenchResult> results,
        IReadOnlyDictionary<string, int> bestSteps, IReadOnlyList<CandidateScore> grid, string? sasrecChoice, bool refit = false,
        IReadOnlyDictionary<string, RankingSelectionResult>? rankings = null, RankingChoice? fixedRanking = null)
    {
        const string metric = "ndcg@10";
        rankings ??= new Dictionary<string, RankingSelectionResult>();
        var candidates = systems
            .SelectMany(system => (results[system].Validations ?? []).Where(v => v.Metrics.ContainsKey(metric))
                .Select(v => new CandidateScore(string.Create(CultureInfo.InvariantCulture, $"{system}@{v.Step}"), v.Metrics[metric]))
                .Concat(rankings.TryGetValue(system, out var ranking) ? ranking.Scores.Select(r => new CandidateScore($"{system} ranked {r.Candidate.Name}", r.Score)) : []))
            .Concat(grid)
            .ToList();
        var choices = systems.Where(bestSteps.ContainsKey)
            .Select(s => s == "sasrec" && sasrecChoice is not null ? sasrecChoice
                : string.Create(CultureInfo.InvariantCulture, $"{s}@{bestSteps[s]}{Ranked(s)}")).ToList();
        return new ProtocolRecord(refit ? RefitSelection : "validation", 1, seeds, metric, choices.Count == 0 ? null : string.Join(", ", choices), candidates);

        // How a network ranked test: chosen on its validation users, or fixed on the command line (a refit).
        string Ranked(string system) => rankings.TryGetValue(system, out var ranking) ? $" ranked {ranking.Choice.Name}"
            : fixedRanking is not null && system != "sasrec" ? $" ranked {fixedRanking.Name}" : "";
    }

    /// <summary>
    /// <c>lmindexer</c> minus each baseline (not its own other seeds or ensembles) in Recall@10 and
    /// NDCG@10 over the same test users, with 95 % paired bootstrap intervals over the users; a
    /// system that ranked fewer users than the leave-one-out test split does not pair and is named.
    /// </summary>
    public static string PairedAgainstBaselines(IReadOnlyList<string> systems, IReadOnlyDictionary<string, RankingBenchResult> results, IReadOnlySet<string> complete,
        List<BenchmarkRow> rows)
    {
        const string ours = "lmindexer";
        if (!systems.Contains(ours) || !results.TryGetValue(ours, out var lmindexer))
            return "";
        var lines = new StringBuilder("\n\n");
        foreach (var baseline in systems.Where(s => !s.StartsWith(ours, StringComparison.Ordinal)))
        {
            if (!complete.Contains(ours) || !complete.Contains(baseline))
            {
                lines.AppendLine(CultureInfo.InvariantCulture, $"- {ours} − {baseline}: not paired (one of them ranked fewer users than the test split holds).");
                continue;
            }
            foreach (var metric in SeedRuns.PairedMetrics)
            {
                var interval = PairedBootstrap.Difference(lmindexer.Test.PerExample[metric], results[baseline].Test.PerExample[metric]);
                rows.Add(BenchmarkRow.Difference(ours, baseline, metric, interval));
                lines.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"- {ours} − {baseline}, {metric} over the same {lmindexer.Test.Examples:N0} test users: {interval.Difference:+0.0000;-0.0000} (95 % paired bootstrap {interval.Low:+0.0000;-0.0000} … {interval.High:+0.0000;-0.0000})."));
            }
        }
        return lines.Length <= 2 ? "" : lines.ToString().TrimEnd();
    }

    /// <summary>
    /// The per-user metrics saved beside the result (<see cref="PerUserMetrics"/>): systems that ranked
    /// every leave-one-out test user, in the split's order, so seeds recorded apart pair user by user.
    /// </summary>
    public static Dictionary<string, IReadOnlyDictionary<string, double[]>> PerUser(IReadOnlyList<string> systems, IReadOnlyDictionary<string, RankingBenchResult> results,
        IReadOnlySet<string> complete) =>
        systems.Where(s => complete.Contains(s) && results.ContainsKey(s) && results[s].Test.PerExample.Count > 0)
            .ToDictionary(s => s, s => results[s].Test.PerExample, StringComparer.Ordinal);

    /// <summary>The protocol's <c>selected_on</c> under <c>--refit</c>: nothing is chosen in the run itself.</summary>
    public const string RefitSelection = "a plain run's validation, given on the command line (refit on training + validation)";

    /// <summary>Refuses a no-ids ablation of a recipe that does not read <c>ids+items</c> sources (before any training).</summary>
    private static void RequireIdAndItemSources(SourceMode mode)
    {
        if (mode != SourceMode.IdsAndItems)
            throw new CliUsageException("The no-ids system reads the recipe's ids+items sources without their ID tokens; run it with --source ids+items.");
    }

    /// <summary>
    /// The no-ids ablation of an <c>ids+items</c> recipe: each history item read by its item token
    /// alone, as many items per source as the recipe reads, and no item-vector dropout (the item
    /// token is the whole item there, so dropping it would be history dropout). The decoder still
    /// writes the IDs, so only what the source holds differs. <paramref name="idLength"/>: tokens per ID.
    /// </summary>
    public static GenerativePlan WithoutIdTokens(GenerativePlan plan, int idLength)
    {
        RequireIdAndItemSources(plan.Source.Mode);
        var items = (plan.Source.MaxSourceTokens - 1) / (idLength + 1);
        return plan with
        {
            Source = plan.Source with { Mode = SourceMode.Items, MaxSourceTokens = items + 1 },
            FineTune = plan.FineTune with { ItemDropout = 0 },
        };
    }

    private static string NetworkText(GenerativePlan plan, string indexDirectory)
    {
        var manifest = Path.Combine(indexDirectory, "lmindexer");
        var baseConfig = File.Exists(Path.Combine(manifest, Core.Checkpoints.ModelBundle.ManifestFile))
            ? Core.Checkpoints.ModelBundle.ReadManifest(manifest).Config
            : null;
        if (!plan.FreshModel)
            return $"fine-tunes the same base network (d_model {baseConfig?.DModel.ToString(CultureInfo.InvariantCulture) ?? "?"})";
        var shape = plan.FreshModelSize is { } size ? T5Config.Preset(size, baseConfig?.VocabSize ?? 1) : baseConfig;
        return shape is null
            ? "trains the same fresh network"
            : string.Create(CultureInfo.InvariantCulture,
                $"trains the same fresh network ({plan.FreshModelSize ?? "the index bundle's shape"}: d_model {shape.DModel}, d_ff {shape.DFf}, {shape.NumLayers} + {shape.NumDecoderLayers} layers{(plan.IdsOnlyVocabulary ? ", a vocabulary of ID tokens only" : "")}{(HistorySourceOptions.ReadsItemTokens(plan.Source.Mode) ? ", plus an encoder vector per catalog item" : "")})");
    }

    private static string WarmupText(GenerativePlan plan) =>
        plan.FineTune.Optimizer.WarmupRatio > 0 ? string.Create(CultureInfo.InvariantCulture, $"{plan.FineTune.Optimizer.WarmupRatio:P0} warm-up, ") : "";

    private static string RegularisersText(GenerativePlan plan) =>
        (plan.FineTune.Optimizer.WeightDecay > 0 ? string.Create(CultureInfo.InvariantCulture, $", weight decay {plan.FineTune.Optimizer.WeightDecay:G3}") : "")
        + (plan.FineTune.LabelSmoothing > 0 ? string.Create(CultureInfo.InvariantCulture, $", label smoothing {plan.FineTune.LabelSmoothing:G3}") : "")
        + (plan.FineTune.WeightAverage > 0 ? string.Create(CultureInfo.InvariantCulture, $", a moving average of the weights (decay {plan.FineTune.WeightAverage:G4}) validated and kept") : "")
        + (plan.FineTune.HistoryDropout > 0 ? string.Create(CultureInfo.InvariantCulture, $", history items but the newest dropped with p {plan.FineTune.HistoryDropout:G3}") : "")
        + (plan.FineTune.ItemDropout > 0 ? string.Create(CultureInfo.InvariantCulture, $", item vectors dropped with p {plan.FineTune.ItemDropout:G3}") : "")
        + plan.ItemInit switch
        {
            ItemVectorInit.Ids => ", item vectors initialised from their IDs' token vectors",
            ItemVectorInit.Zero => ", item vectors initialised at zero",
            _ => "",
        }
        + (plan.FineTune.DenseLoss > 0 ? string.Create(CultureInfo.InvariantCulture, $", a dense item head trained beside the IDs (loss weight {plan.FineTune.DenseLoss:G3}) and items ranked as the validation users choose (the ID beams, the head, or both with the head weighted 0.25 to 4)") : "");

    private static string WindowsText(GenerativePlan plan) =>
        (plan.Windows == TrainingWindows.AllPrefixes ? "every prefix of every training sequence" : $"{plan.Passes} sampled windows per user")
        + (plan.FineTune.GroupByLength ? " in batches grouped by source length" : "");

    /// <summary>A network's validation points of the selection metric, for runs that decode no test.</summary>
    private static Table ValidationTable(string title, IReadOnlyList<ValidationPoint> validations, string metric)
    {
        var table = new Table().Title(Markup.Escape($"{title} validation")).AddColumn(new TableColumn("step").RightAligned()).AddColumn(new TableColumn(metric).RightAligned());
        foreach (var point in validations.Where(v => v.Metrics.ContainsKey(metric)))
            table.AddRow(point.Step.ToString(CultureInfo.InvariantCulture), point.Metrics[metric].ToString("F4", CultureInfo.InvariantCulture));
        return table;
    }

    /// <summary>
    /// <c>--ranking</c>: a refit fixes the ranking its plain run chose on validation, since it has no
    /// validation users to choose on; a plain run chooses itself, so giving one there is refused.
    /// </summary>
    public static RankingChoice? CheckedRanking(string? name, bool refitting, double denseLoss)
    {
        if (name is null)
            return null;
        if (!refitting)
            throw new CliUsageException("--ranking fixes for a refit what its plain run chose on validation; a plain run chooses on validation itself. Give it with --refit.");
        var choice = RankingChoice.Parse(name)
            ?? throw new CliUsageException($"--ranking '{name}' is not generative, dense or hybrid@W with a weight W of at least 0.");
        if (choice.Mode != RankingMode.Generative && denseLoss <= 0)
            throw new CliUsageException($"--ranking {choice.Name} reads the dense item head, which only --dense-loss above 0 trains.");
        return choice;
    }

    private static bool Reusable(string servingPath, string indexPath, GenerativePlan plan)
    {
        if (!File.Exists(Path.Combine(servingPath, Core.Checkpoints.ModelBundle.ManifestFile)))
            return false;
        var manifest = Core.Checkpoints.ModelBundle.ReadManifest(servingPath);
        var properties = manifest.Properties;
        // Without --dropout the run trains at the index bundle's rate; bundles from before the
        // override was recorded were trained at that rate too.
        var indexDropout = File.Exists(Path.Combine(indexPath, Core.Checkpoints.ModelBundle.ManifestFile))
            ? Core.Checkpoints.ModelBundle.ReadManifest(indexPath).Config.DropoutRate
            : double.NaN;
        var dropout = (plan.Dropout ?? indexDropout).ToString(CultureInfo.InvariantCulture);
        return properties.GetValueOrDefault("steps") == plan.FineTune.Steps.ToString(CultureInfo.InvariantCulture)
            && GenerativeTraining.OptimizerProperties(plan.FineTune).All(setting =>
                (properties.TryGetValue(setting.Key, out var recorded) ? recorded : GenerativeTraining.UnrecordedOptimizerProperty(setting.Key)) == setting.Value)
            && properties.GetValueOrDefault("source") == HistorySourceOptions.ModeName(plan.Source.Mode)
            && properties.GetValueOrDefault("maxSourceTokens") == plan.Source.MaxSourceTokens.ToString(CultureInfo.InvariantCulture)
            && properties.GetValueOrDefault("windows") == plan.Windows.ToString()
            // Bundles from before the limit was recorded were selected on the bench's 512 users.
            && properties.GetValueOrDefault("validationLimit", BenchFineTuning.DefaultValidationLimit.ToString(CultureInfo.InvariantCulture))
                == plan.FineTune.ValidationLimit.ToString(CultureInfo.InvariantCulture)
            && properties.GetValueOrDefault("freshModel", "false") == (plan.FreshModel ? "true" : "false")
            // Bundles from before the protocol was recorded trained on the plain split.
            && properties.GetValueOrDefault("refit", "false") == (plan.Refit ? "true" : "false")
            // Bundles from before the initialisation was recorded started from random item vectors.
            && properties.GetValueOrDefault("itemInit", ItemVectorInitializer.Name(ItemVectorInit.Random)) == ItemVectorInitializer.Name(plan.ItemInit)
            && properties.GetValueOrDefault("vocabulary", GenerativePlan.DefaultVocabularyName) == plan.VocabularyName
            // The shape decides, not the preset's name: a bundle trained at the same sizes is the same network.
            && (plan.FreshModelSize is not { } size
                || manifest.Config with { DropoutRate = 0 } == T5Config.Preset(size, manifest.Config.VocabSize) with { DropoutRate = 0 })
            && properties.GetValueOrDefault("dropout", indexDropout.ToString(CultureInfo.InvariantCulture)) == dropout
            // Bundles from before the seed was recorded are taken at their folder's word.
            && (!properties.TryGetValue("seed", out var seed) || seed == plan.FineTune.Seed.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>SASRec's candidates for --sasrec-grid (one, the single settings, when it is empty).</summary>
    internal static IReadOnlyList<SasRecCandidate> CheckedSasRecGrid(string spec, SasRecOptions single)
    {
        try
        {
            return SasRecGrid.Candidates(spec, single);
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException("--sasrec-grid: " + e.Message);
        }
    }

    /// <summary>The seeds of --ensemble-seeds: distinct, other than --seed, and only with the lmindexer system.</summary>
    internal static IReadOnlyList<int> CheckedEnsembleSeeds(string text, int seed, IReadOnlyList<string> systems)
    {
        var seeds = CheckedSeeds("--ensemble-seeds", text, seed);
        if (seeds.Count > 0 && !systems.Contains("lmindexer"))
            throw new CliUsageException("--ensemble-seeds ensembles the lmindexer system; add it to --systems.");
        return seeds;
    }

    /// <summary>An ensemble's further seeds: distinct integers other than --seed.</summary>
    private static List<int> CheckedSeeds(string option, string text, int seed)
    {
        var seeds = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
                throw new CliUsageException($"{option} takes comma-separated integers, got '{part}'.");
            if (value == seed || seeds.Contains(value))
                throw new CliUsageException($"{option} repeats seed {value}; each member needs its own (--seed is {seed}).");
            seeds.Add(value);
        }
        return seeds;
    }

    private static List<GenerativeExample> Limit(IReadOnlyList<GenerativeExample> examples, int limit) =>
        limit > 0 ? [.. examples.Take(limit)] : [.. examples];
}
