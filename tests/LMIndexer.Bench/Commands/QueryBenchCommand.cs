using LMIndexer.Research.Protocol;
using TorchSharp;
using LMIndexer.Core.Retrieval;
using LMIndexer.Core.Encoders;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using LMIndexer.Cli.Console;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Data;
using LMIndexer.Core.Downstream;
using LMIndexer.Research.Recommendation;
using LMIndexer.Core.Evaluation;
using LMIndexer.Core.Generation;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Runtime;
using LMIndexer.Core.Text;
using LMIndexer.Core.Training;
using Spectre.Console;
using LMIndexer.Bench.Reporting;
using LMIndexer.Cli.Commands;
using LMIndexer.Core.Model.Bert;

namespace LMIndexer.Bench.Commands;

/// <summary>
/// <c>lmindexer-bench search bench</c> and <c>lmindexer-bench retrieval bench</c>: the same queries, the same
/// fine-tuning budget, LMIndexer IDs against rq-VAE IDs, random IDs and BM25 in one run, into
/// the bench results. The index bundles come from <c>lmindexer-bench index bench</c> on the same items.
/// </summary>
public static class QueryBenchCommand
{
    private static readonly string[] KnownSystems =
        ["bm25", "lmindexer", "rqvae", "random", .. PretrainedEncoderPackage.All.Select(p => DensePrefix + p.Name), .. PretrainedEncoderPackage.All.Select(p => DensePrefix + FineTunedPrefix + p.Name), Hybrid];

    /// <summary>The systems a run makes by default: the fine-tuned encoders take tens of minutes each, so they are asked for by name.</summary>
    private static readonly string[] DefaultSystems = [.. KnownSystems.Where(s => !s.StartsWith(DensePrefix + FineTunedPrefix, StringComparison.Ordinal))];

    // A packaged encoder fine-tuned on the training queries with in-batch negatives, the step (0: as it is) chosen on validation.
    private const string FineTunedPrefix = "ft-";

    // BM25 and a dense encoder fused by reciprocal rank, the encoder and weight chosen on validation: what /api/search serves.
    private const string Hybrid = "hybrid";

    // Dense retrieval (the paper's dual-encoder baseline) with a packaged encoder used as it is.
    private const string DensePrefix = "dense-";

    // The seq2seq system whose model the hybrid may fuse (weight chosen on validation, 0 included).
    private const string GenerativeForHybrid = "lmindexer";

    private static bool NeedsNoModel(string system) => system is "bm25" or Hybrid || system.StartsWith(DensePrefix, StringComparison.Ordinal);

    /// <param name="task">search or retrieval.</param>
    /// <param name="data">The task's data option (items file or corpus directory).</param>
    public static Command Create(string task, Option<FileSystemInfo> data, Func<FileSystemInfo, int, bool?, QueryCorpus> load, string defaultName)
    {
        var common = new CommonOptions();
        var indexDir = new Option<DirectoryInfo>("--index-dir") { Description = "Directory holding the index bundles lmindexer/ and rqvae/ of the same items ('lmindexer-bench index bench').", Required = true };
        var outDir = new Option<DirectoryInfo?>("--out-dir") { Description = "Where the serving bundles are written (default: <index-dir>/" + task + ")." };
        var systems = new Option<string>("--systems") { Description = "Comma-separated: " + string.Join(", ", KnownSystems) + ".", DefaultValueFactory = _ => string.Join(',', DefaultSystems) };
        var steps = new Option<int>("--steps") { Description = "Fine-tuning steps per seq2seq system.", DefaultValueFactory = _ => 2000 };
        var batch = new Option<int>("--batch-size") { Description = "Examples per step.", DefaultValueFactory = _ => 32 };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate.", DefaultValueFactory = _ => 1e-3 };
        var evalEvery = new Option<int>("--eval-every") { Description = "Validation interval (steps).", DefaultValueFactory = _ => 500 };
        var sourceTokens = new Option<int>("--max-source-tokens") { Description = "Query budget in tokens, </s> included.", DefaultValueFactory = _ => 128 };
        var hybridChoice = new Option<string?>("--hybrid") { Description = "ENCODER:WEIGHT[:GENERATIVE] fixes the hybrid's dense encoder and weight, and the weight of the run's lmindexer model (default 0), instead of choosing them on this run's validation queries (what /api/search serves); that encoder's validation grid is still recorded. ENCODER: a packaged encoder, or ft-NAME for one fine-tuned in this run." };
        var itemTexts = new Option<bool?>("--item-text-queries") { Description = "Whether the seq2seq systems also train on each item's (document's) own text as a query for it, DSI's indexing task (default: true for retrieval, false for search)." };
        var indexerEncoder = new Option<bool>("--indexer-encoder") { Description = "Whether the seq2seq systems read queries with the pretrained encoder their index bundle learned its IDs on (false: with the bundle's T5 encoder, as runs before it did).", DefaultValueFactory = _ => true };
        var denseSteps = new Option<int>("--dense-steps") { Description = "Fine-tuning steps of the dense-ft-* systems (in-batch negatives).", DefaultValueFactory = _ => 600 };
        var denseBatch = new Option<int>("--dense-batch-size") { Description = "Query-item pairs per fine-tuning step (the batch's other items are the negatives).", DefaultValueFactory = _ => 32 };
        var denseLr = new Option<double>("--dense-lr") { Description = "Peak learning rate of the dense fine-tuning.", DefaultValueFactory = _ => 2e-5 };
        var denseEvalEvery = new Option<int>("--dense-eval-every") { Description = "Steps between the dense fine-tuning's validations (the best one's weights are kept; step 0 is the encoder as it is).", DefaultValueFactory = _ => 150 };
        var denseTokens = new Option<int>("--dense-max-tokens") { Description = "Longest query or item text in the dense fine-tuning, WordPiece tokens.", DefaultValueFactory = _ => 128 };
        var docs = BenchmarkReport.DirectoryOption();
        var name = new Option<string>("--name") { Description = "Benchmark section name.", DefaultValueFactory = _ => defaultName };
        var command = new Command("bench", $"{task} benchmark: LMIndexer IDs vs rq-VAE IDs, random IDs and BM25 on one query split, recorded in the bench results.")
        {
            data, indexDir, outDir, systems, steps, batch, lr, evalEvery, sourceTokens, itemTexts, indexerEncoder, hybridChoice, denseSteps, denseBatch, denseLr, denseEvalEvery, denseTokens, docs, name,
        };
        common.AddTo(command);
        command.SetAction((result, cancellation) => CliErrors.RunAsync(() =>
        {
            var chosen = result.GetValue(systems)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (chosen.FirstOrDefault(s => !KnownSystems.Contains(s)) is { } unknown)
                throw new CliUsageException($"Unknown system '{unknown}'; expected {string.Join(", ", KnownSystems)}.");
            // The hybrid fuses what the other systems made in this run: it runs last.
            chosen = [.. chosen.Where(s => s != Hybrid), .. chosen.Where(s => s == Hybrid)];
            var fixedHybrid = ParseHybrid(result.GetValue(hybridChoice), chosen);
            var tuning = new DualEncoderTuning(result.GetValue(denseSteps), result.GetValue(denseBatch), result.GetValue(denseLr),
                EvalEvery: result.GetValue(denseEvalEvery), MaxTokens: result.GetValue(denseTokens), Seed: result.GetValue(common.Seed));
            try
            {
                tuning.Validate();
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw new CliUsageException($"--dense-*: {e.Message.Split(Environment.NewLine)[0]}");
            }
            var root = result.GetValue(indexDir)!.FullName;
            // BM25 ranks the items of the first index bundle in use (they all hold the same items).
            var lexicalIndex = chosen.Where(s => !NeedsNoModel(s)).Select(IndexName).FirstOrDefault() ?? "lmindexer";
            foreach (var index in chosen.Where(s => !NeedsNoModel(s)).Select(IndexName).Append(lexicalIndex).Distinct())
            {
                if (!File.Exists(Path.Combine(root, index, SemanticIdTable.FileName)))
                    throw new CliUsageException($"{Path.Combine(root, index)} is not an index bundle; build it with 'lmindexer-bench index bench' first.");
            }
            var seed = result.GetValue(common.Seed);
            var corpus = load(result.GetValue(data)!, seed, result.GetValue(itemTexts));
            common.InitializeRuntime(result);
            var clock = Stopwatch.StartNew();
            var plan = new GenerativePlan
            {
                Source = new HistorySourceOptions { MaxSourceTokens = result.GetValue(sourceTokens) },
                IndexerEncoder = result.GetValue(indexerEncoder),
                FineTune = BenchFineTuning.Options(result.GetValue(steps), result.GetValue(batch), result.GetValue(lr), result.GetValue(evalEvery), seed),
            };
            var evaluation = plan.FineTune.Evaluation;
            plan.FineTune.Validate();
            plan.Source.Validate();
            var outRoot = result.GetValue(outDir)?.FullName ?? Path.Combine(root, task);
            // Runs with different seeds write the same file names; two on one folder would swap models mid-run.
            using var claim = OutputFolderLock.Acquire(outRoot);
            var results = new Dictionary<string, RankingBenchResult>();
            var validationRows = new List<BenchmarkRow>();
            using var textRankers = new TextQueryRankers(corpus,
                SemanticIdTable.Load(Path.Combine(root, lexicalIndex, SemanticIdTable.FileName)),
                CatalogTokenizer.Load(Path.Combine(root, lexicalIndex, ModelBundle.TokenizerFile)), plan.Source.MaxSourceTokens);
            foreach (var system in chosen)
            {
                cancellation.ThrowIfCancellationRequested();
                if (NeedsNoModel(system))
                {
                    var textClock = Stopwatch.StartNew();
                    var (textTest, note) = TextSystem(system, textRankers, corpus, tuning, evaluation, validationRows, fixedHybrid, outRoot, cancellation);
                    results[system] = new(textTest, textClock.Elapsed.TotalSeconds, note);
                    AnsiConsole.Write(RecCommands.MetricsTable($"{system} test", textTest));
                    continue;
                }
                var systemPlan = plan with
                {
                    Ids = system == "random" ? IdSource.Random : IdSource.Bundle,
                    Version = system,
                    FineTune = plan.FineTune with { CheckpointDirectory = Path.Combine(outRoot, system + ".checkpoint") },
                };
                var trainClock = Stopwatch.StartNew();
                var outcome = TrainingProgressView.Run($"{task} {system}", systemPlan.FineTune.Steps,
                    progress => corpus.Train(Path.Combine(root, IndexName(system)), systemPlan, progress, cancellation));
                var trie = new TrieTables(outcome.Trie, TorchRuntime.Device);
                // Owns the model and the trie from here: disposed below unless the hybrid keeps them.
                GenerativeQueryRanker? kept = new(outcome, trie, evaluation);
                try
                {
                    var trainSeconds = trainClock.Elapsed.TotalSeconds;
                    outcome.Save(Path.Combine(outRoot, system));
                    GenerativeFineTuner.DeleteCheckpoint(systemPlan.FineTune.CheckpointDirectory!);
                    var test = ProgressBar.Run($"{task} {system} test", outcome.Data.Test.Count,
                        progress => GenerativeEvaluator.Evaluate(outcome.Bundle.Model, outcome.Data.Test, trie, evaluation, progress, cancellation));
                    results[system] = new(test, trainSeconds, $"best step {outcome.Report.BestStep}; {outcome.Data.Train.Count:N0} training rows; queries read by {outcome.Bundle.Model.SourceEncoder?.Package.Name ?? "the T5 encoder"}", outcome.Report.Validations);
                    AnsiConsole.Write(RecCommands.MetricsTable($"{system} test", test));
                    // The LMIndexer IDs' model is what a search version serves: the hybrid may fuse it.
                    if (system == GenerativeForHybrid && chosen.Contains(Hybrid))
                    {
                        textRankers.AddGenerative(system, kept);
                        kept = null;
                    }
                }
                finally
                {
                    kept?.Dispose();
                }
            }
            Report(result, corpus, chosen, results, validationRows, plan, clock.Elapsed.TotalSeconds);
            return Task.FromResult(0);
        }));

        void Report(ParseResult result, QueryCorpus corpus, string[] chosen, Dictionary<string, RankingBenchResult> results, List<BenchmarkRow> validationRows, GenerativePlan plan, double wall)
        {
            var (rows, table, ratios) = RankingBenchReport.Build(chosen, results, "queries", ["recall@10", "ndcg@10"]);
            rows.AddRange(validationRows);
            ratios += PairedAgainstBm25(results, rows);
            var commandLine = RecordedCommand.Of(result);
            var testQueries = results.Values.First().Test.Examples;
            BenchmarkReport.Write(result.GetValue(docs)!.FullName, result.GetValue(name)!, commandLine, wall, rows,
                string.Create(CultureInfo.InvariantCulture,
                    $"Generative {task} on `{corpus.Dataset}` ({corpus.Items:N0} items, {testQueries:N0} test queries; {corpus.Description}), full ranking with 20 trie-constrained beams. Every seq2seq system fine-tunes its index bundle's network for {plan.FineTune.Steps} steps × {plan.FineTune.BatchSize} (lr {plan.FineTune.Optimizer.LearningRate:G3}, linear decay, best of validations every {plan.FineTune.EvalEvery} steps), queries ≤ {plan.Source.MaxSourceTokens} tokens; `random` = random codes of the LMIndexer table's shape; `bm25` is word BM25 over the same items and test queries; `dense-*` embeds items and queries with a packaged sentence encoder, untuned, and ranks by inner product; `hybrid` fuses BM25, one dense ranking and, when the run fine-tunes `lmindexer`, its generated items by reciprocal rank, encoder and weights chosen on the validation queries (see its note)."),
                table,
                ratios.TrimEnd(),
                Protocol(result.GetValue(common.Seed), validationRows, result.GetValue(hybridChoice)));
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"benchmark written to {result.GetValue(docs)!.FullName} in {wall / 60:F1} min");
        }

        return command;
    }

    /// <summary>
    /// The run's protocol block: one seed (it draws the split and every fine-tuning), choices on
    /// validation, test decoded once; the hybrid's choice and the validation grid behind it.
    /// </summary>
    private static ProtocolRecord Protocol(int seed, IReadOnlyList<BenchmarkRow> validationRows, string? fixedHybrid)
    {
        const string prefix = "validation_ndcg@10_";
        var grid = validationRows.Where(r => r.System == Hybrid && r.Metric.StartsWith(prefix, StringComparison.Ordinal))
            .Select(r => new CandidateScore(r.Metric[prefix.Length..], r.Value)).ToList();
        // The first of the highest, as the hybrid chooses.
        var choice = fixedHybrid is not null ? $"fixed by --hybrid {fixedHybrid}"
            : grid.Count == 0 ? null : grid.Aggregate((a, b) => b.Validation > a.Validation ? b : a).Candidate;
        return new ProtocolRecord("validation", 1, [seed], "ndcg@10", choice, grid);
    }

    /// <summary>
    /// Each system's NDCG@10 minus BM25's on the same test queries, with a 95 % paired bootstrap
    /// interval over the queries (rows <c>SYSTEM-minus-bm25</c>); systems ranked on other queries are left out.
    /// </summary>
    private static string PairedAgainstBm25(IReadOnlyDictionary<string, RankingBenchResult> results, List<BenchmarkRow> rows)
    {
        const string metric = "ndcg@10";
        if (!results.TryGetValue("bm25", out var bm25) || !bm25.Test.PerExample.TryGetValue(metric, out var baseline))
            return "";
        var lines = new StringBuilder();
        foreach (var (system, result) in results.Where(r => r.Key != "bm25"))
        {
            if (!result.Test.PerExample.TryGetValue(metric, out var values) || values.Length != baseline.Length)
                continue;
            var interval = PairedBootstrap.Difference(values, baseline);
            rows.Add(BenchmarkRow.Difference(system, "bm25", metric, interval));
            lines.AppendLine(CultureInfo.InvariantCulture, $"- {system} − bm25, NDCG@10 over the same {values.Length:N0} test queries: {interval.Difference:+0.0000;-0.0000} (95 % paired bootstrap {interval.Low:+0.0000;-0.0000} … {interval.High:+0.0000;-0.0000}).");
        }
        return lines.Length == 0 ? "" : "\n\n" + lines.ToString().TrimEnd();
    }

    /// <summary>
    /// --hybrid's ENCODER:WEIGHT[:GENERATIVE]: a packaged encoder's name, or ft-NAME for one this run
    /// fine-tunes (its dense-ft-NAME system); GENERATIVE, the weight of the run's lmindexer model (default 0).
    /// </summary>
    private static (string Encoder, double Weight, double Generative)? ParseHybrid(string? value, IReadOnlyCollection<string> chosen)
    {
        if (value is null)
            return null;
        var parts = value.Split(':');
        var packaged = PretrainedEncoderPackage.All.Select(p => p.Name).ToList();
        var known = parts.Length is 2 or 3 && (packaged.Contains(parts[0])
            || (parts[0].StartsWith(FineTunedPrefix, StringComparison.Ordinal) && chosen.Contains(DensePrefix + parts[0])));
        double Weight(int i) => parts.Length <= i ? 0
            : double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var w) && w >= 0 && !double.IsNaN(w) ? w : -1;
        if (!known || Weight(1) < 0 || Weight(2) < 0 || double.IsPositiveInfinity(Weight(2)))
            throw new CliUsageException($"--hybrid: expected ENCODER:WEIGHT[:GENERATIVE] with ENCODER one of {string.Join(", ", packaged)} (or ft-NAME with dense-ft-NAME among --systems), WEIGHT ≥ 0 and GENERATIVE a finite weight ≥ 0, got '{value}'.");
        if (Weight(2) > 0 && !chosen.Contains(GenerativeForHybrid))
            throw new CliUsageException($"--hybrid: a generative weight needs {GenerativeForHybrid} among --systems, got '{value}'.");
        return (parts[0], Weight(1), Weight(2));
    }

    private static string IndexName(string system) => system == "random" ? "lmindexer" : system;

    /// <summary>BM25 over the items' texts for the test queries that the seq2seq systems answer.</summary>
    /// <param name="itemTextQueries">Whether the seq2seq systems also train on each item's own text as a query for it (default: no).</param>
    public static QueryCorpus LoadSearchBench(FileSystemInfo file, int seed, bool? itemTextQueries = null)
    {
        var items = QueryCommands.ReadItems(file);
        var withTexts = itemTextQueries ?? false;
        return new QueryCorpus(file is FileInfo { Directory: { } folder } ? folder.Name : file.Name, ProxySearchQueries.Build(items, seed), items.ToDictionary(i => i.ItemId, ItemTextBuilder.Build, StringComparer.Ordinal),
            "proxy queries from leaf category, brand and title words; test queries use held-out title words" + (withTexts ? "; the items' own texts as extra training queries" : ""),
            (index, plan, progress, cancellation) => QueryTraining.Search(items, index, plan, withTexts, progress, cancellation));
    }

    /// <param name="documentQueries">Whether the seq2seq systems also train on each document's own text as a query for it (default: yes).</param>
    public static QueryCorpus LoadRetrievalBench(FileSystemInfo directory, int seed, bool? documentQueries = null)
    {
        var corpus = QueryCommands.ReadCorpus(directory);
        var withTexts = documentQueries ?? true;
        return new QueryCorpus(directory.Name, RetrievalQueries.Build(corpus, seed), RetrievalQueries.DocumentQueries(corpus).ToDictionary(q => q.ItemId, q => q.Query, StringComparer.Ordinal),
            "queries split 70/10/20, every relevant document a target" + (withTexts ? ", the documents' own texts as extra training queries" : ""),
            (index, plan, progress, cancellation) => QueryTraining.Retrieval(corpus, index, plan, withTexts, progress, cancellation));
    }

    /// <summary>A system that ranks from text alone, scored on the test queries; the hybrid's choice is made on validation first.</summary>
    /// <param name="validationRows">Receives the validation figures behind each choice: the hybrid's grid (<c>validation_ndcg@10_ENCODER_wWEIGHT</c>), so that a default chosen across data sets can be recomputed from the results, and each fine-tuning's validations (<c>validation_ndcg@10_stepN</c>).</param>
    /// <param name="fixedHybrid">The hybrid's encoder and weight given on the command line; null chooses them on validation.</param>
    private static (EvaluationResult Test, string Note) TextSystem(string system, TextQueryRankers rankers, QueryCorpus corpus, DualEncoderTuning tuning, EvaluationOptions evaluation,
        List<BenchmarkRow> validationRows, (string Encoder, double Weight, double Generative)? fixedHybrid, string outRoot, CancellationToken cancellationToken)
    {
        const string metric = "ndcg@10";
        if (system == "bm25")
            return (TextQueryRankers.Evaluate(rankers.Test, rankers.Bm25(rankers.Test), evaluation), "word BM25 (k1 1.2, b 0.75), the served search's lexical ranker");
        if (system.StartsWith(DensePrefix + FineTunedPrefix, StringComparison.Ordinal))
        {
            var name = system[DensePrefix.Length..];
            var servedModel = Path.Combine(outRoot, name + ".onnx");
            var outcome = FineTune(name, rankers, corpus, tuning, evaluation, servedModel, cancellationToken);
            validationRows.AddRange(outcome.Validations.Select(v => new BenchmarkRow(system, string.Create(CultureInfo.InvariantCulture, $"validation_{metric}_step{v.Step}"), v.Score)));
            var curve = string.Join("; ", outcome.Validations.Select(v => string.Create(CultureInfo.InvariantCulture, $"step {v.Step}: {v.Score:F4}")));
            return (TextQueryRankers.Evaluate(rankers.Test, rankers.Dense(name, rankers.Test), evaluation),
                string.Create(CultureInfo.InvariantCulture,
                    $"{name[FineTunedPrefix.Length..]} fine-tuned on {corpus.Split.Train.Count:N0} training query-item pairs with in-batch negatives ({tuning.Steps} steps × {tuning.BatchSize}, lr {tuning.LearningRate:G3}, scale {tuning.Scale:G3}, ≤ {tuning.MaxTokens} tokens); weights of step {outcome.BestStep} kept by validation {metric} at the fine-tuning's length (step 0 = as packaged; {curve}), then ranked through the written ONNX model at the package's {PretrainedEncoderPackage.Named(name[FineTunedPrefix.Length..]).MaxTokens} tokens, as served; {outcome.Seconds / 60:F1} min; served by `Search:EncoderModel={servedModel}`"));
        }
        if (system.StartsWith(DensePrefix, StringComparison.Ordinal))
        {
            var package = PretrainedEncoderPackage.Named(system[DensePrefix.Length..]);
            return (TextQueryRankers.Evaluate(rankers.Test, rankers.Dense(package, rankers.Test, cancellationToken), evaluation),
                $"{package.Name} sentence vectors as they are, exact inner-product top-k");
        }
        var validationBm25 = rankers.Bm25(rankers.Validation);
        var tried = new List<(string Encoder, double Weight, double Generative, double Score)>();
        int[][] DenseOf(string encoder, IReadOnlyList<(GenerativeExample Example, string Text)> queries) =>
            PretrainedEncoderPackage.All.FirstOrDefault(p => p.Name == encoder) is { } package ? rankers.Dense(package, queries, cancellationToken) : rankers.Dense(encoder, queries);
        // The packaged encoders, then those fine-tuned earlier in this run.
        var encoders = fixedHybrid is { } fixedChoice ? [fixedChoice.Encoder]
            : PretrainedEncoderPackage.All.Select(p => p.Name).Concat(rankers.DenseNames.Where(n => n.StartsWith(FineTunedPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal)).ToList();
        // The run's LMIndexer seq2seq model joins the fusion when the run made one; weight 0 leaves it out.
        var generativeName = rankers.GenerativeNames.FirstOrDefault();
        var validationGenerated = generativeName is null ? null : rankers.Generative(generativeName, rankers.Validation);
        var generativeWeights = validationGenerated is null ? [0.0] : TextQueryRankers.GenerativeWeights;
        foreach (var encoder in encoders)
        {
            var validationDense = DenseOf(encoder, rankers.Validation);
            foreach (var weight in TextQueryRankers.DenseWeights)
            {
                foreach (var generative in generativeWeights)
                {
                    if (generative > 0 && double.IsPositiveInfinity(weight))
                        continue;   // ∞ is the dense ranking alone
                    var fused = TextQueryRankers.Fuse(validationBm25, validationDense, weight, validationGenerated, generative);
                    tried.Add((encoder, weight, generative, TextQueryRankers.Evaluate(rankers.Validation, fused, evaluation).Metrics[metric]));
                }
            }
        }
        validationRows.AddRange(tried.Select(t => new BenchmarkRow(Hybrid, string.Create(CultureInfo.InvariantCulture,
            $"validation_{metric}_{t.Encoder}_w{t.Weight:G3}{(t.Generative > 0 ? $"_g{t.Generative:G3}" : "")}"), t.Score)));
        // Ties go to the earlier entry: the smaller packaged encoder, then the smaller dense weight, then the smaller generative weight.
        var best = tried.Aggregate((a, b) => b.Score > a.Score ? b : a);
        var how = string.Create(CultureInfo.InvariantCulture, $"chosen on {rankers.Validation.Count:N0} validation queries by {metric}");
        if (fixedHybrid is { } given)
        {
            best = (given.Encoder, given.Weight, given.Generative, double.NaN);
            how = string.Create(CultureInfo.InvariantCulture, $"fixed by --hybrid ({rankers.Validation.Count:N0} validation queries scored by {metric}, not used)");
        }
        var testGenerated = best.Generative > 0 ? rankers.Generative(generativeName!, rankers.Test) : null;
        var test = TextQueryRankers.Fuse(rankers.Bm25(rankers.Test), DenseOf(best.Encoder, rankers.Test), best.Weight, testGenerated, best.Generative);
        var grid = string.Join("; ", tried.Select(t => string.Create(CultureInfo.InvariantCulture,
            $"{t.Encoder} w {t.Weight:G3}{(t.Generative > 0 ? $" g {t.Generative:G3}" : "")}: {t.Score:F4}")));
        var generatedPart = generativeName is null ? ""
            : best.Generative > 0 ? string.Create(CultureInfo.InvariantCulture, $" and the {generativeName} model's generated items (weight {best.Generative:G3})")
            : $"; the {generativeName} model's generated items left out (weight 0)";
        return (TextQueryRankers.Evaluate(rankers.Test, test, evaluation),
            string.Create(CultureInfo.InvariantCulture, $"RRF (k {RankFusion.DefaultK}) of word BM25 (weight 1) and {best.Encoder} (weight {best.Weight:G3}){generatedPart}, {how} ({grid})"));
    }

    /// <summary>
    /// Fine-tunes the packaged encoder <paramref name="name"/> (ft-NAME) on the training pairs, scoring
    /// each validation by dense NDCG@10 on the validation queries, and registers the kept weights'
    /// ranker under <paramref name="name"/>. Test queries are not read.
    /// </summary>
    /// <param name="servedModel">Where the kept weights are written as an ONNX model <c>/api/search</c> can serve.</param>
    private static DualEncoderOutcome FineTune(string name, TextQueryRankers rankers, QueryCorpus corpus, DualEncoderTuning tuning, EvaluationOptions evaluation, string servedModel,
        CancellationToken cancellationToken)
    {
        var package = PretrainedEncoderPackage.Named(name[FineTunedPrefix.Length..]);
        DualEncoderOutcome outcome;
        byte[] model;
        using (var encoder = new TrainableSentenceEncoder(package, Math.Min(tuning.MaxTokens, package.MaxTokens)))
        {
            float[][] Queries(IReadOnlyList<string> texts) => encoder.Embed([.. texts.Select(t => package.QueryPrefix + t)], cancellationToken: cancellationToken);
            double Validate(TrainableSentenceEncoder tuned)
            {
                var items = tuned.Embed(rankers.ItemTexts, cancellationToken: cancellationToken);
                rankers.AddDense(name, items, Queries);
                var score = TextQueryRankers.Evaluate(rankers.Validation, rankers.Dense(name, rankers.Validation), evaluation).Metrics["ndcg@10"];
                AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"{name}: validation ndcg@10 {score:F4}");
                return score;
            }
            // Plain lines, not a live bar: each validation prints its own.
            var progress = new InlineProgress<(int Step, double Loss)>(p =>
            {
                if (p.Step % 50 == 0)
                    AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"{name} step {p.Step}/{tuning.Steps} loss {p.Loss:F3}");
            });
            outcome = DualEncoderFineTuner.Run(encoder, corpus.Split.Train, corpus.Texts, Validate, tuning, progress, cancellationToken);
            model = BertWeights.WriteIntoOnnx(package.ReadModel(), encoder.Model);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(servedModel)!);
        File.WriteAllBytes(servedModel, model);
        // Test and the hybrid's choice rank through the written model as /api/search serves it:
        // ONNX Runtime at the package's own text length, not the fine-tuning's shorter cut.
        var served = new OnnxSentenceEncoder(package, model, torch.get_num_threads());
        try
        {
            var items = ProgressBar.Run($"{name} items (served model)", rankers.ItemTexts.Count,
                p => served.Embed(rankers.ItemTexts, progress: p, cancellationToken: cancellationToken));
            rankers.AddDense(name, items, texts => served.Embed([.. texts.Select(t => package.QueryPrefix + t)], cancellationToken: cancellationToken), owner: served);
        }
        catch
        {
            served.Dispose();
            throw;
        }
        return outcome;
    }
}

/// <summary>What a query benchmark needs of its data: the split, the items' texts and how to train on it.</summary>
public sealed record QueryCorpus(
    string Dataset,
    QuerySplit Split,
    IReadOnlyDictionary<string, string> Texts,
    string Description,
    Func<string, GenerativePlan, IProgress<TrainingProgress>?, CancellationToken, GenerativeOutcome> Train)
{
    public int Items => Texts.Count;
}
