using LMIndexer.Abstractions;
using LMIndexer.Core.Data;
using LMIndexer.Core.Data.Synthetic;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Training;
using LMIndexer.Grains.Items;

namespace LMIndexer.Testing;

/// <summary>
/// A small serving bundle: synthetic catalog → tiny-budget LMIndexer IDs on a tiny pretrained model →
/// a few fine-tuning steps. Quality does not matter to the tests that use it; that every part of the
/// bundle is real does. Built once per build of the code and shared by every test process (each
/// test assembly is one) under the temp directory, with the catalog files beside it
/// (<see cref="CatalogDirectory"/>): training it in each process cost CI minutes.
/// </summary>
public static class TestServingBundle
{
    private static readonly SyntheticCatalogOptions CatalogOptions = new() { Items = 120, Users = 200, Seed = 9, MinSequenceLength = 5, MaxSequenceLength = 9 };
    private static readonly Lazy<Catalog> CatalogBuilt = new(() => SyntheticCatalogGenerator.Generate(CatalogOptions));
    private static readonly Lazy<string> Built = new(() => SharedBundles.Build("base", BuildBase));
    private static readonly Lazy<string> IndexedBuilt = new(() => Path.Combine(SharedBundles.Build("indexed", BuildIndexed), "serving-a1"));
    private static readonly Lazy<string> DenseBuilt = new(() => Path.Combine(SharedBundles.Build("dense", BuildDense), "serving-d1"));
    private static readonly Lazy<string> ProcessRoot = new(SharedBundles.ProcessFolder);

    /// <summary>
    /// A serving bundle (version <c>a1</c>) fine-tuned from a real LMIndexer index of the same
    /// catalog, whose manifest names that indexer: what assigning IDs to new items needs.
    /// </summary>
    public static string IndexedDirectory => IndexedBuilt.Value;

    public static Catalog Catalog => CatalogBuilt.Value;

    /// <summary>The serving bundle directory (version <c>v1</c>).</summary>
    public static string Directory => Path.Combine(Built.Value, "serving");

    /// <summary>
    /// A "retrained" version <c>v2</c>: the same model and trie, the IDs handed to other items
    /// (item i gets the ID of item i + 1), as a retrained indexer would move them.
    /// </summary>
    public static string Version2Directory => MovedVersion("v2", 1);

    /// <summary>Another "retrained" version: item i gets the ID of item i + <paramref name="shift"/>. Written once per name and process.</summary>
    public static string MovedVersion(string version, int shift)
    {
        var directory = Path.Combine(ProcessRoot.Value, "serving-" + version);
        lock (ProcessRoot)
        {
            if (!System.IO.Directory.Exists(directory))
                ServingBundle.CopyAsVersion(Directory, directory, version,
                    table => new SemanticIdTable([.. table.ItemIds.Skip(shift).Concat(table.ItemIds.Take(shift))], table.Ids));
        }
        return directory;
    }

    /// <summary>A search serving bundle over the same IDs (version <c>s1</c>).</summary>
    public static string SearchDirectory => Path.Combine(Built.Value, "search");

    /// <summary>items.jsonl and sequences.tsv of the catalog.</summary>
    public static string CatalogDirectory => Path.Combine(Built.Value, "catalog");

    /// <summary>
    /// A serving bundle (version <c>d1</c>) of a fresh network reading item tokens, with a dense item
    /// head (<c>--dense-loss</c>): one that serving ranks hybrid, and that gives new items vectors from their text.
    /// </summary>
    public static string DenseDirectory => DenseBuilt.Value;

    public static IReadOnlyList<ItemRecord> Records => [.. Catalog.Items.Select(i => i.ToRecord())];

    private static void BuildIndexed(string root)
    {
        var indexing = SemanticIndexing.Run(Catalog, new IndexingPlan
        {
            ModelSize = "tiny",
            PretrainSteps = 5,
            Indexer = new SemanticIndexerOptions
            {
                CodebookSize = 4,
                CounterSize = 2,
                MaxTokens = 32,
                BatchSize = 16,
                WarmupEpochs = 1,
                ContinuousEpochs = 1,
                CodebookEpochs = 1,
                KMeans = new KMeansOptions { Restarts = 2, MaxIterations = 50 },
            },
        });
        var index = Path.Combine(root, "lm-index");
        SemanticIndexing.Save(indexing, index);
        indexing.Bundle.Dispose();
        using var outcome = RecommenderTraining.Run(Catalog, index, new GenerativePlan
        {
            Source = new HistorySourceOptions { Mode = SourceMode.Titles, MaxSourceTokens = 48, MaxItemTokens = 12 },
            FineTune = new FineTuneOptions { Steps = 10, EvalEvery = 0, ValidationLimit = 8, Evaluation = new EvaluationOptions { Beams = 5 } },
            Version = "a1",
        });
        outcome.Save(Path.Combine(root, "serving-a1"));
    }

    private static void BuildDense(string root)
    {
        using var outcome = RecommenderTraining.Run(Catalog, Path.Combine(Built.Value, "index"), new GenerativePlan
        {
            FreshModel = true,
            Source = new HistorySourceOptions { Mode = SourceMode.IdsAndItems, MaxSourceTokens = 21 },
            FineTune = new FineTuneOptions { Steps = 20, EvalEvery = 0, ValidationLimit = 8, DenseLoss = 1, Evaluation = new EvaluationOptions { Beams = 5 }, Optimizer = new OptimizerOptions { LearningRate = 3e-3 } },
            Version = "d1",
        });
        outcome.Save(Path.Combine(root, "serving-d1"), ColdStartProjection.Fit(outcome.Bundle, outcome.Table, Catalog.Items, training: outcome.Data.Train));
    }

    private static void BuildBase(string root)
    {
        var catalog = Catalog;
        CatalogFiles.Save(Path.Combine(root, "catalog"), catalog);
        var indexing = SemanticIndexing.Run(catalog, new IndexingPlan
        {
            ModelSize = "tiny",
            PretrainSteps = 10,
            Indexer = new SemanticIndexerOptions
            {
                CodebookSize = 8, CounterSize = 32, MaxTokens = 32,
                WarmupEpochs = 1, ContinuousEpochs = 1, CodebookEpochs = 1,
                KMeans = new KMeansOptions { Restarts = 2, MaxIterations = 50 },
            },
        });
        var index = Path.Combine(root, "index");
        SemanticIndexing.Save(indexing, index);
        indexing.Bundle.Dispose();
        using var outcome = RecommenderTraining.Run(catalog, index, new GenerativePlan
        {
            Source = new HistorySourceOptions { Mode = SourceMode.Titles, MaxSourceTokens = 48, MaxItemTokens = 12 },
            FineTune = new FineTuneOptions { Steps = 40, EvalEvery = 0, ValidationLimit = 8, Evaluation = new EvaluationOptions { Beams = 5 }, Optimizer = new OptimizerOptions { LearningRate = 3e-3 } },
            Version = "v1",
        });
        outcome.Save(Path.Combine(root, "serving"));
        using var search = QueryTraining.Search(catalog.Items, index, new GenerativePlan
        {
            Source = new HistorySourceOptions { MaxSourceTokens = 32 },
            FineTune = new FineTuneOptions { Steps = 30, EvalEvery = 0, ValidationLimit = 8, Evaluation = new EvaluationOptions { Beams = 5 }, Optimizer = new OptimizerOptions { LearningRate = 3e-3 } },
            Version = "s1",
        }, itemTextQueries: true);
        search.Save(Path.Combine(root, "search"));
    }

}
