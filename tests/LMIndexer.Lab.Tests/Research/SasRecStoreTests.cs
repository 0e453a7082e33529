using LMIndexer.Core.Data.Synthetic;
using LMIndexer.Research.Recommendation;
using LMIndexer.Testing;

namespace LMIndexer.Lab.Tests.Research;

public sealed class SasRecStoreTests
{
    [Fact]
    public void A_saved_sasrec_loads_with_its_validations_and_ranks_as_it_did_only_for_the_same_settings_and_items()
    {
        using var temp = new TempDirectory();
        var catalog = SyntheticCatalogGenerator.Generate(new SyntheticCatalogOptions { Items = 40, Users = 80, Seed = 5, MinSequenceLength = 4, MaxSequenceLength = 8 });
        var itemIds = catalog.Items.Select(i => i.ItemId).ToList();
        var options = new SasRecOptions { Steps = 20, BatchSize = 16, EvalEvery = 10, Seed = 7, Model = new SasRecConfig { ItemCount = itemIds.Count, Hidden = 16, MaxLength = 6 } };
        var folder = SasRecStore.Folder(temp.Path, options, itemIds);
        Assert.Null(SasRecStore.TryLoad(folder, options, itemIds));   // nothing saved yet

        using var trained = SasRecTrainer.Train(catalog, itemIds, options);
        SasRecStore.Save(folder, options, trained);
        using var loaded = SasRecStore.TryLoad(folder, options, itemIds);

        Assert.NotNull(loaded);
        Assert.Equal(trained.BestStep, loaded.BestStep);
        Assert.Equal(trained.Seconds, loaded.Seconds);
        Assert.Equal(trained.Validations.Select(v => (v.Step, v.Metrics["ndcg@10"])), loaded.Validations.Select(v => (v.Step, v.Metrics["ndcg@10"])));
        var test = SasRecTrainer.TestExamples(catalog, itemIds);
        Assert.Equal(SasRecTrainer.Evaluate(trained.Model, test, [5, 10]).Metrics, SasRecTrainer.Evaluate(loaded.Model, test, [5, 10]).Metrics);

        // Another seed, another setting or another item list is another model: its folder differs, and this one's record refuses it.
        var otherSeed = options with { Seed = 8 };
        var otherDropout = options with { Model = options.Model! with { Dropout = 0.2 } };
        var reordered = itemIds.AsEnumerable().Reverse().ToList();
        Assert.NotEqual(folder, SasRecStore.Folder(temp.Path, otherSeed, itemIds));
        Assert.NotEqual(folder, SasRecStore.Folder(temp.Path, otherDropout, itemIds));
        Assert.NotEqual(folder, SasRecStore.Folder(temp.Path, options, reordered));
        Assert.Null(SasRecStore.TryLoad(folder, otherSeed, itemIds));
        Assert.Null(SasRecStore.TryLoad(folder, otherDropout, itemIds));
        Assert.Null(SasRecStore.TryLoad(folder, options, reordered));

        // A save cut short before its record is not a model.
        File.Delete(Path.Combine(folder, SasRecStore.RecordFile));
        Assert.Null(SasRecStore.TryLoad(folder, options, itemIds));
    }
}
