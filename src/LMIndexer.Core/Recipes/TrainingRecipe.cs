using LMIndexer.Core.Downstream;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Model;
using LMIndexer.Core.Training;

namespace LMIndexer.Core.Recipes;

/// <summary>Stage 1: the text model pretrained on the catalog's item texts by denoising.</summary>
public sealed record PretrainRecipe
{
    /// <summary>Model preset: tiny, mini, small or base.</summary>
    public string ModelSize { get; init; } = T5Config.DefaultSizeName;

    public DenoisingOptions Denoising { get; init; } = new();
}

/// <summary>
/// Everything <c>lmindexer train</c> does, as one file: the pretraining, the indexer and the
/// recommender settings are the option records the stages already take. One seed drives every stage.
/// </summary>
public sealed record TrainingRecipe
{
    public string Name { get; init; } = "custom";

    public int Seed { get; init; } = 42;

    public PretrainRecipe Pretrain { get; init; } = new();

    public SemanticIndexerOptions Indexer { get; init; } = new();

    public GenerativePlan Recommender { get; init; } = new();

    /// <summary>
    /// Product search (query → item ID) on the same IDs, trained when the catalog's items have
    /// titles; null leaves search out. Queries are built from item fields (<see cref="Downstream.ProxySearchQueries"/>).
    /// </summary>
    public GenerativePlan? Search { get; init; }

    /// <summary>The recipe with its seed written into every stage, as the stages will run it.</summary>
    public TrainingRecipe Resolved() => this with
    {
        Pretrain = Pretrain with { Denoising = Pretrain.Denoising with { Seed = Seed } },
        Indexer = Indexer with { Seed = Seed },
        Recommender = Recommender with { FineTune = Recommender.FineTune with { Seed = Seed, CheckpointDirectory = null } },
        Search = Search is null ? null : Search with { FineTune = Search.FineTune with { Seed = Seed, CheckpointDirectory = null } },
    };

    /// <summary>Every invalid field, each with its path in the recipe file.</summary>
    public IReadOnlyList<OptionError> Errors()
    {
        var errors = new List<OptionError>();
        if (!T5Config.PresetNames.Contains(Pretrain.ModelSize, StringComparer.Ordinal))
            errors.Add(new("pretrain.modelSize", $"unknown preset '{Pretrain.ModelSize}'; expected {T5Config.PresetNamesText}"));
        if (Pretrain.Denoising.Steps < 0)
            errors.Add(new("pretrain.denoising.steps", $"cannot be negative, got {Pretrain.Denoising.Steps}"));
        if (Pretrain.Denoising.BatchSize < 1)
            errors.Add(new("pretrain.denoising.batchSize", $"must be at least 1, got {Pretrain.Denoising.BatchSize}"));
        if (Pretrain.Denoising.MaskRatio is <= 0 or >= 1)
            errors.Add(new("pretrain.denoising.maskRatio", $"must be in (0, 1), got {Pretrain.Denoising.MaskRatio}"));
        errors.AddRange(Indexer.Errors().Select(e => e with { Field = "indexer." + e.Field }));
        errors.AddRange(Recommender.Errors().Select(e => e with { Field = "recommender." + e.Field }));
        if (Search is not null)
            errors.AddRange(Search.Errors().Select(e => e with { Field = "search." + e.Field }));
        return errors;
    }

    /// <summary>Throws a <see cref="RecipeException"/> naming every invalid field.</summary>
    public void Validate()
    {
        var errors = Errors();
        if (errors.Count > 0)
            throw new RecipeException(errors);
    }
}
