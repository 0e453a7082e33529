using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using LMIndexer.Cli.Console;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Data;
using LMIndexer.Core.Evaluation;
using LMIndexer.Core.Indexing;
using LMIndexer.Research.Indexing;
using LMIndexer.Core.Model;
using LMIndexer.Core.Text;
using LMIndexer.Core.Training;
using Spectre.Console;
using LMIndexer.Bench.Reporting;
using LMIndexer.Cli.Commands;

namespace LMIndexer.Bench.Commands;

/// <summary>
/// <c>lmindexer-bench index bench</c>: LMIndexer and the baselines on the same items, from one shared
/// pretrained text model, in one run; writes the bench results.
/// </summary>
public static class IndexBenchCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var data = new Option<DirectoryInfo?>("--data") { Description = "Catalog directory with items.jsonl (e.g. ../shared/data/amazon-beauty)." };
        var corpus = new Option<DirectoryInfo?>("--corpus") { Description = "Or a Cranfield-style corpus directory (docs.jsonl …): index its documents (no category labels, so no AMI)." };
        var name = new Option<string>("--name") { Description = "Benchmark name (file and section).", DefaultValueFactory = _ => "index-beauty" };
        var work = new Option<DirectoryInfo>("--work") { Description = "Where bundles are written.", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("data", "bench")) };
        var docs = BenchmarkReport.DirectoryOption();
        var methods = new Option<string>("--methods") { Description = "Comma-separated: lmindexer, rqvae, kmeans-tree.", DefaultValueFactory = _ => "lmindexer,rqvae,kmeans-tree" };
        var size = new Option<string>("--size") { Description = $"Model size: {T5Config.PresetNamesText}.", DefaultValueFactory = _ => T5Config.DefaultSizeName };
        var pretrainSteps = new Option<int>("--pretrain-steps") { Description = "Shared denoising pretraining steps.", DefaultValueFactory = _ => 1000 };
        var baseBundle = new Option<DirectoryInfo?>("--base") { Description = "Reuse this pretrained bundle (of the same items) instead of pretraining." };
        var indexer = new IndexerCoreOptions();
        var command = new Command("bench", "Benchmark LMIndexer against rq-VAE and k-means-tree IDs on real data (AMI, perplexity, collisions, time).")
        {
            data, corpus, name, work, docs, methods, size, pretrainSteps, baseBundle,
        };
        indexer.AddTo(command);
        common.AddTo(command);
        command.SetAction((result, cancellation) => CliErrors.RunAsync(() =>
        {
            var selected = result.GetValue(methods)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(BaselineIndexers.Parse).ToList();
            common.InitializeRuntime(result);
            var clock = Stopwatch.StartNew();
            if ((result.GetValue(data) is null) == (result.GetValue(corpus) is null))
                throw new CliUsageException("Give either --data or --corpus.");
            var options = indexer.Build(result, result.GetValue(common.Seed));
            options.Validate();
            var source = result.GetValue(data) ?? result.GetValue(corpus)!;
            var catalog = result.GetValue(data) is { } catalogDirectory
                ? (catalogDirectory.Exists ? CatalogFiles.Load(catalogDirectory.FullName) : throw new CliUsageException($"{catalogDirectory.FullName} does not exist."))
                : IndexCommands.ReadCatalogToIndex(null, result.GetValue(corpus));
            var labelled = SemanticIndexing.Labels(catalog) is not null;
            var stageEpochs = options.ContinuousEpochs;
            var root = result.GetValue(work)!.FullName;
            var basePath = result.GetValue(baseBundle)?.FullName ?? Path.Combine(root, "pretrained");
            var pretrainClock = Stopwatch.StartNew();
            if (result.GetValue(baseBundle) is null)
            {
                var pretrainPlan = new PretrainingPlan
                {
                    ModelSize = result.GetValue(size)!,
                    MaxTokens = options.MaxTokens,
                    IdPositionSizes = options.IdPositionSizes(),
                    Denoising = new DenoisingOptions { Steps = result.GetValue(pretrainSteps), BatchSize = options.BatchSize, Seed = options.Seed, BFloat16 = options.BFloat16 },
                };
                var (pretrained, _) = TrainingProgressView.Run("pretrain", pretrainPlan.Denoising.Steps, p => CatalogPretraining.Run(catalog, pretrainPlan, p, cancellation));
                using (pretrained)
                    pretrained.Save(basePath);
            }
            var pretrainSeconds = pretrainClock.Elapsed.TotalSeconds;
            var baseManifest = ModelBundle.ReadManifest(basePath);
            if (baseManifest.TrainingDataHash != ModelBundle.HashOf(catalog.Items.Select(ItemTextBuilder.Build)))
                throw new CliUsageException($"{basePath} was pretrained on other items.");
            var rows = new List<BenchmarkRow>();
            if (result.GetValue(baseBundle) is null)
                rows.Add(new("pretrain", "seconds", pretrainSeconds));
            var table = new StringBuilder();
            table.AppendLine(labelled
                ? "| method | AMI c1 (full path) | AMI c1 (level 2) | AMI c1 (level 1) | AMI c1c2 (full path) | perplexity c1 / c2 | collision rate | largest group | seconds |"
                : "| method | perplexity c1 / c2 | collision rate | largest group | seconds |");
            table.AppendLine(labelled ? "|---|---:|---:|---:|---:|---:|---:|---:|---:|" : "|---|---:|---:|---:|---:|");
            foreach (var method in selected)
            {
                var methodName = BaselineIndexers.NameOf(method);
                var methodClock = Stopwatch.StartNew();
                var plan = new IndexingPlan { Indexer = options, Baseline = method, BaseBundle = basePath, Version = methodName };
                var outcome = TrainingProgressView.Run(methodName, IndexCommands.EstimateSteps(catalog.Items.Count, plan), p => SemanticIndexing.Run(catalog, plan, p, cancellation));
                SemanticIndexing.Save(outcome, Path.Combine(root, methodName));
                outcome.Bundle.Dispose();
                var seconds = methodClock.Elapsed.TotalSeconds;
                var s = outcome.Stats;
                foreach (var (label, metric) in new[] { ("full", "ami"), ("level-2", "ami-level-2"), ("level-1", "ami-level-1") })
                {
                    if (s.AmiFirstCode.TryGetValue(label, out var ami))
                        rows.Add(new(methodName, metric, ami));
                }
                if (s.AmiFirstTwoCodes.TryGetValue("full", out var pair))
                    rows.Add(new(methodName, "ami-c1c2", pair));
                for (var p = 0; p < s.LearnedPositions; p++)
                    rows.Add(new(methodName, $"perplexity-c{p + 1}", s.Perplexity[p]));
                for (var p = 0; p < s.PrefixDiversity.Length; p++)
                    rows.Add(new(methodName, $"prefix-diversity-c{p + 2}", s.PrefixDiversity[p]));
                rows.Add(new(methodName, "collision-rate", s.CollisionRate));
                rows.Add(new(methodName, "largest-group", s.LargestGroup));
                rows.Add(new(methodName, "seconds", seconds));
                var perplexity = string.Join(" / ", s.Perplexity.Select(x => x.ToString("F1", CultureInfo.InvariantCulture)));
                table.AppendLine(labelled
                    ? string.Create(CultureInfo.InvariantCulture,
                        $"| {methodName} | {s.AmiFirstCode["full"]:F4} | {s.AmiFirstCode["level-2"]:F4} | {s.AmiFirstCode["level-1"]:F4} | {pair:F4} | {perplexity} | {s.CollisionRate:P1} | {s.LargestGroup} | {seconds:F0} |")
                    : string.Create(CultureInfo.InvariantCulture, $"| {methodName} | {perplexity} | {s.CollisionRate:P1} | {s.LargestGroup} | {seconds:F0} |"));
                AnsiConsole.Write(IndexCommands.StatsTable(s));
            }
            var commandLine = "lmindexer-bench " + string.Join(" ", result.Tokens.Select(t => t.Value));
            var pretrainTime = result.GetValue(baseBundle) is null
                ? string.Create(CultureInfo.InvariantCulture, $", trained in this run in {pretrainSeconds:F0} s")
                : "";
            BenchmarkReport.Write(result.GetValue(docs)!.FullName, result.GetValue(name)!, commandLine, clock.Elapsed.TotalSeconds, rows,
                string.Create(CultureInfo.InvariantCulture,
                    $"Semantic IDs for {catalog.Items.Count:N0} items of `{source.Name}`: LMIndexer and baselines on the same `{baseManifest.Config.DModel}`-wide text model (shared pretrained bundle: {baseManifest.Properties.GetValueOrDefault("steps", "?")} denoising steps{pretrainTime}), K = {options.CodebookSize}, 2 learned positions + counter, {stageEpochs} epoch(s) per LMIndexer stage ({options.ContinuousEpochsAt(2)} for the continuous stage of position 2), {(options.BFloat16 ? "bf16 with fp32 master weights" : "fp32")}. {(labelled ? "AMI labels: the first category path (`full`, as the reference), its first 2 levels and its first level." : "The items carry no category labels, so there is no AMI.")}"),
                table.ToString(),
                labelled ? "Paper (Beauty, t5-base, 8 GPUs): LMIndexer AMI .3563, rq-VAE .2654." : "Without labels, the IDs are compared by code usage and by how much the collision counter must carry.");
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"benchmark written to {result.GetValue(docs)!.FullName} in {clock.Elapsed.TotalMinutes:F1} min");
            return Task.FromResult(0);
        }));
        return command;
    }
}
