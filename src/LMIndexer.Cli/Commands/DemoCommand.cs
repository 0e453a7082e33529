using System.CommandLine;
using System.Globalization;
using LMIndexer.Cli.Console;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Data;
using LMIndexer.Core.Data.Synthetic;
using LMIndexer.Core.Generation;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Model;
using LMIndexer.Core.Recipes;
using LMIndexer.Core.Text;
using LMIndexer.Core.Training;
using Spectre.Console;

namespace LMIndexer.Cli.Commands;

/// <summary>
/// <c>lmindexer demo</c>: the README's main job. It generates the synthetic catalog, then runs the
/// training pipeline with the demo recipe stage by stage (pretraining, semantic IDs, the
/// generative recommender), showing what each stage learnt, then starts the
/// embedded Orleans cluster with the API and widget, replays the users' events and serves until
/// Ctrl+C. Artefacts are reused on later runs unless <c>--fresh</c>.
/// </summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var work = new Option<DirectoryInfo>("--work") { Description = "Working directory for the demo's artefacts.", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("data", "demo")) };
        var items = new Option<int>("--items") { Description = "Synthetic catalog items.", DefaultValueFactory = _ => 2000 };
        var users = new Option<int>("--users") { Description = "Synthetic catalog users.", DefaultValueFactory = _ => 3000 };
        var steps = new Option<int>("--steps") { Description = "Pretraining steps.", DefaultValueFactory = _ => 600 };
        // tiny keeps the whole demo within a few minutes on 2 cores; `--size small` is the quality default elsewhere.
        var size = new Option<string>("--size") { Description = $"Model size: {T5Config.PresetNamesText}.", DefaultValueFactory = _ => T5Config.DefaultSizeName };
        var fresh = new Option<bool>("--fresh") { Description = "Ignore artefacts from earlier runs." };
        var recSteps = new Option<int>("--rec-steps") { Description = "Recommender fine-tuning steps.", DefaultValueFactory = _ => 1500 };
        var port = new Option<int>("--port") { Description = "Loopback port of the API and widget (0: any free port).", DefaultValueFactory = _ => 5080 };
        var noServe = new Option<bool>("--no-serve") { Description = "Train only; do not start the cluster." };
        var exitAfterStart = new Option<bool>("--exit-after-start") { Description = "Start the cluster, replay events, print the URLs, then stop (for scripts)." };
        var command = new Command("demo", "Run the end-to-end demo on a synthetic catalog: train, then serve recommendations from the embedded cluster.")
        {
            work, items, users, steps, size, fresh, recSteps, port, noServe, exitAfterStart,
        };
        common.AddTo(command);
        command.SetAction((result, cancellation) => CliErrors.RunAsync(async () =>
        {
            ModelCommands.Positive(result.GetValue(steps), "--steps");
            ModelCommands.Positive(result.GetValue(recSteps), "--rec-steps");
            if (result.GetValue(port) is < 0 or > 65535)
                throw new CliUsageException($"--port must be between 0 and 65535, got {result.GetValue(port)}.");
            // The demo trains the shipped demo recipe; its flags are overrides of it.
            var recipe = RecipeFile.Parse(ShippedRecipes.Read("demo"),
            [
                $"seed={result.GetValue(common.Seed)}",
                $"pretrain.modelSize={result.GetValue(size)}",
                $"pretrain.denoising.steps={result.GetValue(steps)}",
                $"recommender.fineTune.steps={result.GetValue(recSteps)}",
                $"recommender.fineTune.evalEvery={Math.Max(1, result.GetValue(recSteps) / 3)}",
            ]);
            common.InitializeRuntime(result);
            var root = result.GetValue(work)!.FullName;
            var catalogDir = Path.Combine(root, "catalog");
            var modelDir = Path.Combine(root, "model");
            if (result.GetValue(fresh) && Directory.Exists(root))
                Directory.Delete(root, recursive: true);

            AnsiConsole.Write(new Rule("[bold]1. Synthetic catalog[/]").LeftJustified());
            var catalog = LoadOrGenerate(catalogDir, new SyntheticCatalogOptions { Items = result.GetValue(items), Users = result.GetValue(users), Seed = result.GetValue(common.Seed) });
            AnsiConsole.Write(DataCommands.StatsTable(catalog));
            var runner = new TrainCommand.ProgressStageRunner();

            AnsiConsole.Write(new Rule("[bold]2. Pretrain the text model[/]").LeftJustified());
            TrainingPipeline.Run(catalog, recipe, modelDir, runner, TrainingPipeline.PretrainStage, catalogDir, cancellation);
            using (var bundle = ModelBundle.Load(Path.Combine(modelDir, TrainingPipeline.PretrainedFolder)))
            {
                AnsiConsole.Write(ModelCommands.ManifestTable(bundle.Manifest, bundle.Tokenizer, new FileInfo(Path.Combine(modelDir, TrainingPipeline.PretrainedFolder, ModelBundle.WeightsFile)).Length));
                AnsiConsole.Write(new Rule("[bold]3. What the model learnt: fill in masked item text[/]").LeftJustified());
                ShowInfilling(bundle, catalog);
            }

            AnsiConsole.Write(new Rule("[bold]4. Learn semantic IDs (LMIndexer)[/]").LeftJustified());
            var run = TrainingPipeline.Run(catalog, recipe, modelDir, runner, TrainingPipeline.IndexStage, catalogDir, cancellation);
            AnsiConsole.Write(IndexCommands.StatsTable(SemanticIndexing.ReadStats(Path.Combine(run.IndexerDirectory, SemanticIndexing.StatsFile))));
            ShowIdGroups(SemanticIdTable.Load(Path.Combine(run.IndexerDirectory, SemanticIdTable.FileName)), catalog);

            AnsiConsole.Write(new Rule("[bold]5. Fine-tune the generative recommender[/]").LeftJustified());
            run = TrainingPipeline.Run(catalog, recipe, modelDir, runner, catalogDirectory: catalogDir, cancellationToken: cancellation);
            TrainCommand.WriteValidation(run);
            if (result.GetValue(noServe))
                return 0;
            AnsiConsole.Write(new Rule("[bold]6. Serve from the embedded Orleans cluster[/]").LeftJustified());
            return await DemoServing.ServeAsync(run.ServingDirectory, catalogDir, catalog, result.GetValue(port), result.GetValue(exitAfterStart), cancellation);
        }));
        return command;
    }

    private static Catalog LoadOrGenerate(string directory, SyntheticCatalogOptions options)
    {
        if (File.Exists(Path.Combine(directory, CatalogFiles.ItemsFile)))
        {
            AnsiConsole.MarkupLineInterpolated($"reusing {directory}");
            return CatalogFiles.Load(directory);
        }
        var catalog = SyntheticCatalogGenerator.Generate(options);
        CatalogFiles.Save(directory, catalog);
        AnsiConsole.MarkupLineInterpolated($"generated {directory}");
        return catalog;
    }

    private static void ShowIdGroups(SemanticIdTable table, Catalog catalog)
    {
        var byId = catalog.Items.ToDictionary(i => i.ItemId, StringComparer.Ordinal);
        var view = new Table().AddColumn("first code c1").AddColumn("items").AddColumn("examples (title — category)");
        foreach (var group in table.ItemIds.Zip(table.Ids).GroupBy(x => x.Second[0]).OrderByDescending(g => g.Count()).Take(5))
        {
            var examples = group.Take(3).Select(x => $"{x.First} {string.Join('-', x.Second)}: {byId[x.First].Title} — {byId[x.First].CategoryLabel()}");
            view.AddRow(group.Key.ToString(CultureInfo.InvariantCulture), group.Count().ToString(CultureInfo.InvariantCulture), Markup.Escape(string.Join("\n", examples)));
        }
        AnsiConsole.Write(view);
    }

    private static void ShowInfilling(ModelBundle bundle, Catalog catalog)
    {
        var tokenizer = bundle.Tokenizer;
        var samples = catalog.Items.Where((_, i) => i % Math.Max(1, catalog.Items.Count / 3) == 0).Take(3).ToList();
        var sources = new List<int[]>();
        foreach (var item in samples)
        {
            var tokens = tokenizer.Encode(ItemTextBuilder.Build(item), 48);
            // Hide the title words after the brand: the model must restore them from the rest.
            var masked = tokens.Select((t, i) => i is >= 3 and < 6 ? CatalogTokenizer.MaskId : t).Where((t, i) => i is < 4 or >= 6).ToList();
            sources.Add([.. masked, CatalogTokenizer.EosId]);
        }
        var outputs = GreedyDecoder.Generate(bundle.Model, sources, 48);
        var table = new Table().AddColumn("input (masked)").AddColumn("model output");
        for (var i = 0; i < samples.Count; i++)
            table.AddRow(Markup.Escape(tokenizer.Decode(sources[i])), Markup.Escape(tokenizer.Decode(outputs[i])));
        AnsiConsole.Write(table);
    }
}
