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
    /// <summary>
    /// Assigns the codes from sentence vectors instead of <see cref="SemanticIndexerOptions.Method"/>'s
    /// choice (the research project's baselines); null follows the method.
    /// </summary>
    public IEmbeddingCodeAssigner? Baseline { get; init; }

    /// <summary>The assigner of the codes: <see cref="Baseline"/>, else the method's (null trains LMIndexer).</summary>
    public IEmbeddingCodeAssigner? Assigner => Baseline ?? IdMethods.AssignerFor(Indexer);

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
/// <param name="SourceEncoderWeights">The trained part of a pretrained source encoder (empty for t5-scratch and the embedding assigners).</param>
/// <param name="Assigned">An embedding assigner's codes and saved state; null when LMIndexer learned the codes.</param>
public sealed record IndexingOutcome(ModelBundle Bundle, SemanticIdTable Table, IndexStats Stats, IndexerTrainingResult Training, Tensor[] Codebooks,
    IReadOnlyDictionary<string, Tensor> SourceEncoderWeights, EmbeddingCodes? Assigned = null);

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
        var package = Encoders.TextEncoders.Package(options.Encoder);

        IndexerTrainingResult training;
        Tensor[] codebooks;
        var sourceEncoderWeights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var assigner = plan.Assigner;
        EmbeddingCodes? assigned = null;
        if (assigner is null)
        {
            torch.manual_seed(options.Seed);
            var sourceEncoder = package is null ? null
                : new Encoders.PretrainedSourceEncoder(package, tokenizer, t5.Config.DModel, options.EncoderTrainableLayers) { KeepsFrozenStates = true };
            // Not disposed as a whole: the T5 submodule lives on in the bundle.
            var indexer = new SemanticIndexerModel(t5, tokenizer, options.Positions, options.CodebookSize, options.ReconstructorLayers, sourceEncoder);
            var checkpoint = plan.CheckpointDirectory is null ? null : new IndexerCheckpoint(plan.CheckpointDirectory);
            training = ProgressiveIndexerTrainer.Train(indexer, itemTokens, options, progress, checkpoint, cancellationToken);
            codebooks = [.. Enumerable.Range(1, options.Positions).Select(p => indexer.Codebook(p).Embed.detach().clone())];
            indexer.Reconstructor.Dispose();
            if (sourceEncoder is not null)
            {
                foreach (var (name, weight) in sourceEncoder.TrainedWeights())
                    sourceEncoderWeights[name] = weight.detach().clone();
                sourceEncoder.Dispose();
            }
        }
        else
        {
            // The embedding methods quantise sentence vectors: the pretrained encoder's (TIGER's recipe) or the backbone's pooled states.
            using var embeddings = package is null ? ItemEmbeddings.Encode(t5, itemTokens) : SentenceEmbeddings(package, texts, cancellationToken);
            assigned = assigner.Assign(embeddings, options, progress, cancellationToken);
            training = new IndexerTrainingResult(assigned.Codes, assigned.Codes, [], []);
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
            // A method that kept no state cannot code new items: its bundle is for benchmarks only.
            Kind = assigner is null || assigned!.State.Count > 0 ? "indexer" : "indexer-baseline",
            Config = finalModel.Config,
            TrainingDataHash = textsHash,
            Properties = new Dictionary<string, string>
            {
                ["method"] = assigner?.Method ?? IdMethods.LMIndexer,
                ["positions"] = options.Positions.ToString(CultureInfo.InvariantCulture),
                ["codebookSize"] = options.CodebookSize.ToString(CultureInfo.InvariantCulture),
                ["counterSize"] = counterSize.ToString(CultureInfo.InvariantCulture),
                ["maxTokens"] = options.MaxTokens.ToString(CultureInfo.InvariantCulture),
                ["reconstructorLayers"] = options.ReconstructorLayers.ToString(CultureInfo.InvariantCulture),
                ["seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
                ["replicateReferenceLeak"] = options.ReplicateReferenceLeak ? "true" : "false",
                [Encoders.PretrainedSourceEncoder.EncoderProperty] = options.Encoder,
                [Encoders.PretrainedSourceEncoder.TrainableLayersProperty] = options.EncoderTrainableLayers.ToString(CultureInfo.InvariantCulture),
            },
        };
        foreach (var (key, value) in assigned?.Properties ?? new Dictionary<string, string>())
            manifest.Properties[key] = value;
        finalModel.eval();
        return new IndexingOutcome(new ModelBundle(finalModel, finalTokenizer, manifest), table, stats, training, codebooks, sourceEncoderWeights, assigned);
    }

    /// <summary>Writes the bundle with its codebooks, ID table and stats.</summary>
    public static void Save(IndexingOutcome outcome, string directory)
    {
        var files = new Dictionary<string, Action<string>>
        {
            [CodebooksFile] = path => SafeTensors.Save(path, outcome.Codebooks.Select((c, i) => (Name: $"codebook.{i + 1}", c)).ToDictionary(x => x.Name, x => x.c)),
            [SemanticIdTable.FileName] = outcome.Table.Save,
            [StatsFile] = path => File.WriteAllText(path, JsonSerializer.Serialize(outcome.Stats, IndexJson.Default.IndexStats)),
        };
        if (outcome.SourceEncoderWeights.Count > 0)
            files[Encoders.PretrainedSourceEncoder.FileName] = path => SafeTensors.Save(path, outcome.SourceEncoderWeights);
        if (outcome.Assigned is { StateFile: { } stateFile, State.Count: > 0 } assigned)
            files[stateFile] = path => SafeTensors.Save(path, assigned.State);
        outcome.Bundle.Save(directory, files);
    }

    /// <summary>Unit sentence vectors of the item texts from a packaged pretrained encoder. // [items, hidden]</summary>
    public static Tensor SentenceEmbeddings(Encoders.PretrainedEncoderPackage package, IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        using var encoder = new Encoders.OnnxSentenceEncoder(package, threads: torch.get_num_threads());
        return SentenceEmbeddings(encoder, texts, cancellationToken);
    }

    /// <summary>Unit sentence vectors of the texts from an open encoder. // [texts, hidden]</summary>
    public static Tensor SentenceEmbeddings(Encoders.OnnxSentenceEncoder encoder, IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        var vectors = encoder.Embed(texts, cancellationToken: cancellationToken);
        return torch.tensor(vectors.SelectMany(v => v).ToArray(), [vectors.Length, encoder.Dimension]);
    }

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
        var encoding = Encoders.TextEncoders.BaseEncodingFor(plan.Indexer.Encoder);
        if (plan.BaseBundle is not null)
        {
            using var bundle = ModelBundle.Load(plan.BaseBundle);
            if (bundle.Tokenizer.Base.Name != encoding.Name)
                throw new ArgumentException($"{plan.BaseBundle} tokenizes with {bundle.Tokenizer.Base.Name}; the {plan.Indexer.Encoder} encoder reads {encoding.Name}: pretrain the base for this encoder.");
            return VocabularyResizer.WithIdPositions(bundle.Model, bundle.Tokenizer, sizes);
        }
        // A pretrained backbone left by an interrupted run of the same data is reused.
        var saved = plan.CheckpointDirectory is null ? null : Path.Combine(plan.CheckpointDirectory, "pretrained");
        if (saved is not null && ModelBundle.IsTrainedOn(saved, textsHash))
        {
            using var bundle = ModelBundle.Load(saved);
            if (bundle.Tokenizer.Base.Name == encoding.Name)
                return VocabularyResizer.WithIdPositions(bundle.Model, bundle.Tokenizer, sizes);
        }
        torch.manual_seed(plan.Indexer.Seed);
        var tokenizer = CatalogTokenizer.Build(texts, sizes, baseEncoding: encoding);
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
