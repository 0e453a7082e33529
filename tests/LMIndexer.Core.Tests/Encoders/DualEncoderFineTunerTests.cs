using LMIndexer.Core.Downstream;
using LMIndexer.Core.Encoders;

namespace LMIndexer.Core.Tests.Encoders;

/// <summary>The packaged encoders in TorchSharp, and their fine-tuning with in-batch negatives.</summary>
public sealed class DualEncoderFineTunerTests
{
    private static readonly string[] Titles = BeautyStyleTitles.All;

    private static double Dot(float[] a, float[] b) => a.Zip(b, (x, y) => (double)x * y).Sum();

    [Theory]
    [InlineData("minilm")]
    [InlineData("arctic-xs")]
    public void Untrained_vectors_equal_onnx_runtimes_batched_and_padded(string name)
    {
        var package = PretrainedEncoderPackage.Named(name);
        using var torchEncoder = new TrainableSentenceEncoder(package);
        using var onnx = new OnnxSentenceEncoder(package, threads: 1);
        var ours = torchEncoder.Embed(Titles, batchSize: 3);
        var expected = onnx.Embed(Titles, batchSize: 8);
        for (var i = 0; i < Titles.Length; i++)
        {
            Assert.Equal(1.0, Math.Sqrt(Dot(ours[i], ours[i])), 1e-5);
            Assert.True(Dot(ours[i], expected[i]) > 1 - 1e-5, $"'{Titles[i]}': cosine {Dot(ours[i], expected[i])}");
        }
    }

    // Queries of made-up words the packaged encoder cannot know: only fine-tuning can tie them to their items.
    private static (List<QueryPair> Pairs, Dictionary<string, string> Texts) MadeUpTask()
    {
        var texts = Titles.Select((t, i) => (Id: $"item-{i}", Text: t)).ToDictionary(x => x.Id, x => x.Text);
        var pairs = texts.Keys.SelectMany((id, i) => new[] { new QueryPair($"zorblat {i} qux", id), new QueryPair($"zorblat {i} quux", id) }).ToList();
        return (pairs, texts);
    }

    /// <summary>Mean reciprocal rank of each pair's item among all items: the scorer the tests validate with.</summary>
    private static double MeanReciprocalRank(TrainableSentenceEncoder encoder, List<QueryPair> pairs, Dictionary<string, string> texts)
    {
        var ids = texts.Keys.ToList();
        var items = encoder.Embed([.. ids.Select(id => texts[id])]);
        var queries = encoder.Embed([.. pairs.Select(p => encoder.Package.QueryPrefix + p.Query)]);
        return pairs.Select((p, q) =>
        {
            var own = Dot(queries[q], items[ids.IndexOf(p.ItemId)]);
            return 1.0 / (1 + items.Count(v => Dot(queries[q], v) > own));
        }).Average();
    }

    [Fact]
    public void Fine_tuning_ties_made_up_queries_to_their_items_and_keeps_the_best_validated_weights()
    {
        var (pairs, texts) = MadeUpTask();
        using var encoder = new TrainableSentenceEncoder(PretrainedEncoderPackage.MiniLm, maxTokens: 48);
        var outcome = DualEncoderFineTuner.Run(encoder, pairs, texts, e => MeanReciprocalRank(e, pairs, texts),
            new DualEncoderTuning(Steps: 30, BatchSize: 8, LearningRate: 1e-4, EvalEvery: 10));
        Assert.Equal([0, 10, 20, 30], outcome.Validations.Select(v => v.Step));
        var before = outcome.Validations[0].Score;
        Assert.True(before < 0.5, $"the packaged encoder cannot tell the made-up queries apart (MRR {before:F3})");
        Assert.True(outcome.BestScore > before + 0.3, $"MRR {before:F3} → {outcome.BestScore:F3}");
        Assert.Equal(outcome.Validations.MaxBy(v => v.Score)!.Step, outcome.BestStep);
        // The encoder holds the best step's weights: scoring it again gives the best score.
        Assert.Equal(outcome.BestScore, MeanReciprocalRank(encoder, pairs, texts), 6);
    }

    [Fact]
    public void When_no_step_beats_the_packaged_weights_they_are_what_remains()
    {
        var (pairs, texts) = MadeUpTask();
        using var encoder = new TrainableSentenceEncoder(PretrainedEncoderPackage.MiniLm, maxTokens: 48);
        var packaged = encoder.Embed(Titles);
        var calls = 0;
        var outcome = DualEncoderFineTuner.Run(encoder, pairs, texts, _ => calls++ == 0 ? 1.0 : 0.0,
            new DualEncoderTuning(Steps: 4, BatchSize: 8, LearningRate: 1e-3, EvalEvery: 2));
        Assert.Equal(0, outcome.BestStep);
        Assert.Equal(3, calls);
        var after = encoder.Embed(Titles);
        for (var i = 0; i < Titles.Length; i++)
            Assert.True(Dot(after[i], packaged[i]) > 1 - 1e-6, "the packaged weights are restored");
        Assert.Throws<ArgumentException>(() => DualEncoderFineTuner.Run(encoder, pairs, texts, _ => 0, new DualEncoderTuning(BatchSize: 9)));
    }

    [Theory]
    [InlineData("minilm")]
    [InlineData("arctic-xs")]
    public void A_fine_tuned_encoder_written_into_its_onnx_graph_serves_the_same_vectors(string name)
    {
        var (pairs, texts) = MadeUpTask();
        var package = PretrainedEncoderPackage.Named(name);
        using var encoder = new TrainableSentenceEncoder(package, maxTokens: 48);
        var validations = 0;
        // Each validation scores higher than the last, so the last step's weights are kept.
        var outcome = DualEncoderFineTuner.Run(encoder, pairs, texts, _ => validations++, new DualEncoderTuning(Steps: 4, BatchSize: 8, LearningRate: 1e-3, EvalEvery: 2));
        Assert.Equal(4, outcome.BestStep);
        var tuned = encoder.Embed(Titles);

        var model = LMIndexer.Core.Model.Bert.BertWeights.WriteIntoOnnx(package.ReadModel(), encoder.Model);
        using var served = new OnnxSentenceEncoder(package, model, threads: 1);
        using var packaged = new OnnxSentenceEncoder(package, threads: 1);
        var servedVectors = served.Embed(Titles);
        var packagedVectors = packaged.Embed(Titles);
        for (var i = 0; i < Titles.Length; i++)
            Assert.True(Dot(servedVectors[i], tuned[i]) > 1 - 1e-5, $"'{Titles[i]}': cosine {Dot(servedVectors[i], tuned[i])} to the TorchSharp vector");
        Assert.Contains(Enumerable.Range(0, Titles.Length), i => Dot(servedVectors[i], packagedVectors[i]) < 1 - 1e-3);
        Assert.Equal(package.ReadModel().Length, model.Length);   // written in place: the graph is untouched
    }
}
