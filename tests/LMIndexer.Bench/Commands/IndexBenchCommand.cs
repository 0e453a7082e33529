using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using LMIndexer.Cli.Console;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Data;
using LMIndexer.Core.Evaluation;
using LMIndexer.Core.Encoders;
using LMIndexer.Core.Indexing;
using LMIndexer.Research.Protocol;
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
        var reuse = new Option<bool>("--reuse") { Description = "Read runs whose bundles a run of the same settings already wrote under --work instead of training them again (seeds add up across invocations)." };
        var seedsOption = new Option<string?>("--seeds") { Description = "Comma-separated ID-learning seeds, each method run once per seed (mean ± sd over them); default: --seed alone." };
        var indexer = new IndexerCoreOptions();
        var command = new Command("bench", "Benchmark LMIndexer against rq-VAE and k-means-tree IDs on real data (AMI, perplexity, collisions, time).")
        {
            data, corpus, name, work, docs, methods, size, pretrainSteps, baseBundle, seedsOption, reuse,
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
            var seeds = ParseSeeds(result.GetValue(seedsOption)) ?? [options.Seed];
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
                    Encoder = options.Encoder,
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
            var spread = seeds.Count > 1 ? " (mean ± sd over seeds)" : "";
            table.AppendLine(labelled
                ? $"| system | AMI c1 (full path){spread} | AMI c1 (level 2) | AMI c1 (level 1) | AMI c1c2 (full path) | perplexity c1 / c2 | collision rate | largest group | seconds |"
                : $"| system | perplexity c1 / c2{spread} | collision rate | largest group | seconds |");
            table.AppendLine(labelled ? "|---|---:|---:|---:|---:|---:|---:|---:|---:|" : "|---|---:|---:|---:|---:|");
            foreach (var method in selected)
            {
                // Rows name the encoder the IDs were learned on: lmindexer-minilm, rqvae-t5-scratch, …
                var system = $"{BaselineIndexers.NameOf(method)}-{options.Encoder}";
                // Bundles of t5-scratch keep the method's name: rec and retrieval bench find them in --index-dir by it.
                var folder = options.Encoder == TextEncoders.T5Scratch ? BaselineIndexers.NameOf(method) : system;
                var runs = new List<(IndexStats Stats, double Seconds)>();
                foreach (var seed in seeds)
                {
                    // With --seeds every run is named by its seed, so that runs of other invocations are found again.
                    var run = result.GetValue(seedsOption) is null ? folder : $"{folder}-seed{seed}";
                    var runDirectory = Path.Combine(root, run);
                    // The seed drives k-means too (codebook initialisation, the tree's splits), not only training.
                    var plan = new IndexingPlan { Indexer = options with { Seed = seed, KMeans = options.KMeans with { Seed = seed } }, Baseline = method, BaseBundle = basePath, Version = run };
                    if (result.GetValue(reuse) && RunRecord.Read(runDirectory, plan) is { } earlier)
                    {
                        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"{run}: reusing the bundle in {runDirectory} ({earlier.Seconds:F0} s when trained)");
                        runs.Add((SemanticIndexing.ReadStats(Path.Combine(runDirectory, SemanticIndexing.StatsFile)), earlier.Seconds));
                        continue;
                    }
                    var methodClock = Stopwatch.StartNew();
                    var outcome = TrainingProgressView.Run(run, IndexCommands.EstimateSteps(catalog.Items.Count, plan), p => SemanticIndexing.Run(catalog, plan, p, cancellation));
                    SemanticIndexing.Save(outcome, runDirectory);
                    outcome.Bundle.Dispose();
                    RunRecord.Write(runDirectory, plan, methodClock.Elapsed.TotalSeconds);
                    runs.Add((outcome.Stats, methodClock.Elapsed.TotalSeconds));
                    AnsiConsole.Write(IndexCommands.StatsTable(outcome.Stats));
                }
                var metrics = runs.Select(r => Metrics(r.Stats, r.Seconds)).ToList();
                var summaries = metrics[0].Keys
                    .Where(metric => metrics.All(m => m.ContainsKey(metric)))
                    .ToDictionary(metric => metric, metric => SeedSummary.Of([.. metrics.Select(m => m[metric])]), StringComparer.Ordinal);
                rows.AddRange(summaries.Select(kv => BenchmarkRow.OverSeeds(system, kv.Key, kv.Value)));
                string Cell(string metric, string format) => summaries.TryGetValue(metric, out var x)
                    ? x.Mean.ToString(format, CultureInfo.InvariantCulture) + (x.N > 1 ? " ± " + x.Sd.ToString(format, CultureInfo.InvariantCulture) : "")
                    : "–";
                var perplexity = string.Join(" / ", Enumerable.Range(1, runs[0].Stats.LearnedPositions).Select(p => Cell($"perplexity-c{p}", "F1")));
                var collision = string.Create(CultureInfo.InvariantCulture, $"{summaries["collision-rate"].Mean:P1}");
                table.AppendLine(labelled
                    ? $"| {system} | {Cell("ami", "F4")} | {Cell("ami-level-2", "F4")} | {Cell("ami-level-1", "F4")} | {Cell("ami-c1c2", "F4")} | {perplexity} | {collision} | {Cell("largest-group", "F0")} | {Cell("seconds", "F0")} |"
                    : $"| {system} | {perplexity} | {collision} | {Cell("largest-group", "F0")} | {Cell("seconds", "F0")} |");
            }
            var commandLine = RecordedCommand.Of(result);
            var pretrainTime = result.GetValue(baseBundle) is null
                ? string.Create(CultureInfo.InvariantCulture, $", trained in this run in {pretrainSeconds:F0} s")
                : "";
            BenchmarkReport.Write(result.GetValue(docs)!.FullName, result.GetValue(name)!, commandLine, clock.Elapsed.TotalSeconds, rows,
                string.Create(CultureInfo.InvariantCulture,
                    $"Semantic IDs for {catalog.Items.Count:N0} items of `{source.Name}`, learned on the `{options.Encoder}` encoder ({(options.Encoder == TextEncoders.T5Scratch ? "the backbone's own" : $"pretrained, {options.EncoderTrainableLayers} top layer(s) fine-tuned; the baselines cluster its sentence vectors")}), seeds {string.Join(", ", seeds)}: LMIndexer and baselines on the same `{baseManifest.Config.DModel}`-wide text model (shared pretrained bundle: {baseManifest.Properties.GetValueOrDefault("steps", "?")} denoising steps{pretrainTime}), K = {options.CodebookSize}, 2 learned positions + counter, {stageEpochs} epoch(s) per LMIndexer stage ({options.ContinuousEpochsAt(2)} for the continuous stage of position 2), {(options.BFloat16 ? "bf16 with fp32 master weights" : "fp32")}. {(labelled ? "AMI labels: the first category path (`full`, as the reference), its first 2 levels and its first level." : "The items carry no category labels, so there is no AMI.")}"),
                table.ToString(),
                labelled ? "Paper (Beauty, t5-base, 8 GPUs): LMIndexer AMI .3563, rq-VAE .2654." : "Without labels, the IDs are compared by code usage and by how much the collision counter must carry.");
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"benchmark written to {result.GetValue(docs)!.FullName} in {clock.Elapsed.TotalMinutes:F1} min");
            return Task.FromResult(0);
        }));
        return command;
    }

    /// <summary>What a run reports, by metric name.</summary>
    private static Dictionary<string, double> Metrics(IndexStats s, double seconds)
    {
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (label, metric) in new[] { ("full", "ami"), ("level-2", "ami-level-2"), ("level-1", "ami-level-1") })
        {
            if (s.AmiFirstCode.TryGetValue(label, out var ami))
                metrics[metric] = ami;
        }
        if (s.AmiFirstTwoCodes.TryGetValue("full", out var pair))
            metrics["ami-c1c2"] = pair;
        for (var p = 0; p < s.LearnedPositions; p++)
            metrics[$"perplexity-c{p + 1}"] = s.Perplexity[p];
        for (var p = 0; p < s.PrefixDiversity.Length; p++)
            metrics[$"prefix-diversity-c{p + 2}"] = s.PrefixDiversity[p];
        metrics["collision-rate"] = s.CollisionRate;
        metrics["largest-group"] = s.LargestGroup;
        metrics["seconds"] = seconds;
        return metrics;
    }

    /// <summary>The distinct seeds of --seeds, or null when it is not given.</summary>
    private static List<int>? ParseSeeds(string? text)
    {
        if (text is null)
            return null;
        var seeds = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed))
                throw new CliUsageException($"--seeds takes comma-separated integers, got '{part}'.");
            if (seeds.Contains(seed))
                throw new CliUsageException($"--seeds repeats seed {seed}.");
            seeds.Add(seed);
        }
        return seeds.Count > 0 ? seeds : throw new CliUsageException("--seeds names no seed.");
    }

    /// <summary>
    /// What a finished run was trained with and how long it took, beside its bundle: <c>--reuse</c>
    /// takes the bundle only when the settings are the same, so a changed flag trains again.
    /// </summary>
    private sealed record RunRecord(string Settings, double Seconds)
    {
        private const string FileName = "bench-run.json";

        public static void Write(string directory, IndexingPlan plan, double seconds) =>
            File.WriteAllText(Path.Combine(directory, FileName), System.Text.Json.JsonSerializer.Serialize(new RunRecord(SettingsOf(plan), seconds)));

        public static RunRecord? Read(string directory, IndexingPlan plan)
        {
            var path = Path.Combine(directory, FileName);
            if (!File.Exists(path) || !File.Exists(Path.Combine(directory, SemanticIndexing.StatsFile)))
                return null;
            var record = System.Text.Json.JsonSerializer.Deserialize<RunRecord>(File.ReadAllText(path));
            return record is not null && record.Settings == SettingsOf(plan) ? record : null;
        }

        private static string SettingsOf(IndexingPlan plan) =>
            System.Text.Json.JsonSerializer.Serialize(plan.Indexer, Core.Recipes.RecipeFile.Options) + "|" + (plan.Baseline?.Method ?? IdMethods.LMIndexer) + "|" + plan.BaseBundle;
    }
}
