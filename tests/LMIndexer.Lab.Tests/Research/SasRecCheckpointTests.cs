using LMIndexer.Core.Data.Synthetic;
using LMIndexer.Core.Training;
using LMIndexer.Research.Recommendation;
using LMIndexer.Testing;

namespace LMIndexer.Lab.Tests.Research;

public sealed class SasRecCheckpointTests
{
    [Fact]
    public void A_run_stopped_between_validations_resumes_from_the_last_and_ends_as_the_uninterrupted_run()
    {
        using var temp = new TempDirectory();
        var catalog = SyntheticCatalogGenerator.Generate(new SyntheticCatalogOptions { Items = 40, Users = 80, Seed = 5, MinSequenceLength = 4, MaxSequenceLength = 8 });
        var itemIds = catalog.Items.Select(i => i.ItemId).ToList();
        // Dropout on, so that the resumed run must also continue the generator's stream.
        var options = new SasRecOptions { Steps = 60, BatchSize = 16, EvalEvery = 20, Seed = 7, Model = new SasRecConfig { ItemCount = itemIds.Count, Hidden = 16, MaxLength = 6, Dropout = 0.3 } };
        using var straight = SasRecTrainer.Train(catalog, itemIds, options);

        var checkpoint = Path.Combine(temp.Path, "checkpoint");
        using var stop = new CancellationTokenSource();
        var stopped = new InlineProgress<TrainingProgress>(p => { if (p.Step == 30) stop.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => SasRecTrainer.Train(catalog, itemIds, options, stopped, checkpoint, stop.Token));
        Assert.True(File.Exists(Path.Combine(checkpoint, "state.json")), "the validation at step 20 saved the run");
        var firstStep = 0;
        using var resumed = SasRecTrainer.Train(catalog, itemIds, options, new InlineProgress<TrainingProgress>(p => firstStep = firstStep == 0 ? p.Step : firstStep), checkpoint);

        Assert.Equal(21, firstStep);   // it went on from step 20, not from the start
        Assert.Equal(straight.Validations.Select(v => (v.Step, v.TrainLoss, v.Metrics["ndcg@10"])), resumed.Validations.Select(v => (v.Step, v.TrainLoss, v.Metrics["ndcg@10"])));
        Assert.Equal(straight.BestStep, resumed.BestStep);
        var expected = straight.Model.state_dict();
        foreach (var (name, tensor) in resumed.Model.state_dict())
            Assert.True(tensor.allclose(expected[name], rtol: 0, atol: 0), $"{name} differs from the uninterrupted run's");

        SasRecTrainer.DeleteCheckpoint(checkpoint);
        Assert.False(Directory.Exists(checkpoint));
    }
}
