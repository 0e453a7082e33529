using System.CommandLine;
using System.Globalization;
using LMIndexer.Cli.Console;
using LMIndexer.Core.Data;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Model;
using LMIndexer.Core.Training;
using Spectre.Console;

namespace LMIndexer.Cli.Commands;

/// <summary>
/// ID-learning methods beyond the product's (<see cref="IdMethods"/>) that <c>index train --method</c>
/// offers: the research tool passes its baselines.
/// </summary>
public sealed record IndexingMethods(string Names, Func<string, IEmbeddingCodeAssigner?> Parse);

/// <summary><c>lmindexer index train|assign|eval|drift</c>: learn semantic IDs and report their quality.</summary>
public static class IndexCommands
{
    public static Command Create(IndexingMethods? methods = null)
    {
        var index = new Command("index", "Learn semantic item IDs (LMIndexer) and evaluate them.");
        index.Subcommands.Add(Train(methods));
        index.Subcommands.Add(Assign());
        index.Subcommands.Add(Eval());
        index.Subcommands.Add(Drift());
        return index;
    }

    private static Command Train(IndexingMethods? methods)
    {
        var common = new CommonOptions();
        var items = new Option<FileInfo?>("--items") { Description = "items.jsonl of the catalog to index." };
        var corpus = new Option<DirectoryInfo?>("--corpus") { Description = "Or a Cranfield-style corpus directory (docs.jsonl …): index its documents for retrieval." };
        var output = new Option<DirectoryInfo>("--out", "-o") { Description = "Bundle directory to write (model, codebooks, ids.tsv, stats.json).", Required = true };
        var method = new Option<string>("--method") { Description = $"{methods?.Names ?? ProductMethods}: how the codes are learned on the text encoder.", DefaultValueFactory = _ => IdMethods.LMIndexer };
        var size = new Option<string>("--size") { Description = $"Model size when starting from scratch: {T5Config.PresetNamesText}.", DefaultValueFactory = _ => T5Config.DefaultSizeName };
        var baseBundle = new Option<DirectoryInfo?>("--base") { Description = "Start from this pretrained bundle instead of pretraining here." };
        var pretrainSteps = new Option<int>("--pretrain-steps") { Description = "Denoising pretraining steps when starting from scratch (0 skips).", DefaultValueFactory = _ => 200 };
        var positions = new Option<int>("--positions") { Description = "Learned ID positions (a collision counter follows).", DefaultValueFactory = _ => 2 };
        var core = new IndexerCoreOptions();
        var lr = new Option<double>("--lr") { Description = "Peak learning rate.", DefaultValueFactory = _ => 1e-3 };
        var warmupLr = new Option<double?>("--warmup-lr") { Description = "Peak learning rate of the reconstructor warm-up (default: --lr)." };
        var noWarmup = new Option<bool>("--no-warmup") { Description = "Ablation: skip the reconstructor warm-up." };
        var noContrastive = new Option<bool>("--no-contrastive") { Description = "Ablation: no contrastive loss." };
        var noCommitment = new Option<bool>("--no-commitment") { Description = "Ablation: no commitment loss." };
        var reconLayers = new Option<int>("--recon-layers") { Description = "Reconstructor depth.", DefaultValueFactory = _ => 1 };
        var maskRatio = new Option<double?>("--mask-ratio") { Description = "Reconstructor context mask ratio for every position (default 0.5 at position 1, 0.7 later)." };
        var leak = new Option<bool>("--replicate-reference-leak") { Description = "Replicate the reference's position-2 reconstructor leak (continuous h as query)." };
        var version = new Option<string>("--version") { Description = "Version label of the index.", DefaultValueFactory = _ => "v1" };
        var checkpointDir = new Option<DirectoryInfo?>("--checkpoint-dir") { Description = "Stage checkpoints for resuming an interrupted run (default: <out>.checkpoint; removed on success)." };
        var command = new Command("train", "Train the semantic indexer on a catalog and write an indexer bundle.")
        {
            items, corpus, output, size, baseBundle, pretrainSteps, positions, lr, warmupLr,
            noWarmup, noContrastive, noCommitment, reconLayers, maskRatio, leak, version, checkpointDir,
        };
        command.Options.Add(method);
        core.AddTo(command);
        common.AddTo(command);
        command.SetAction((result, cancellation) => CliErrors.RunAsync(() =>
        {
            var methodName = result.GetValue(method)!;
            var baseline = IdMethods.IsKnown(methodName) ? null : ParseMethod(methods, methodName);
            var ratio = result.GetValue(maskRatio);
            var options = core.Build(result, result.GetValue(common.Seed)) with
            {
                Method = baseline is null ? methodName : IdMethods.LMIndexer,
                Positions = result.GetValue(positions),
                Warmup = !result.GetValue(noWarmup),
                Contrastive = !result.GetValue(noContrastive),
                Commitment = !result.GetValue(noCommitment),
                ReconstructorLayers = result.GetValue(reconLayers),
                MaskRatioFirst = ratio ?? 0.5,
                MaskRatioLater = ratio ?? 0.7,
                ReplicateReferenceLeak = result.GetValue(leak),
                Optimizer = new OptimizerOptions { LearningRate = result.GetValue(lr) },
                WarmupLearningRate = result.GetValue(warmupLr),
            };
            options.Validate();   // before anything is read or trained: a bad flag fails at once
            var catalog = ReadCatalogToIndex(result.GetValue(items), result.GetValue(corpus));
            common.InitializeRuntime(result);
            var plan = new IndexingPlan
            {
                Indexer = options,
                Baseline = baseline,
                ModelSize = result.GetValue(size)!,
                BaseBundle = result.GetValue(baseBundle)?.FullName,
                PretrainSteps = result.GetValue(pretrainSteps),
                Version = result.GetValue(version)!,
                CheckpointDirectory = (result.GetValue(checkpointDir)?.FullName ?? result.GetValue(output)!.FullName.TrimEnd(Path.DirectorySeparatorChar) + ".checkpoint"),
            };
            var started = DateTime.UtcNow;
            var outcome = TrainingProgressView.Run("index", EstimateSteps(catalog.Items.Count, plan), progress => SemanticIndexing.Run(catalog, plan, progress, cancellation));
            SemanticIndexing.Save(outcome, result.GetValue(output)!.FullName);
            new IndexerCheckpoint(plan.CheckpointDirectory).Delete();
            AnsiConsole.Write(StatsTable(outcome.Stats));
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"{catalog.Items.Count} items indexed in {(DateTime.UtcNow - started).TotalSeconds:F0} s; bundle: {result.GetValue(output)!.FullName}");
            outcome.Bundle.Dispose();
            return Task.FromResult(0);
        }));
        return command;
    }

    private static readonly string ProductMethods = string.Join(" or ", IdMethods.Names);

    private static IEmbeddingCodeAssigner? ParseMethod(IndexingMethods? methods, string name)
    {
        try
        {
            return methods?.Parse(name) ?? throw new ArgumentException(name);
        }
        catch (ArgumentException)
        {
            throw new CliUsageException($"Unknown --method '{name}'; expected {methods?.Names ?? ProductMethods}.");
        }
    }

    internal static Catalog ReadCatalogToIndex(FileInfo? itemsFile, DirectoryInfo? corpusDirectory)
    {
        if ((itemsFile is null) == (corpusDirectory is null))
            throw new CliUsageException("Give either --items or --corpus.");
        if (itemsFile is not null)
        {
            if (!itemsFile.Exists)
                throw new CliUsageException($"{itemsFile.FullName} does not exist.");
            return new Catalog(CatalogFiles.ReadItems(itemsFile.FullName), []);
        }
        if (!corpusDirectory!.Exists)
            throw new CliUsageException($"{corpusDirectory.FullName} does not exist.");
        return new Catalog(Core.Downstream.RetrievalQueries.AsItems(RetrievalCorpus.Load(corpusDirectory.FullName)), []);
    }

    private static Command Assign()
    {
        var common = new CommonOptions();
        var bundle = new Option<DirectoryInfo>("--bundle", "-b") { Description = "Indexer bundle directory.", Required = true };
        var items = new Option<FileInfo>("--items") { Description = "items.jsonl of new or changed items.", Required = true };
        var output = new Option<FileInfo>("--out", "-o") { Description = "Where to write the updated ID table (item_id TAB c1 c2 … counter).", Required = true };
        var command = new Command("assign", "Assign semantic IDs to new or changed items with an existing indexer bundle.") { bundle, items, output };
        common.AddTo(command);
        command.SetAction(result => CliErrors.Run(() =>
        {
            common.InitializeRuntime(result);
            var itemsFile = result.GetValue(items)!;
            if (!itemsFile.Exists)
                throw new CliUsageException($"{itemsFile.FullName} does not exist.");
            using var indexer = IndexerBundle.Load(result.GetValue(bundle)!.FullName);
            // Streamed: items are read a chunk at a time, and the table is written only after the
            // last one, so a bad line anywhere fails with its number and leaves no output behind.
            var total = File.ReadLines(itemsFile.FullName).Count(line => !string.IsNullOrWhiteSpace(line));
            var (table, report) = ProgressBar.Run("assigning IDs", total,
                progress => indexer.AssignItems(CatalogFiles.EnumerateItems(itemsFile.FullName), progress));
            table.Save(result.GetValue(output)!.FullName);
            AnsiConsole.MarkupLineInterpolated($"{report.Unchanged} unchanged, {report.Changed} changed, {report.Added} new; {table.Count} IDs written to {result.GetValue(output)!.FullName}");
            return 0;
        }));
        return command;
    }

    private static Command Eval()
    {
        var bundle = new Argument<DirectoryInfo>("bundle") { Description = "Indexer bundle directory." };
        var items = new Option<FileInfo?>("--items") { Description = "items.jsonl with category labels, to recompute AMI against them." };
        var command = new Command("eval", "Report ID statistics (perplexity, collisions, AMI of c1 and c1c2).") { bundle, items };
        command.SetAction(result => CliErrors.Run(() =>
        {
            var directory = result.GetValue(bundle)!.FullName;
            var tablePath = Path.Combine(directory, SemanticIdTable.FileName);
            if (!File.Exists(tablePath))
                throw new CliUsageException($"{directory} has no {SemanticIdTable.FileName}; is it an indexer bundle?");
            var table = SemanticIdTable.Load(tablePath);
            var manifest = Core.Checkpoints.ModelBundle.ReadManifest(directory);
            var positions = int.Parse(manifest.Properties.GetValueOrDefault("positions", (table.Ids[0].Length - 1).ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
            IndexStats stats;
            if (result.GetValue(items) is { } itemsFile)
            {
                var catalog = new Catalog(CatalogFiles.ReadItems(itemsFile.FullName), []);
                var byId = catalog.Items.ToDictionary(i => i.ItemId, StringComparer.Ordinal);
                var missing = table.ItemIds.Count(id => !byId.ContainsKey(id));
                if (missing > 0)
                    throw new CliUsageException($"{missing} indexed items are not in {itemsFile.FullName}.");
                stats = IndexStats.Compute(table, positions, SemanticIndexing.Labels(new Catalog([.. table.ItemIds.Select(id => byId[id])], [])));
            }
            else
            {
                var statsPath = Path.Combine(directory, SemanticIndexing.StatsFile);
                stats = File.Exists(statsPath)
                    ? SemanticIndexing.ReadStats(statsPath)
                    : IndexStats.Compute(table, positions);
            }
            AnsiConsole.Write(StatsTable(stats));
            return 0;
        }));
        return command;
    }

    private static Command Drift()
    {
        var old = new Argument<FileSystemInfo>("old") { Description = "The current IDs: an ids.tsv or a bundle directory holding one.", CustomParser = r => Path.Exists(r.Tokens[0].Value) && Directory.Exists(r.Tokens[0].Value) ? new DirectoryInfo(r.Tokens[0].Value) : new FileInfo(r.Tokens[0].Value) };
        var next = new Argument<FileSystemInfo>("new") { Description = "The retrained IDs: an ids.tsv or a bundle directory.", CustomParser = r => Path.Exists(r.Tokens[0].Value) && Directory.Exists(r.Tokens[0].Value) ? new DirectoryInfo(r.Tokens[0].Value) : new FileInfo(r.Tokens[0].Value) };
        var top = new Option<int>("--top") { Description = "Largest moved groups to list.", DefaultValueFactory = _ => 10 };
        var command = new Command("drift", "What re-indexing changed: items that kept their c1 / full ID, whether groups stayed together (AMI, cohesion), the largest moved groups.") { old, next, top };
        command.SetAction(result => CliErrors.Run(() =>
        {
            var report = IdDriftReport.Compare(ReadTable(result.GetValue(old)!), ReadTable(result.GetValue(next)!), result.GetValue(top));
            var table = new Table().AddColumn("drift").AddColumn(new TableColumn("value").RightAligned());
            void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));
            Row("items in both / added / removed", string.Create(CultureInfo.InvariantCulture, $"{report.CommonItems} / {report.Added} / {report.Removed}"));
            Row("kept their first code c1", report.KeptFirstCode.ToString("P1", CultureInfo.InvariantCulture));
            Row("kept their full ID", report.KeptFullId.ToString("P1", CultureInfo.InvariantCulture));
            Row("AMI of old vs new c1 (groups stayed together: 1)", report.FirstCodeAmi.ToString("F3", CultureInfo.InvariantCulture));
            Row("group cohesion (share of each old group in its main new group)", report.GroupCohesion.ToString("P1", CultureInfo.InvariantCulture));
            foreach (var flow in report.LargestMoves)
                Row($"moved c1 {flow.OldFirstCode} → {flow.NewFirstCode}", flow.Items.ToString(CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }

    private static SemanticIdTable ReadTable(FileSystemInfo source)
    {
        var path = source is DirectoryInfo directory ? Path.Combine(directory.FullName, SemanticIdTable.FileName) : source.FullName;
        if (!File.Exists(path))
            throw new CliUsageException($"{path} does not exist.");
        return SemanticIdTable.Load(path);
    }

    internal static int EstimateSteps(int items, IndexingPlan plan)
    {
        var pretrain = plan.BaseBundle is null ? plan.PretrainSteps : 0;
        var total = pretrain + IdMethods.PlannedSteps(plan, items);
        return plan.Assigner is null ? total : Math.Max(1, total);
    }

    public static Table StatsTable(IndexStats stats)
    {
        var table = new Table().AddColumn("statistic").AddColumn(new TableColumn("value").RightAligned());
        void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));
        Row("items", stats.Items.ToString(CultureInfo.InvariantCulture));
        for (var p = 0; p < stats.LearnedPositions; p++)
            Row($"c{p + 1}: codes used / perplexity", string.Create(CultureInfo.InvariantCulture, $"{stats.CodesUsed[p]} / {stats.Perplexity[p]:F1}"));
        for (var p = 0; p < stats.PrefixDiversity.Length; p++)
            Row($"c{p + 2} diversity within {(p == 0 ? "c1" : $"c1..c{p + 1}")} prefixes", stats.PrefixDiversity[p].ToString("F3", CultureInfo.InvariantCulture));
        Row("collision rate", stats.CollisionRate.ToString("P1", CultureInfo.InvariantCulture));
        Row("largest group", stats.LargestGroup.ToString(CultureInfo.InvariantCulture));
        Row("items per c1 (max / median / min)", $"{stats.ItemsPerFirstCode[0]} / {stats.ItemsPerFirstCode[stats.ItemsPerFirstCode.Length / 2]} / {stats.ItemsPerFirstCode[^1]}");
        foreach (var (level, ami) in stats.AmiFirstCode.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            Row($"AMI c1 vs categories ({level})", ami.ToString("F4", CultureInfo.InvariantCulture));
        foreach (var (level, ami) in stats.AmiFirstTwoCodes.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            Row($"AMI c1c2 vs categories ({level})", ami.ToString("F4", CultureInfo.InvariantCulture));
        return table;
    }
}
