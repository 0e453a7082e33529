using LMIndexer.Core.Data.Synthetic;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Model;
using LMIndexer.Core.Text;
using TorchSharp;

namespace LMIndexer.Core.Tests.Indexing;

public sealed class ProgressiveScheduleTests
{
    [Theory]
    [InlineData(0)]   // the stage is skipped: position 2 goes straight to k-means
    [InlineData(2)]   // twice the steps of position 1's continuous stage
    public void Position_two_continuous_stage_runs_its_own_number_of_epochs(int laterEpochs)
    {
        var options = new SemanticIndexerOptions
        {
            CodebookSize = 4,
            CounterSize = 64,
            MaxTokens = 16,
            BatchSize = 16,
            WarmupEpochs = 1,
            ContinuousEpochs = 1,
            CodebookEpochs = 1,
            LaterContinuousEpochs = laterEpochs,
            KMeans = new KMeansOptions { Restarts = 1, MaxIterations = 20 },
        };
        var catalog = SyntheticCatalogGenerator.Generate(new SyntheticCatalogOptions { Items = 48, Users = 5, Seed = 3 });
        var texts = catalog.Items.Select(ItemTextBuilder.Build).ToList();
        var tokenizer = CatalogTokenizer.Build(texts, options.IdPositionSizes());
        var tokens = texts.Select(t => tokenizer.EncodeWithEos(t, options.MaxTokens)).ToList();
        torch.manual_seed(1);
        using var model = new SemanticIndexerModel(new T5Model(T5Config.Tiny(tokenizer.VocabSize)), tokenizer, 2, options.CodebookSize, 1);

        var result = ProgressiveIndexerTrainer.Train(model, tokens, options);

        var stepsPerEpoch = 48 / 16;
        var stages = result.Stages.Select(s => (s.Position, s.Stage)).ToList();
        Assert.Equal(laterEpochs > 0, stages.Contains((2, IndexerStage.Continuous)));
        Assert.Equal(stepsPerEpoch, result.Stages.Single(s => s is { Position: 1, Stage: IndexerStage.Continuous }).Steps);
        Assert.Equal(stepsPerEpoch, result.Stages.Single(s => s is { Position: 2, Stage: IndexerStage.Codebook }).Steps);
        if (laterEpochs > 0)
            Assert.Equal(laterEpochs * stepsPerEpoch, result.Stages.Single(s => s is { Position: 2, Stage: IndexerStage.Continuous }).Steps);
        Assert.Equal(ProgressiveIndexerTrainer.PlannedSteps(options, 48), result.Stages.Sum(s => s.Steps)); // the progress bar's total
        Assert.All(result.Codes, c => Assert.InRange(c[1], 0, options.CodebookSize - 1));   // position 2 still gets codes
    }
}
