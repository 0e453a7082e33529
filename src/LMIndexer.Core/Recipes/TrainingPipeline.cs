using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Data;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Runtime;
using LMIndexer.Core.Text;
using LMIndexer.Core.Training;

namespace LMIndexer.Core.Recipes;

/// <summary>How the pipeline shows its stages: the CLI draws a progress view per stage, tests run them plainly.</summary>
public interface IStageRunner
{
    /// <summary>Runs one stage of about <paramref name="plannedSteps"/> optimiser steps.</summary>
    T Run<T>(string stage, int plannedSteps, Func<IProgress<TrainingProgress>?, T> work);

    /// <summary>A stage whose output an earlier run left complete.</summary>
    void Reused(string stage, string directory);
}

/// <summary>What <see cref="TrainingPipeline.Run"/> left in the output folder; <see cref="Validation"/> when it trained the recommender.</summary>
public sealed record TrainingRun(string ServingDirectory, string IndexerDirectory, IReadOnlyList<string> StagesRun, bool Complete, RecommenderValidation? Validation = null);

/// <summary>The kept checkpoint's validation figure and popularity's on the same users.</summary>
public sealed record RecommenderValidation(string Metric, double Model, int BestStep, double Popularity);

/// <summary>
/// <c>lmindexer train</c>: catalog → pretrained text model → semantic IDs → recommender (and product
/// search when the recipe has it and the items have titles), each stage
/// saved atomically under the output folder. A rerun after a crash reuses every finished stage and
/// resumes the unfinished one from its checkpoint, so it ends with the bundle an uninterrupted run
/// writes; a rerun with a changed recipe retrains from the first stage the change touches. The
/// serving bundle's manifest records the fully resolved recipe.
/// </summary>
public static class TrainingPipeline
{
    public const string PretrainStage = "pretrain";
    public const string IndexStage = "index";
    public const string RecommenderStage = "recommender";
    public const string SearchStage = "search";
    public static readonly IReadOnlyList<string> Stages = [PretrainStage, IndexStage, RecommenderStage, SearchStage];

    public const string ServingFolder = "serving";
    public const string SearchFolder = "search";
    public const string IndexerFolder = "indexer";
    public const string PretrainedFolder = "pretrained";
    public const string RunFile = "run.json";
    public const string CheckpointsFolder = "checkpoints";

    /// <summary>The manifest property holding the fingerprint of the recipe part and data a stage's bundle was trained from.</summary>
    public const string StageProperty = "recipeStage";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Runs (or resumes) every stage, or up to <paramref name="stopAfter"/> when given.</summary>
    /// <param name="catalogDirectory">Where the catalog was read from, recorded so that <c>lmindexer serve</c> finds it.</param>
    public static TrainingRun Run(Catalog catalog, TrainingRecipe recipe, string outputDirectory, IStageRunner runner, string? stopAfter = null,
        string? catalogDirectory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(runner);
        if (stopAfter is not null && !Stages.Contains(stopAfter, StringComparer.Ordinal))
            throw new ArgumentException($"Unknown stage '{stopAfter}'; expected {string.Join(", ", Stages)}.", nameof(stopAfter));
        recipe = recipe.Resolved();
        recipe.Validate();
        var root = Path.GetFullPath(outputDirectory);
        var recipeJson = RecipeFile.Serialize(recipe);
        var fingerprints = StageFingerprints(recipe, catalog);
        using var claim = OutputFolderLock.Acquire(root);
        ClaimOutput(root, recipeJson, catalogDirectory);

        var pretrained = Path.Combine(root, PretrainedFolder);
        var indexer = Path.Combine(root, IndexerFolder);
        var serving = Path.Combine(root, ServingFolder);
        var ran = new List<string>();

        if (IsDone(pretrained, fingerprints[0]))
        {
            runner.Reused(PretrainStage, pretrained);
        }
        else
        {
            var plan = new PretrainingPlan
            {
                ModelSize = recipe.Pretrain.ModelSize,
                MaxTokens = recipe.Indexer.MaxTokens,
                IdPositionSizes = recipe.Indexer.IdPositionSizes(),
                Denoising = recipe.Pretrain.Denoising with { MaxTokens = recipe.Indexer.MaxTokens },
                Encoder = recipe.Indexer.Encoder,
            };
            var (bundle, _) = runner.Run(PretrainStage, plan.Denoising.Steps, p => CatalogPretraining.Run(catalog, plan, p, cancellationToken));
            using (bundle)
            {
                bundle.Manifest.Properties[StageProperty] = fingerprints[0];
                bundle.Save(pretrained);
            }
            ran.Add(PretrainStage);
        }
        if (stopAfter == PretrainStage)
            return new TrainingRun(serving, indexer, ran, Complete: false);

        if (IsDone(indexer, fingerprints[1]))
        {
            runner.Reused(IndexStage, indexer);
        }
        else
        {
            var checkpoint = CheckpointFor(root, IndexStage, fingerprints[1]);
            var plan = new IndexingPlan { Indexer = recipe.Indexer, BaseBundle = pretrained, Version = recipe.Recommender.Version, CheckpointDirectory = checkpoint };
            var outcome = runner.Run(IndexStage, IdMethods.PlannedSteps(plan, catalog.Items.Count), p => SemanticIndexing.Run(catalog, plan, p, cancellationToken));
            outcome.Bundle.Manifest.Properties[StageProperty] = fingerprints[1];
            SemanticIndexing.Save(outcome, indexer);
            outcome.Bundle.Dispose();
            DeleteCheckpoint(checkpoint);
            ran.Add(IndexStage);
        }
        if (stopAfter == IndexStage)
            return new TrainingRun(serving, indexer, ran, Complete: false);

        RecommenderValidation? validation = null;
        if (IsDone(serving, fingerprints[2]))
        {
            runner.Reused(RecommenderStage, serving);
        }
        else
        {
            var fineTune = recipe.Recommender.FineTune with { CheckpointDirectory = CheckpointFor(root, RecommenderStage, fingerprints[2]) };
            var recommender = recipe.Recommender with { FineTune = fineTune };
            using var trained = runner.Run(RecommenderStage, fineTune.Steps, p => RecommenderTraining.Run(catalog, indexer, recommender, p, cancellationToken));
            trained.Bundle.Manifest.Properties[StageProperty] = fingerprints[2];
            trained.Bundle.Manifest.Properties["recipe"] = recipeJson;
            trained.Save(serving, ColdStartProjection.Fit(trained.Bundle, trained.Table, catalog.Items, cancellationToken: cancellationToken, training: trained.Data.Train));
            DeleteCheckpoint(fineTune.CheckpointDirectory);
            ran.Add(RecommenderStage);
            var validationUsers = fineTune.ValidationLimit > 0 ? [.. trained.Data.Validation.Take(fineTune.ValidationLimit)] : trained.Data.Validation;
            var popularity = GenerativeEvaluator.EvaluateRanking(validationUsers, _ => trained.Data.Popularity, fineTune.Evaluation).Metrics[fineTune.SelectionMetric];
            validation = new RecommenderValidation(fineTune.SelectionMetric, trained.Report.BestMetric, trained.Report.BestStep, popularity);
        }
        if (stopAfter == RecommenderStage || !TrainsSearch(recipe, catalog))
            return new TrainingRun(serving, indexer, ran, Complete: true, validation);

        var search = Path.Combine(root, SearchFolder);
        if (IsDone(search, fingerprints[3]))
        {
            runner.Reused(SearchStage, search);
        }
        else
        {
            var fineTune = recipe.Search!.FineTune with { CheckpointDirectory = CheckpointFor(root, SearchStage, fingerprints[3]) };
            var plan = recipe.Search with { FineTune = fineTune };
            using var trained = runner.Run(SearchStage, fineTune.Steps, p => QueryTraining.Search(catalog.Items, indexer, plan, itemTextQueries: false, p, cancellationToken));
            trained.Bundle.Manifest.Properties[StageProperty] = fingerprints[3];
            trained.Bundle.Manifest.Properties["recipe"] = recipeJson;
            trained.Save(search);
            DeleteCheckpoint(fineTune.CheckpointDirectory);
            ran.Add(SearchStage);
        }
        return new TrainingRun(serving, indexer, ran, Complete: true, validation);
    }

    /// <summary>Search is trained when the recipe has it and the items have titles to build queries from.</summary>
    private static bool TrainsSearch(TrainingRecipe recipe, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(catalog);
        return recipe.Search is not null && catalog.Items.Any(i => !string.IsNullOrWhiteSpace(i.Title));
    }

    /// <summary>The resolved recipe a finished (or interrupted) run recorded, or null when the folder holds none.</summary>
    public static RunRecord? ReadRun(string outputDirectory)
    {
        var path = Path.Combine(outputDirectory, RunFile);
        return File.Exists(path) ? JsonSerializer.Deserialize<RunRecord>(File.ReadAllText(path)) : null;
    }

    /// <summary>
    /// What each stage's output depends on: its part of the recipe, the data it reads and the stage
    /// before it. A stage whose saved fingerprint matches is reused; any change retrains it and
    /// every stage after it, and nothing before it.
    /// </summary>
    private static string[] StageFingerprints(TrainingRecipe recipe, Catalog catalog)
    {
        static string Hash(params string[] parts) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", parts))))[..16].ToLowerInvariant();
        string Json<T>(T value) => JsonSerializer.Serialize(value, RecipeFile.Options);
        var texts = ModelBundle.HashOf(catalog.Items.Select(ItemTextBuilder.Build));
        string[] pretrainParts = [PretrainStage, Json(recipe.Pretrain), Json(recipe.Indexer.IdPositionSizes()), recipe.Indexer.MaxTokens.ToString(System.Globalization.CultureInfo.InvariantCulture), texts];
        // The encoder fixes the backbone's vocabulary; t5-scratch adds nothing, so that its runs keep their fingerprints.
        if (recipe.Indexer.Encoder != Encoders.TextEncoders.T5Scratch)
            pretrainParts = [.. pretrainParts, Encoders.TextEncoders.BaseEncodingFor(recipe.Indexer.Encoder).Name];
        var pretrain = Hash(pretrainParts);
        var index = Hash(IndexStage, pretrain, Json(recipe.Indexer), recipe.Recommender.Version);
        var recommender = Hash(RecommenderStage, index, Json(recipe.Recommender), RecommenderTraining.DataHash(catalog));
        var search = Hash(SearchStage, index, Json(recipe.Search), texts);
        return [pretrain, index, recommender, search];
    }

    private static bool IsDone(string bundleDirectory, string fingerprint) =>
        File.Exists(Path.Combine(bundleDirectory, ModelBundle.ManifestFile))
        && ModelBundle.ReadManifest(bundleDirectory).Properties.GetValueOrDefault(StageProperty) == fingerprint;

    /// <summary>The stage's checkpoint folder for this fingerprint; those of other recipes are removed, they cannot resume this one.</summary>
    private static string CheckpointFor(string root, string stage, string fingerprint)
    {
        var checkpoints = Path.Combine(root, CheckpointsFolder);
        var mine = Path.Combine(checkpoints, $"{stage}-{fingerprint}");
        if (Directory.Exists(checkpoints))
        {
            foreach (var stale in Directory.GetDirectories(checkpoints, stage + "-*").Where(d => d != mine))
                Directory.Delete(stale, recursive: true);
        }
        Directory.CreateDirectory(mine);
        return mine;
    }

    private static void DeleteCheckpoint(string directory)
    {
        if (Directory.Exists(directory))
            Directory.Delete(directory, recursive: true);
    }

    /// <summary>
    /// Records the recipe and catalog of the run in <c>run.json</c>, or refuses a folder that holds
    /// something other than a training run: the stages would write into it.
    /// </summary>
    private static void ClaimOutput(string root, string recipeJson, string? catalogDirectory)
    {
        var existing = ReadRun(root);
        if (existing is null && Directory.EnumerateFileSystemEntries(root).Any(e => Path.GetFileName(e) != OutputFolderLock.FileName))
            throw new InvalidOperationException($"{root} is not empty and holds no training run; choose a new output folder.");
        File.WriteAllText(Path.Combine(root, RunFile), JsonSerializer.Serialize(new RunRecord(catalogDirectory ?? existing?.Catalog, JsonDocument.Parse(recipeJson).RootElement), Indented));
    }
}

/// <summary>The output folder's <c>run.json</c>: which recipe (resolved) and data the stages there belong to.</summary>
public sealed record RunRecord(string? Catalog, JsonElement Recipe);
