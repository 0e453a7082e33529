using System.Runtime.CompilerServices;
using LMIndexer.Abstractions;
using LMIndexer.Core.Data;
using LMIndexer.Core.Data.Synthetic;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Runtime;
using LMIndexer.Core.Training;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace LMIndexer.Grains.Tests;

internal static class TestRuntime
{
    [ModuleInitializer]
    internal static void Initialize() => TorchRuntime.Initialize(new TorchRuntimeOptions { Threads = 2 });
}

/// <summary>
/// A small serving bundle trained once for the grain tests: synthetic catalog → k-means-tree IDs
/// on a tiny pretrained model → a few fine-tuning steps. Quality does not matter here; that every
/// part of the bundle is real does.
/// </summary>
public static class TestBundle
{
    private static readonly Lazy<(Catalog Catalog, string Directory)> Built = new(Build);

    public static Catalog Catalog => Built.Value.Catalog;

    public static string Directory => Built.Value.Directory;

    public static IReadOnlyList<ItemRecord> Records => [.. Catalog.Items.Select(i => new ItemRecord(i.ItemId, i.Title, i.Description, i.Brand, i.Price, i.Categories))];

    private static (Catalog, string) Build()
    {
        var root = Path.Combine(Path.GetTempPath(), "lmindexer-grain-tests", Guid.NewGuid().ToString("N"));
        var catalog = SyntheticCatalogGenerator.Generate(new SyntheticCatalogOptions { Items = 120, Users = 200, Seed = 9, MinSequenceLength = 5, MaxSequenceLength = 9 });
        var indexing = SemanticIndexing.Run(catalog, new IndexingPlan
        {
            Method = IndexingMethod.KMeansTree,
            ModelSize = "tiny",
            PretrainSteps = 10,
            Indexer = new SemanticIndexerOptions { CodebookSize = 8, CounterSize = 32, MaxTokens = 32 },
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
        var serving = Path.Combine(root, "serving");
        outcome.Save(serving);
        return (catalog, serving);
    }
}
