using LMIndexer.Abstractions;
using LMIndexer.Core.Data;
using LMIndexer.Core.Data.Synthetic;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Training;
using LMIndexer.Grains.Items;

namespace LMIndexer.Testing;

/// <summary>
/// A small serving bundle trained once per test process: synthetic catalog → tiny-budget LMIndexer IDs on a
/// tiny pretrained model → a few fine-tuning steps. Quality does not matter to the tests that use
/// it; that every part of the bundle is real does. Written under the temp directory with the
/// catalog files beside it (<see cref="CatalogDirectory"/>), and removed when the process exits.
/// </summary>
public static class TestServingBundle
{
    private static readonly Lazy<(Catalog Catalog, string Root)> Built = new(Build);
    private static readonly Lazy<string> IndexedBuilt = new(BuildIndexed);
    private static readonly Lazy<string> DenseBuilt = new(BuildDense);

    /// <summary>
    /// A serving bundle (version <c>a1</c>) fine-tuned from a real LMIndexer index of the same
    /// catalog, whose manifest names that indexer: what assigning IDs to new items needs.
    /// </summary>
    public static string IndexedDirectory => IndexedBuilt.Value;

    public static Catalog Catalog => Built.Value.Catalog;

    /// <summary>The serving bundle directory (version <c>v1</c>).</summary>
    public static string Directory => Path.Combine(Built.Value.Root, "serving");

    /// <summary>
    /// A "retrained" version <c>v2</c>: the same model and trie, the IDs handed to other items
    /// (item i gets the ID of item i + 1), as a retrained indexer would move them.
    /// </summary>
    public static string Version2Directory => MovedVersion("v2", 1);

    /// <summary>Another "retrained" version: item i gets the ID of item i + <paramref name="shift"/>. Written once per name.</summary>
    public static string MovedVersion(string version, int shift)
    {
        var directory = Path.Combine(Built.Value.Root, "serving-" + version);
        lock (Built)
        {
            if (!System.IO.Directory.Exists(directory))
                ServingBundle.CopyAsVersion(Path.Combine(Built.Value.Root, "serving"), directory, version,
                    table => new SemanticIdTable([.. table.ItemIds.Skip(shift).Concat(table.ItemIds.Take(shift))], table.Ids));
        }
        return directory;
    }

    /// <summary>A search serving bundle over the same IDs (version <c>s1</c>).</summary>
    public static string SearchDirectory => Path.Combine(Built.Value.Root, "search");

    /// <summary>items.jsonl and sequences.tsv of the catalog.</summary>
    public static string CatalogDirectory => Path.Combine(Built.Value.Root, "catalog");

    /// <summary>
    /// A serving bundle (version <c>d1</c>) of a fresh network reading item tokens, with a dense item
    /// head (<c>--dense-loss</c>): one that serving ranks hybrid, and that gives new items vectors from their text.
    /// </summary>
    public static string DenseDirectory => DenseBuilt.Value;

    public static IReadOnlyList<ItemRecord> Records => [.. Catalog.Items.Select(i => i.ToRecord())];

    private static void DeleteQuietly(string root)
    {
        try
        {
            System.IO.Directory.Delete(root, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A child process still holding a file: the folder stays, as it did before.
        }
    }

    private static string BuildIndexed()
    {
        var root = Built.Value.Root;
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
        var serving = Path.Combine(root, "serving-a1");
        outcome.Save(serving);
        return serving;
    }

    private static string BuildDense()
    {
        using var outcome = RecommenderTraining.Run(Catalog, Path.Combine(Built.Value.Root, "index"), new GenerativePlan
        {
            FreshModel = true,
            Source = new HistorySourceOptions { Mode = SourceMode.IdsAndItems, MaxSourceTokens = 21 },
            FineTune = new FineTuneOptions { Steps = 20, EvalEvery = 0, ValidationLimit = 8, DenseLoss = 1, Evaluation = new EvaluationOptions { Beams = 5 }, Optimizer = new OptimizerOptions { LearningRate = 3e-3 } },
            Version = "d1",
        });
        var serving = Path.Combine(Built.Value.Root, "serving-d1");
        outcome.Save(serving, ColdStartProjection.Fit(outcome.Bundle, outcome.Table, Catalog.Items, training: outcome.Data.Train));
        return serving;
    }

    private static (Catalog, string) Build()
    {
        var root = Path.Combine(Path.GetTempPath(), "lmindexer-tests", "serving-" + Guid.NewGuid().ToString("N"));
        // Each test process trains its own (about 10 MB); left behind, they filled developers' temp folders.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteQuietly(root);
        var catalog = SyntheticCatalogGenerator.Generate(new SyntheticCatalogOptions { Items = 120, Users = 200, Seed = 9, MinSequenceLength = 5, MaxSequenceLength = 9 });
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
        return (catalog, root);
    }

}
