using System.CommandLine;
using System.Globalization;
using LMIndexer.Cli.Console;
using LMIndexer.Core.Data;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Runtime;
using LMIndexer.Core.Text;
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
        return group;
    }

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
