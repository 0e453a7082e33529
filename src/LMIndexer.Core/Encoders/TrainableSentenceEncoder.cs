using LMIndexer.Core.Model.Bert;
using LMIndexer.Core.Runtime;
using static TorchSharp.torch;

namespace LMIndexer.Core.Encoders;

/// <summary>
/// A packaged sentence encoder in TorchSharp, so that it can be fine-tuned: the pretrained BERT
/// imported from the package's ONNX graph, pooled as its sentence-transformers configuration says
/// (mean of the real tokens, or [CLS]) and scaled to unit length. Untrained, its vectors equal the
/// ONNX Runtime ones (<see cref="OnnxSentenceEncoder"/>) to float rounding.
/// </summary>
public sealed class TrainableSentenceEncoder : IDisposable
{
    private readonly BertModel bert;
    private readonly BertInputTokenizer tokenizer;

    /// <param name="maxTokens">Longest input, [CLS] and [SEP] included (short titles and queries need far fewer than the package's limit).</param>
    /// <param name="dropout">BERT's dropout while training (the package's configuration has 0.1).</param>
    public TrainableSentenceEncoder(PretrainedEncoderPackage package, int maxTokens = 64, double dropout = 0.1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxTokens, package.MaxTokens);
        Package = package;
        bert = new BertModel(package.Config with { HiddenDropoutProb = dropout, AttentionProbsDropoutProb = dropout });
        BertWeights.Load(bert, BertWeights.FromOnnx(OnnxGraph.Parse(package.ReadModel())));
        using var vocabulary = package.OpenVocabulary();
        tokenizer = new BertInputTokenizer(vocabulary, maxTokens);
        bert.eval();
    }

    public PretrainedEncoderPackage Package { get; }

    public BertModel Model => bert;

    /// <summary>Unit-length sentence vectors of <paramref name="texts"/>, with gradients when the model trains. // [texts, hidden]</summary>
    public Tensor Forward(IReadOnlyList<string> texts)
    {
        using var scope = NewDisposeScope();
        var encoded = texts.Select(tokenizer.Encode).ToArray();
        var length = encoded.Max(e => e.Length);
        var ids = new long[texts.Count * length];
        var mask = new long[texts.Count * length];
        Array.Fill(ids, tokenizer.PadId);
        for (var r = 0; r < encoded.Length; r++)
        {
            encoded[r].CopyTo(ids, r * length);
            Array.Fill(mask, 1L, r * length, encoded[r].Length);
        }
        var idTensor = tensor(ids, [texts.Count, length]);                                          // [batch, tokens]
        var maskTensor = tensor(mask, [texts.Count, length]);                                       // [batch, tokens]
        var hidden = bert.forward(idTensor, maskTensor);                                            // [batch, tokens, hidden]
        Tensor pooled;
        if (Package.Pooling == SentencePooling.Cls)
            pooled = hidden[.., 0];                                                                 // [batch, hidden]
        else
        {
            var weights = maskTensor.to_type(ScalarType.Float32).unsqueeze(2);                     // [batch, tokens, 1]
            pooled = hidden.mul(weights).sum(1).div(weights.sum(1).AtLeast(1e-9));
        }
        return nn.functional.normalize(pooled, p: 2, dim: 1).MoveToOuterDisposeScope();
    }

    /// <summary>Vectors of many texts, in batches, without gradients; the model is left in evaluation mode.</summary>
    public float[][] Embed(IReadOnlyList<string> texts, int batchSize = 64, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        bert.eval();
        using var noGrad = no_grad();
        var vectors = new float[texts.Count][];
        // Batches of similar lengths pad little.
        var order = Enumerable.Range(0, texts.Count).OrderBy(i => texts[i].Length).ToArray();
        for (var start = 0; start < order.Length; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = order[start..Math.Min(order.Length, start + batchSize)];
            using var embedded = Forward([.. batch.Select(i => texts[i])]);
            var width = (int)embedded.shape[1];
            var values = embedded.contiguous().data<float>().ToArray();
            for (var r = 0; r < batch.Length; r++)
                vectors[batch[r]] = values[(r * width)..((r + 1) * width)];
            progress?.Report(batch.Length);
        }
        return vectors;
    }

    public void Dispose() => bert.Dispose();
}
