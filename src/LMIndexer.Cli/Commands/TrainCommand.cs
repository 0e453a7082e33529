using System.CommandLine;
using System.Globalization;
using LMIndexer.Cli.Console;
using LMIndexer.Core.Data;
using LMIndexer.Core.Recipes;
using LMIndexer.Core.Training;
using Spectre.Console;

namespace LMIndexer.Cli.Commands;

/// <summary>
/// <c>lmindexer train</c>: the whole pipeline from a catalog folder to a serving bundle, driven by
/// a recipe file; stage by stage with a progress view each, resumable after a crash.
/// </summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var catalog = new Option<DirectoryInfo>("--catalog", "-c") { Description = "Catalog folder: items.jsonl and sequences.tsv.", Required = true };
        var recipe = RecipeOption();
        var set = SetOption();
        var output = new Option<DirectoryInfo>("--out", "-o") { Description = "Output folder: serving/ (the bundle to serve), indexer/, pretrained/, run.json.", Required = true };
        var stopAfter = new Option<string?>("--stop-after") { Description = $"Stop after this stage ({string.Join(", ", TrainingPipeline.Stages)}); rerun without it to continue." };
        var command = new Command("train", "Train on a catalog with a recipe: pretrain, learn semantic IDs, fine-tune the recommender; writes a serving bundle. Rerun to resume.")
        {
            catalog, recipe, set, output, stopAfter,
        };
        common.AddTo(command);
        common.Seed.Description = RecipeSeedDescription;
        command.SetAction((result, cancellation) => CliErrors.RunAsync(() =>
        {
            var parsed = ReadRecipe(result, recipe, set, common);
            var stop = result.GetValue(stopAfter);
            if (stop is not null && !TrainingPipeline.Stages.Contains(stop, StringComparer.Ordinal))
                throw new CliUsageException($"Unknown --stop-after '{stop}'; expected {string.Join(", ", TrainingPipeline.Stages)}.");
            // The recipe and flags are checked before anything is read or written.
            var data = RecCommands.LoadCatalog(result.GetValue(catalog)!);
            common.InitializeRuntime(result);
            var outputDirectory = result.GetValue(output)!.FullName;
            var run = TrainingPipeline.Run(data, parsed, outputDirectory, new ProgressStageRunner(), stop, result.GetValue(catalog)!.FullName, cancellation);
            if (!run.Complete)
            {
                AnsiConsole.MarkupLineInterpolated($"stopped after {stop}; rerun the same command without --stop-after to continue");
                return Task.FromResult(0);
            }
            WriteValidation(run);
            AnsiConsole.MarkupLineInterpolated($"serving bundle: {run.ServingDirectory}");
            if (run.StagesRun.Contains(TrainingPipeline.SearchStage) || Directory.Exists(Path.Combine(outputDirectory, TrainingPipeline.SearchFolder)))
                AnsiConsole.MarkupLineInterpolated($"search bundle: {Path.Combine(outputDirectory, TrainingPipeline.SearchFolder)}");
            AnsiConsole.MarkupLineInterpolated($"serve it: lmindexer serve --bundle {outputDirectory}");
            return Task.FromResult(0);
        }));
        return command;
    }

    /// <summary>What <c>--seed</c> means where a recipe is read: given, it replaces the recipe's seed.</summary>
    public const string RecipeSeedDescription = "Replaces the recipe's seed (every stage uses it); without it the recipe's own seed applies.";

    public static Option<string> RecipeOption() => new("--recipe", "-r")
    {
        Description = $"A recipe file, or a shipped recipe: {string.Join(", ", ShippedRecipes.Names)}.",
        DefaultValueFactory = _ => "default",
    };

    public static Option<string[]> SetOption() => new("--set")
    {
        Description = "Override a recipe field, e.g. --set recommender.fineTune.steps=500 (repeatable).",
        DefaultValueFactory = _ => [],
    };

    /// <summary>The recipe with the <c>--set</c> overrides and an explicit <c>--seed</c> applied, validated (one line naming every bad field).</summary>
    internal static TrainingRecipe ReadRecipe(ParseResult result, Option<string> recipe, Option<string[]> set, CommonOptions common)
    {
        var overrides = result.GetValue(set)!.ToList();
        if (result.GetResult(common.Seed) is { Implicit: false })
            overrides.Add(string.Create(CultureInfo.InvariantCulture, $"seed={result.GetValue(common.Seed)}"));
        return RecipeFile.Parse(ShippedRecipes.Read(result.GetValue(recipe)!), overrides);
    }

    /// <summary>The kept checkpoint's validation figure beside popularity's, when this run trained the recommender.</summary>
    internal static void WriteValidation(TrainingRun run)
    {
        if (run.Validation is { } v)
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"validation {v.Metric} {v.Model:F4} at step {v.BestStep} (popularity {v.Popularity:F4})");
    }

    /// <summary>
    /// A progress view per stage; reused stages are named with their folder, once: the demo runs the
    /// pipeline stage by stage with one runner, and a stage it just trained is not news.
    /// </summary>
    internal sealed class ProgressStageRunner : IStageRunner
    {
        private readonly HashSet<string> reported = new(StringComparer.Ordinal);

        public T Run<T>(string stage, int plannedSteps, Func<IProgress<TrainingProgress>?, T> work)
        {
            reported.Add(stage);
            AnsiConsole.Write(new Rule($"[bold]{Markup.Escape(stage)}[/]").LeftJustified());
            return TrainingProgressView.Run(stage, Math.Max(1, plannedSteps), progress => work(progress));
        }

        public void Reused(string stage, string directory)
        {
            if (reported.Add(stage))
                AnsiConsole.MarkupLineInterpolated($"{stage}: reusing {directory} (finished by an earlier run)");
        }
    }
}

/// <summary>The recipes that ship beside the binary (<c>Recipes/*.json</c>), or a recipe file by path.</summary>
public static class ShippedRecipes
{
    public static IReadOnlyList<string> Names { get; } = ["default", "demo"];

    public static string Directory => Path.Combine(AppContext.BaseDirectory, "Recipes");

    /// <summary>The text of a shipped recipe by name, or of the file at <paramref name="nameOrPath"/>.</summary>
    public static string Read(string nameOrPath)
    {
        var path = Names.Contains(nameOrPath, StringComparer.Ordinal) ? Path.Combine(Directory, nameOrPath + ".json") : nameOrPath;
        if (!File.Exists(path))
            throw new CliUsageException($"--recipe: {path} does not exist; give a recipe file or one of {string.Join(", ", Names)}.");
        return File.ReadAllText(path);
    }
}
