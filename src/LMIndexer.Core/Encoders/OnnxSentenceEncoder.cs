using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace LMIndexer.Core.Encoders;

/// <summary>
/// Sentence vectors from a packaged pretrained encoder through ONNX Runtime: texts sorted by
/// length and batched (little padding), then pooled and L2-normalised as sentence-transformers does.
/// </summary>
public sealed class OnnxSentenceEncoder : IDisposable
{
    private readonly InferenceSession session;

    /// <param name="threads">Intra-op threads; 0 lets ONNX Runtime choose.</param>
    /// <exception cref="PretrainedEncoderException">The package is missing or its model does not load.</exception>
    public OnnxSentenceEncoder(PretrainedEncoderPackage package, int threads = 0)
        : this(package, null, threads)
    {
    }

    /// <summary>The package's tokenizer and pooling over another model of its shape: the package's encoder fine-tuned (<c>BertWeights.WriteIntoOnnx</c>).</summary>
    /// <param name="model">The ONNX model's bytes; null: the package's own.</param>
    public OnnxSentenceEncoder(PretrainedEncoderPackage package, byte[]? model, int threads = 0)
    {
        Package = package;
        Tokenizer = BertInputTokenizer.For(package);
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        try
        {
            session = new InferenceSession(model ?? package.ReadModel(), options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new PretrainedEncoderException(model is null
                ? $"The model in {package.Package} does not load ({e.Message.Split('\n')[0]}): reinstall the package."
                : $"The fine-tuned {package.Name} model does not load ({e.Message.Split('\n')[0]}).", e);
        }
    }

    public PretrainedEncoderPackage Package { get; }

    public BertInputTokenizer Tokenizer { get; }

    public int Dimension => Package.Config.HiddenSize;

    /// <summary>
    /// Tokens (rows × the longest row) a batch may hold. ONNX Runtime keeps its memory arena at the
    /// largest batch it has run, and attention grows with rows × tokens²: 64 texts of 512 tokens would
    /// hold gigabytes for the process's life. Short texts (titles) still go 64 at a time. The
    /// measurement behind the default is in docs/capacity.md (`encoder-memory`).
    /// </summary>
    public const int DefaultBatchTokens = 64 * 64;

    /// <summary>One unit-length vector per text, in the texts' order.</summary>
    /// <param name="batchSize">Most texts per batch.</param>
    /// <param name="batchTokens">Most tokens per batch (rows × the longest row), so long texts go in smaller batches.</param>
    public float[][] Embed(IReadOnlyList<string> texts, int batchSize = 64, int batchTokens = DefaultBatchTokens, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchTokens, 1);
        var ids = texts.Select(Tokenizer.Encode).ToArray();
        var order = Enumerable.Range(0, ids.Length).OrderBy(i => ids[i].Length).ToArray();
        var vectors = new float[ids.Length][];
        var start = 0;
        while (start < order.Length)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Sorted by length, so the batch's last row is its longest; at least one row whatever its length.
            var end = start + 1;
            while (end < order.Length && end - start < batchSize && (end - start + 1) * ids[order[end]].Length <= batchTokens)
                end++;
            var batch = order[start..end];
            var hidden = LastHiddenState([.. batch.Select(i => ids[i])], out var tokens);
            for (var r = 0; r < batch.Length; r++)
                vectors[batch[r]] = Pool(hidden, r, tokens, ids[batch[r]].Length);
            start = end;
            progress?.Report(start);
        }
        return vectors;
    }

    /// <summary>last_hidden_state for token rows padded to the longest: [rows, tokens, hidden] flattened.</summary>
    public float[] LastHiddenState(IReadOnlyList<long[]> rows, out int tokens)
    {
        tokens = rows.Max(r => r.Length);
        var shape = new[] { rows.Count, tokens };
        var inputIds = new DenseTensor<long>(shape);
        var mask = new DenseTensor<long>(shape);
        var types = new DenseTensor<long>(shape);
        for (var r = 0; r < rows.Count; r++)
        {
            for (var c = 0; c < tokens; c++)
            {
                inputIds[r, c] = c < rows[r].Length ? rows[r][c] : Tokenizer.PadId;
                mask[r, c] = c < rows[r].Length ? 1 : 0;
            }
        }
        NamedOnnxValue[] inputs =
        [
            NamedOnnxValue.CreateFromTensor("input_ids", inputIds),
            NamedOnnxValue.CreateFromTensor("attention_mask", mask),
            NamedOnnxValue.CreateFromTensor("token_type_ids", types),
        ];
        using var results = session.Run(inputs, ["last_hidden_state"]);
        return results[0].AsTensor<float>().ToArray();
    }

    private float[] Pool(float[] hidden, int row, int tokens, int length)
    {
        var d = Dimension;
        var vector = new float[d];
        var first = row * tokens * d;
        var count = Package.Pooling == SentencePooling.Cls ? 1 : length;
        for (var t = 0; t < count; t++)
        {
            for (var j = 0; j < d; j++)
                vector[j] += hidden[first + (t * d) + j];
        }
        var norm = MathF.Sqrt(vector.Sum(v => v * v));
        var scale = 1f / Math.Max(norm, 1e-12f);   // the mean's 1/length cancels in the normalisation
        for (var j = 0; j < d; j++)
            vector[j] *= scale;
        return vector;
    }

    public void Dispose() => session.Dispose();
}
