using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Encoders;
using LMIndexer.Core.Model;
using LMIndexer.Core.Runtime;
using LMIndexer.Core.Training;
using TorchSharp;

namespace LMIndexer.Core.Tests.Downstream;

/// <summary>
/// A generative model fine-tuned from an index bundle learned on a pretrained encoder reads its
/// sources through that encoder (as the indexer read the items), trains its projection, and
/// serves the same from its bundle.
/// </summary>
public sealed class PretrainedSourceTrainingTests(RecommenderFixture fixture) : IClassFixture<RecommenderFixture>
{
    private static GenerativePlan SearchPlan(int steps, bool bfloat16 = false) => new()
    {
        Source = new HistorySourceOptions { MaxSourceTokens = 16 },
        FineTune = new FineTuneOptions
        {
            Steps = steps,
            BatchSize = 16,
            EvalEvery = 0,
            ValidationLimit = 0,
            BFloat16 = bfloat16,
            Optimizer = new OptimizerOptions { LearningRate = 3e-3, WarmupRatio = 0.05 },
        },
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]   // bf16 compute casts the attached BERT too: it must come back bit-exact and the states it keeps must not outlive the cast
    public void Search_fine_tuning_trains_the_indexers_encoder_projection_and_serves_it_from_the_bundle(bool bfloat16)
    {
        using var indexer = ModelBundle.Load(fixture.IndexDirectory);
        var indexed = indexer.Model.SourceEncoder;
        Assert.NotNull(indexed);
        Assert.Equal("minilm", indexed.Package.Name);

        // bf16 matmuls are about ten times slower on these CPUs; a few steps show what the cast keeps.
        using var outcome = QueryTraining.Search(fixture.Catalog.Items, fixture.IndexDirectory, SearchPlan(bfloat16 ? 8 : 40, bfloat16), itemTextQueries: true);
        var model = outcome.Bundle.Model;
        var tuned = model.SourceEncoder;
        Assert.NotNull(tuned);
        Assert.All(model.parameters(), p => Assert.Equal(torch.ScalarType.Float32, p.dtype));   // back to fp32 after a bf16 run
        Assert.False(tuned.KeepsFrozenStates);                                   // training's kept states are gone
        Assert.Equal("minilm", outcome.Bundle.Manifest.Properties[PretrainedSourceEncoder.EncoderProperty]);
        var before = indexer.Model.state_dict();
        var after = model.state_dict();
        static float Change(torch.Tensor a, torch.Tensor b) => (a - b).abs().max().item<float>();
        Assert.True(Change(before["source_encoder.projection.weight"], after["source_encoder.projection.weight"]) > 0, "the projection into the decoder trains");
        Assert.Equal(0f, Change(before["source_encoder.bert.encoder.layer.0.attention.self.query.weight"], after["source_encoder.bert.encoder.layer.0.attention.self.query.weight"]));
        Assert.Equal(0f, Change(before["encoder.block.0.layer.0.SelfAttention.q.weight"], after["encoder.block.0.layer.0.SelfAttention.q.weight"]));   // the T5 encoder is not read

        using var temp = new TempDirectory();
        outcome.Save(temp.Path);
        var (weights, _) = SafeTensors.Load(Path.Combine(temp.Path, ModelBundle.WeightsFile));
        Assert.DoesNotContain(weights.Keys, k => k.StartsWith(T5Model.SourceEncoderPrefix, StringComparison.Ordinal));   // the package's frozen weights are not copied
        foreach (var t in weights.Values)
            t.Dispose();
        Assert.True(File.Exists(Path.Combine(temp.Path, PretrainedSourceEncoder.FileName)));

        using var serving = ServingBundle.Load(temp.Path);
        Assert.NotNull(serving.Bundle.Model.SourceEncoder);
        var query = outcome.Data.Train.Take(4).Select(e => e.Source).ToList();
        var width = query.Max(q => q.Length);
        using var ids = torch.tensor(query.SelectMany(q => q.Concat(Enumerable.Repeat(0, width - q.Length)).Select(t => (long)t)).ToArray(), [query.Count, width]);
        using var mask = ids.OtherThan(0);
        using (torch.no_grad())
        {
            using var served = serving.Bundle.Model.Encode(ids, mask);
            using var trained = model.Encode(ids, mask);
            using var indexedStates = indexer.Model.Encode(ids, mask);
            Assert.True(Change(served, trained) < 1e-5f, "the served model encodes queries as the trained one does");
            Assert.True(Change(indexedStates, trained) > 1e-3f, "fine-tuning moved the projection the queries are read through");
        }

        // Without the encoder's name the bundle would load as a T5-encoder model: saving it is refused.
        var unnamed = outcome.Bundle.Manifest with { Properties = outcome.Bundle.Manifest.Properties.Where(p => p.Key != PretrainedSourceEncoder.EncoderProperty).ToDictionary() };
        var refused = Assert.Throws<InvalidOperationException>(() => new ModelBundle(model, outcome.Bundle.Tokenizer, unnamed).Save(Path.Combine(temp.Path, "unnamed")));
        Assert.Contains("minilm", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Id_sources_on_the_indexers_network_keep_reading_with_its_t5_encoder()
    {
        // ID tokens are rows of the T5 vocabulary, which the pretrained text encoder cannot read.
        var plan = SearchPlan(1) with { Source = new HistorySourceOptions { Mode = SourceMode.Ids, MaxSourceTokens = 16 } };
        using var outcome = RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, plan);
        Assert.Null(outcome.Bundle.Model.SourceEncoder);
        Assert.False(outcome.Bundle.Manifest.Properties.ContainsKey(PretrainedSourceEncoder.EncoderProperty));
        using var temp = new TempDirectory();
        outcome.Save(temp.Path);
        using var serving = ServingBundle.Load(temp.Path);
        Assert.Null(serving.Bundle.Model.SourceEncoder);
    }
}
