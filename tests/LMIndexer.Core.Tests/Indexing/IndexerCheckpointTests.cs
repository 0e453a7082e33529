using LMIndexer.Core.Data.Synthetic;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Model;
using LMIndexer.Core.Text;
using LMIndexer.Core.Training;
using TorchSharp;

namespace LMIndexer.Core.Tests.Indexing;

public sealed class IndexerCheckpointTests
{
    private static readonly SemanticIndexerOptions Options = new()
    {
        CodebookSize = 4,
        CounterSize = 64,
        MaxTokens = 24,
        BatchSize = 16,
        WarmupEpochs = 1,
        ContinuousEpochs = 1,
        CodebookEpochs = 1,
        KMeans = new KMeansOptions { Restarts = 2, MaxIterations = 30 },
    };

    [Theory]
    [InlineData("continuous p2")]   // stopped before position 2's first stage finished
    [InlineData("codebook p2")]     // stopped after it had trained the <id_0_*> rows
    public void Interrupted_run_resumes_to_exactly_the_uninterrupted_result(string stopInStage)
    {
        using var temp = new TempDirectory();
        var catalog = SyntheticCatalogGenerator.Generate(new SyntheticCatalogOptions { Items = 64, Users = 5, Seed = 8 });
        var texts = catalog.Items.Select(ItemTextBuilder.Build).ToList();
        var tokenizer = CatalogTokenizer.Build(texts, Options.IdPositionSizes());
        var tokens = texts.Select(t => tokenizer.EncodeWithEos(t, Options.MaxTokens)).ToList();

        SemanticIndexerModel NewModel()
        {
            torch.manual_seed(17);
            return new SemanticIndexerModel(new T5Model(T5Config.Tiny(tokenizer.VocabSize)), tokenizer, 2, Options.CodebookSize, 1);
        }

        using var reference = NewModel();
        var uninterrupted = ProgressiveIndexerTrainer.Train(reference, tokens, Options);

        // Stop inside a stage of position 2, then resume from the checkpoint.
        var checkpoint = new IndexerCheckpoint(Path.Combine(temp.Path, "ckpt"));
        using var cancellation = new CancellationTokenSource();
        var stopper = new InlineProgress<TrainingProgress>(p =>
        {
            if (p.Stage == stopInStage)
                cancellation.Cancel();
        });
        using (var first = NewModel())
            Assert.ThrowsAny<OperationCanceledException>(() => ProgressiveIndexerTrainer.Train(first, tokens, Options, stopper, checkpoint, cancellation.Token));
        Assert.True(File.Exists(Path.Combine(checkpoint.Directory, "progress.json")));

        using var resumedModel = NewModel();
        var resumed = ProgressiveIndexerTrainer.Train(resumedModel, tokens, Options, null, checkpoint);
        Assert.Equal(uninterrupted.Codes.Select(c => string.Join(',', c)), resumed.Codes.Select(c => string.Join(',', c)));
        Assert.Equal(uninterrupted.Stages.Count, resumed.Stages.Count);
        var expected = reference.state_dict();
        foreach (var (name, tensor) in resumedModel.state_dict())
            Assert.True(tensor.allclose(expected[name], rtol: 0, atol: 0), $"{name} differs from the uninterrupted run");

        // Another configuration must not pick up this checkpoint.
        using var other = NewModel();
        Assert.Null(checkpoint.TryResume(other, IndexerCheckpoint.Fingerprint(Options with { Seed = 99 }, tokens)));
    }
}
