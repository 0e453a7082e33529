using System.CommandLine;
using System.Globalization;
using LMIndexer.Cli.Console;
using LMIndexer.Core.Data;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Encoders;
using LMIndexer.Core.Runtime;
using LMIndexer.Core.Text;
using LMIndexer.Core.Training;
using Spectre.Console;

namespace LMIndexer.Cli.Commands;

/// <summary>
/// <c>lmindexer search train|eval</c> (query → product ID, proxy queries from the catalog) and
/// <c>lmindexer retrieval train|eval</c> (query → document ID on a Cranfield-style corpus).
/// </summary>
public static class QueryCommands
{
    private sealed record TaskSpec(string Name, string Description, string DataDescription, string ExtraFlag, string ExtraDescription);

    private static readonly TaskSpec SearchSpec = new("search", "Generative product search: query text → product semantic ID.",
        "items.jsonl of the catalog (proxy queries are built from titles, brands and categories).",
        "--item-text-queries", "Also train on each item's own text as a query for itself.");

    private static readonly TaskSpec RetrievalSpec = new("retrieval", "Generative document retrieval: query → document semantic ID (Cranfield-style corpus).",
        "Corpus directory with docs.jsonl, queries.jsonl and qrels.tsv.",
        "--no-document-queries", "Do not train on the documents' own texts as queries (on by default: 225 queries are too few alone).");

    public static Command Search() => Create(SearchSpec);

    public static Command Retrieval() => Create(RetrievalSpec);

    private static Command Create(TaskSpec spec)
    {
        var group = new Command(spec.Name, spec.Description);
        group.Subcommands.Add(Train(spec));
        group.Subcommands.Add(Eval(spec));
        group.Subcommands.Add(TuneEncoder(spec));
        return group;
    }

    /// <summary>
    /// <c>tune-encoder</c>: fine-tunes a packaged sentence encoder on the task's training queries with
    /// in-batch negatives, keeps the weights of the best validation (the packaged ones when no step
    /// beats them) and writes them as an ONNX model that <c>Search:EncoderModel</c> serves.
    /// </summary>
    private static Command TuneEncoder(TaskSpec spec)
    {
        var common = new CommonOptions();
        var data = DataOption(spec);
        var encoder = new Option<string>("--encoder") { Description = $"Packaged encoder to fine-tune: {string.Join(", ", PretrainedEncoderPackage.All.Select(p => p.Name))}.", DefaultValueFactory = _ => "arctic-xs" };
        var output = new Option<FileInfo>("--out", "-o") { Description = "The fine-tuned ONNX model to write (serve it with Search:Encoder=ENCODER and Search:EncoderModel=FILE).", Required = true };
        var defaults = new DualEncoderTuning();
        var steps = new Option<int>("--steps") { Description = "Fine-tuning steps.", DefaultValueFactory = _ => defaults.Steps };
        var batch = new Option<int>("--batch-size") { Description = "Query-item pairs per step; the batch's other items are each query's negatives.", DefaultValueFactory = _ => defaults.BatchSize };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate (linear warm-up over the first tenth, then linear decay).", DefaultValueFactory = _ => defaults.LearningRate };
        var evalEvery = new Option<int>("--eval-every") { Description = "Steps between validations; the best validated weights are kept.", DefaultValueFactory = _ => defaults.EvalEvery };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Longest query or item text, in WordPiece tokens.", DefaultValueFactory = _ => 128 };
        var command = new Command("tune-encoder", $"Fine-tune a packaged sentence encoder for {spec.Name}'s dense ranking on the training queries; the step is chosen on the validation queries; writes an ONNX model for Search:EncoderModel.")
        {
            data, encoder, output, steps, batch, lr, evalEvery, maxTokens,
        };
        common.AddTo(command);
        command.SetAction((result, cancellation) => CliErrors.RunAsync(() =>
        {
            var name = result.GetValue(encoder)!;
            if (!PretrainedEncoderPackage.All.Any(p => p.Name == name))
                throw new CliUsageException($"Unknown --encoder '{name}'; expected {string.Join(", ", PretrainedEncoderPackage.All.Select(p => p.Name))}.");
            var package = PretrainedEncoderPackage.Named(name);
            var seed = result.GetValue(common.Seed);
            var tuning = new DualEncoderTuning(result.GetValue(steps), result.GetValue(batch), result.GetValue(lr), EvalEvery: result.GetValue(evalEvery),
                MaxTokens: Math.Min(result.GetValue(maxTokens), package.MaxTokens), Seed: seed);
            tuning.Validate();   // a bad setting is an ArgumentException: CliErrors prints its first line, exit 2
            var source = result.GetValue(data)!;
            var (split, texts) = spec.Name == "search" ? SearchQueries(ReadItems(source), seed) : RetrievalQueriesOf(ReadCorpus(source), seed);
            if (split.Validation.Count == 0)
                throw new CliUsageException("The data gives no validation queries to choose the step on.");
            common.InitializeRuntime(result);
            using var tuned = new TrainableSentenceEncoder(package, tuning.MaxTokens);
            var outcome = DualEncoderFineTuner.Run(tuned, split.Train, texts, e =>
            {
                var score = DenseRetrievalScore.Ndcg10(e, split.Validation, texts, cancellation);
                AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"validation ndcg@10 {score:F4}");
                return score;
            }, tuning, new InlineProgress<(int Step, double Loss)>(p =>
            {
                if (p.Step % 50 == 0)
                    AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"step {p.Step}/{tuning.Steps} loss {p.Loss:F3}");
            }), cancellation);
            var path = result.GetValue(output)!.FullName;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            // Written beside the target first: a reader never sees half a model.
            var staging = path + ".partial";
            var model = Core.Model.Bert.BertWeights.WriteIntoOnnx(package.ReadModel(), tuned.Model);
            File.WriteAllBytes(staging, model);
            File.Move(staging, path, overwrite: true);
            // The served fusion's dense weight, chosen for this model on the same validation queries,
            // ranked as /api/search will: through the written model at the package's own text length
            // (the first of the best, so ties keep the smaller weight).
            var weights = DenseRetrievalScore.HybridWeights;
            double[] hybrid;
            using (var served = new OnnxSentenceEncoder(package, model, result.GetValue(common.Threads)))
                hybrid = DenseRetrievalScore.HybridNdcg10(batch => served.Embed(batch, cancellationToken: cancellation), package.QueryPrefix, split.Validation, texts, weights);
            var best = Enumerable.Range(0, weights.Length).Aggregate((a, b) => hybrid[b] > hybrid[a] ? b : a);
            for (var i = 0; i < weights.Length; i++)
                AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"hybrid, dense weight {weights[i]:G3} (BM25 1): validation ndcg@10 {hybrid[i]:F4}");
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"{split.Train.Count:N0} training pairs; kept step {outcome.BestStep} (validation ndcg@10 {outcome.BestScore:F4}, step 0 = as packaged {outcome.Validations[0].Score:F4}); model: {path}");
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"serve it with Search__Encoder={package.Name} Search__EncoderModel={path}");
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"and Search__DenseWeight={weights[best]:G3} (best hybrid on validation)");
            return Task.FromResult(0);
        }));
        return command;
    }

    private static (QuerySplit Split, IReadOnlyDictionary<string, string> Texts) SearchQueries(IReadOnlyList<CatalogItem> items, int seed) =>
        (ProxySearchQueries.Build(items, seed), items.ToDictionary(i => i.ItemId, ItemTextBuilder.Build, StringComparer.Ordinal));

    private static (QuerySplit Split, IReadOnlyDictionary<string, string> Texts) RetrievalQueriesOf(RetrievalCorpus corpus, int seed) =>
        (RetrievalQueries.Build(corpus, seed), RetrievalQueries.DocumentQueries(corpus).ToDictionary(q => q.ItemId, q => q.Query, StringComparer.Ordinal));

    /// <summary>The data option of <paramref name="task"/> (search: <c>--items</c>, retrieval: <c>--corpus</c>).</summary>
    public static Option<FileSystemInfo> DataOption(string task) => DataOption(task == SearchSpec.Name ? SearchSpec : RetrievalSpec);

    private static Option<FileSystemInfo> DataOption(TaskSpec spec) => new(spec.Name == "search" ? "--items" : "--corpus")
    {
        Description = spec.DataDescription,
        Required = true,
        CustomParser = r => spec.Name == "search" ? new FileInfo(r.Tokens[0].Value) : new DirectoryInfo(r.Tokens[0].Value),
    };

    private static Command Train(TaskSpec spec)
    {
        var common = new CommonOptions();
        var tune = new FineTuneCommandOptions();
        var data = DataOption(spec);
        var extra = new Option<bool>(spec.ExtraFlag) { Description = spec.ExtraDescription };
        var command = new Command("train", $"Fine-tune an index bundle for {spec.Name} and write a serving bundle; reports test metrics.") { data, extra };
        tune.AddTo(command);
        common.AddTo(command);
        command.SetAction((result, cancellation) => CliErrors.RunAsync(() =>
        {
            var source = result.GetValue(data)!;
            var plan = tune.Build(result, result.GetValue(common.Seed), new HistorySourceOptions());
            common.InitializeRuntime(result);
            var index = result.GetValue(tune.Index)!.FullName;
            using var outcome = TrainingProgressView.Run(spec.Name, plan.FineTune.Steps, progress => spec.Name == "search"
                ? QueryTraining.Search(ReadItems(source), index, plan, result.GetValue(extra), progress, cancellation)
                : QueryTraining.Retrieval(ReadCorpus(source), index, plan, !result.GetValue(extra), progress, cancellation));
            var output = result.GetValue(tune.Output)!.FullName;
            outcome.Save(output);
            GenerativeFineTuner.DeleteCheckpoint(tune.CheckpointDirectory(result));
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"{outcome.Data.Train.Count} training rows; best validation {plan.FineTune.SelectionMetric} {outcome.Report.BestMetric:F4} at step {outcome.Report.BestStep}; bundle: {output}");
            using var trie = new Core.Generation.TrieTables(outcome.Trie, TorchRuntime.Device);
            var options = plan.FineTune.Evaluation with { Beams = 20 };
            var test = GenerativeEvaluator.Evaluate(outcome.Bundle.Model, outcome.Data.Test, trie, options, cancellationToken: cancellation);
            AnsiConsole.Write(RecCommands.MetricsTable("test", test, ("popularity", GenerativeEvaluator.EvaluateRanking(outcome.Data.Test, _ => outcome.Data.Popularity, options))));
            return Task.FromResult(0);
        }));
        return command;
    }

    private static Command Eval(TaskSpec spec)
    {
        var common = new CommonOptions();
        var data = DataOption(spec);
        var bundle = new Option<DirectoryInfo>("--bundle", "-b") { Description = $"Serving bundle ('lmindexer {spec.Name} train').", Required = true };
        var split = new Option<string>("--split") { Description = "test or validation.", DefaultValueFactory = _ => "test" };
        var beams = new Option<int>("--beams") { Description = "Beams per query.", DefaultValueFactory = _ => 20 };
        var report = new Option<FileInfo?>("--report") { Description = "Write the metrics, configuration and timings as JSON here." };
        var command = new Command("eval", $"Recall/NDCG/MAP/MRR @5 and @10 of a {spec.Name} serving bundle (identical queries grouped, several relevant items allowed).") { data, bundle, split, beams, report };
        common.AddTo(command);
        command.SetAction((result, cancellation) => CliErrors.RunAsync(() =>
        {
            var which = result.GetValue(split)!;
            if (which is not ("test" or "validation"))
                throw new CliUsageException($"Unknown --split '{which}'; expected test or validation.");
            var source = result.GetValue(data)!;
            var querySplit = spec.Name == "search"
                ? ProxySearchQueries.Build(ReadItems(source), result.GetValue(common.Seed))
                : RetrievalQueries.Build(ReadCorpus(source), result.GetValue(common.Seed));
            common.InitializeRuntime(result);
            using var serving = ServingBundle.Load(result.GetValue(bundle)!.FullName, TorchRuntime.Device);
            if (serving.Task != spec.Name)
                throw new CliUsageException($"{result.GetValue(bundle)!.FullName} is a {serving.Task} bundle, not a {spec.Name} bundle.");
            var taskData = QueryTask.Build(querySplit, serving.Table, serving.Bundle.Tokenizer, serving.Source.MaxSourceTokens);
            var examples = which == "test" ? taskData.Test : taskData.Validation;
            var options = new EvaluationOptions { Beams = result.GetValue(beams) };
            var evaluation = ProgressBar.Run($"{spec.Name} eval ({which})", examples.Count,
                progress => GenerativeEvaluator.Evaluate(serving.Bundle.Model, examples, serving.Tables, options, progress, cancellation));
            AnsiConsole.Write(RecCommands.MetricsTable(which, evaluation));
            if (result.GetValue(report) is { } reportFile)
                EvaluationReportFile.Write(reportFile.FullName, serving, which, options, evaluation);
            return Task.FromResult(0);
        }));
        return command;
    }

    public static List<CatalogItem> ReadItems(FileSystemInfo file)
    {
        if (!file.Exists)
            throw new CliUsageException($"{file.FullName} does not exist.");
        return CatalogFiles.ReadItems(file.FullName);
    }

    public static RetrievalCorpus ReadCorpus(FileSystemInfo directory)
    {
        if (!Directory.Exists(directory.FullName))
            throw new CliUsageException($"{directory.FullName} does not exist.");
        return RetrievalCorpus.Load(directory.FullName);
    }
}
