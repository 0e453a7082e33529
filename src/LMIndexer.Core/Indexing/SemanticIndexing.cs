using System.Globalization;
using System.Text.Json;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Data;
using LMIndexer.Core.Model;
using LMIndexer.Core.Text;
using LMIndexer.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Indexing;

/// <summary>Where the indexer's backbone comes from and how it is prepared.</summary>
public sealed record IndexingPlan
{
    /// <summary>Null trains LMIndexer; otherwise a baseline assigns the codes from the backbone's pooled embeddings.</summary>
    public IEmbeddingCodeAssigner? Baseline { get; init; }

    public SemanticIndexerOptions Indexer { get; init; } = new();

    /// <summary>Model size when starting from scratch: tiny, mini, small or base.</summary>
    public string ModelSize { get; init; } = T5Config.DefaultSizeName;

    /// <summary>A pretrained bundle to start from (its text vocabulary is kept); null builds one from the catalog.</summary>
    public string? BaseBundle { get; init; }

    /// <summary>Denoising steps run before ID training when no base bundle is given (0 skips).</summary>
    public int PretrainSteps { get; init; } = 200;

    public string Version { get; init; } = "v1";

    /// <summary>Where stage checkpoints go so that an interrupted run resumes; null disables them.</summary>
    public string? CheckpointDirectory { get; init; }
}

/// <summary>The artefacts of an indexing run.</summary>
public sealed record IndexingOutcome(ModelBundle Bundle, SemanticIdTable Table, IndexStats Stats, IndexerTrainingResult Training, Tensor[] Codebooks);

/// <summary>
/// Catalog → (pretrained) T5 → progressive LMIndexer training → collision counters → a bundle whose
/// ID-token rows hold the codebooks, with <c>codebooks.safetensors</c>, <c>ids.tsv</c> and <c>stats.json</c>.
/// </summary>
public static class SemanticIndexing
{
    public const string CodebooksFile = "codebooks.safetensors";
    public const string StatsFile = "stats.json";

    public static IndexingOutcome Run(Catalog catalog, IndexingPlan plan, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var options = plan.Indexer;
        options.Validate();
        var texts = catalog.Items.Select(ItemTextBuilder.Build).ToList();
        var textsHash = ModelBundle.HashOf(texts);
        var (t5, tokenizer) = Backbone(texts, textsHash, plan, progress, cancellationToken);
        var itemTokens = texts.Select(t => tokenizer.EncodeWithEos(t, options.MaxTokens)).ToList();

        IndexerTrainingResult training;
        Tensor[] codebooks;
        if (plan.Baseline is null)
        {
            // Not disposed as a whole: the T5 submodule lives on in the bundle.
            var indexer = new SemanticIndexerModel(t5, tokenizer, options.Positions, options.CodebookSize, options.ReconstructorLayers);
            var checkpoint = plan.CheckpointDirectory is null ? null : new IndexerCheckpoint(plan.CheckpointDirectory);
            training = ProgressiveIndexerTrainer.Train(indexer, itemTokens, options, progress, checkpoint, cancellationToken);
            codebooks = [.. Enumerable.Range(1, options.Positions).Select(p => indexer.Codebook(p).Embed.detach().clone())];
            indexer.Reconstructor.Dispose();
        }
        else
        {
            using var embeddings = ItemEmbeddings.Encode(t5, itemTokens);
            var codes = plan.Baseline.Assign(embeddings, options, cancellationToken);
            training = new IndexerTrainingResult(codes, codes, [], []);
            codebooks = [];
        }
        var table = SemanticIdTable.WithCounters([.. catalog.Items.Select(i => i.ItemId)], training.Codes);

        // Counter overflow (a reference bug): grow the counter range instead of emitting unknown tokens,
        // to twice what training needs so that items assigned later still find free counters.
        var counterSize = table.RequiredCounterSize > options.CounterSize ? 2 * table.RequiredCounterSize : options.CounterSize;
        var sizes = options.IdPositionSizes();
        sizes[^1] = counterSize;
        var finalModel = t5;
        var finalTokenizer = tokenizer;
        if (counterSize != options.CounterSize)
            (finalModel, finalTokenizer) = VocabularyResizer.WithIdPositions(t5, tokenizer, sizes);
        if (!ReferenceEquals(finalModel, t5))
            t5.Dispose();

        var stats = IndexStats.Compute(table, options.Positions, Labels(catalog));
        var manifest = new BundleManifest
        {
            Version = plan.Version,
            Kind = plan.Baseline is null ? "indexer" : "indexer-baseline",
            Config = finalModel.Config,
            TrainingDataHash = textsHash,
            Properties = new Dictionary<string, string>
            {
                ["method"] = plan.Baseline?.Method ?? LMIndexerMethod,
                ["positions"] = options.Positions.ToString(CultureInfo.InvariantCulture),
                ["codebookSize"] = options.CodebookSize.ToString(CultureInfo.InvariantCulture),
                ["counterSize"] = counterSize.ToString(CultureInfo.InvariantCulture),
                ["maxTokens"] = options.MaxTokens.ToString(CultureInfo.InvariantCulture),
                ["reconstructorLayers"] = options.ReconstructorLayers.ToString(CultureInfo.InvariantCulture),
                ["seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
                ["replicateReferenceLeak"] = options.ReplicateReferenceLeak ? "true" : "false",
            },
        };
        finalModel.eval();
        return new IndexingOutcome(new ModelBundle(finalModel, finalTokenizer, manifest), table, stats, training, codebooks);
    }

    /// <summary>Writes the bundle with its codebooks, ID table and stats.</summary>
    public static void Save(IndexingOutcome outcome, string directory)
    {
        outcome.Bundle.Save(directory, new Dictionary<string, Action<string>>
        {
            [CodebooksFile] = path => SafeTensors.Save(path, outcome.Codebooks.Select((c, i) => (Name: $"codebook.{i + 1}", c)).ToDictionary(x => x.Name, x => x.c)),
            [SemanticIdTable.FileName] = outcome.Table.Save,
            [StatsFile] = path => File.WriteAllText(path, JsonSerializer.Serialize(outcome.Stats, IndexJson.Default.IndexStats)),
        });
    }

    /// <summary>The manifest's <c>method</c> for IDs this product trains.</summary>
    public const string LMIndexerMethod = "lmindexer";

    /// <summary>Reads a <c>stats.json</c> written by <see cref="Save"/>.</summary>
    public static IndexStats ReadStats(string path) =>
        JsonSerializer.Deserialize(File.ReadAllText(path), IndexJson.Default.IndexStats) ?? throw new InvalidDataException($"{path}: empty stats.");

    /// <summary>Category labels at the levels the reports use: the full first path, and its first 1 and 2 levels.</summary>
    public static Dictionary<string, IReadOnlyList<string>>? Labels(Catalog catalog)
    {
        if (catalog.Items.All(i => i.PrimaryCategoryPath.Count == 0))
            return null;
        return new Dictionary<string, IReadOnlyList<string>>
        {
            ["full"] = [.. catalog.Items.Select(i => i.CategoryLabel())],
            ["level-1"] = [.. catalog.Items.Select(i => i.CategoryLabel(1))],
            ["level-2"] = [.. catalog.Items.Select(i => i.CategoryLabel(2))],
        };
    }

    private static (T5Model Model, CatalogTokenizer Tokenizer) Backbone(List<string> texts, string textsHash, IndexingPlan plan,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        var sizes = plan.Indexer.IdPositionSizes();
        if (plan.BaseBundle is not null)
        {
            using var bundle = ModelBundle.Load(plan.BaseBundle);
            return VocabularyResizer.WithIdPositions(bundle.Model, bundle.Tokenizer, sizes);
        }
        // A pretrained backbone left by an interrupted run of the same data is reused.
        var saved = plan.CheckpointDirectory is null ? null : Path.Combine(plan.CheckpointDirectory, "pretrained");
        if (saved is not null && ModelBundle.IsTrainedOn(saved, textsHash))
        {
            using var bundle = ModelBundle.Load(saved);
            return VocabularyResizer.WithIdPositions(bundle.Model, bundle.Tokenizer, sizes);
        }
        torch.manual_seed(plan.Indexer.Seed);
        var tokenizer = CatalogTokenizer.Build(texts, sizes);
        var model = new T5Model(T5Config.Preset(plan.ModelSize, tokenizer.VocabSize));
        if (plan.PretrainSteps > 0)
        {
            var encoded = texts.Select(t => tokenizer.Encode(t, plan.Indexer.MaxTokens)).Where(t => t.Length > 0).ToList();
            DenoisingPretrainer.Train(model, encoded, new DenoisingOptions
            {
                Steps = plan.PretrainSteps,
                BatchSize = plan.Indexer.BatchSize,
                MaxTokens = plan.Indexer.MaxTokens,
                Seed = plan.Indexer.Seed,
                BFloat16 = plan.Indexer.BFloat16,
            }, progress, cancellationToken);
            if (saved is not null)
            {
                model.train();
                new ModelBundle(model, tokenizer, new BundleManifest { Version = "pretrained", Kind = "pretrained", Config = model.Config, TrainingDataHash = textsHash }).Save(saved);
            }
        }
        return (model, tokenizer);
    }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(IndexStats))]
internal sealed partial class IndexJson : System.Text.Json.Serialization.JsonSerializerContext;
