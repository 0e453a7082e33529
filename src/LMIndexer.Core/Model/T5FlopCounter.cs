namespace LMIndexer.Core.Model;

/// <summary>
/// Matmul floating-point operations of a T5 forward pass (2 per multiply-add), used to turn
/// measured step times into achieved GFLOP/s. Norms, softmax and element-wise work are ignored
/// (they are a few percent). A training step costs about 3× the forward (backward ≈ 2×).
/// </summary>
public static class T5FlopCounter
{
    public static double Forward(T5Config c, long batch, long sourceLength, long targetLength)
    {
        double d = c.DModel, inner = c.InnerDim, ff = c.DFf * (c.FeedForward == FeedForwardKind.Relu ? 2.0 : 3.0);
        double s = sourceLength, t = targetLength;
        var encoderPerToken = 2 * (4 * d * inner + d * ff) + 2 * 2 * s * inner;           // projections, FF, QKᵀ and AV
        var decoderPerToken = 2 * (4 * d * inner + 2 * d * inner + d * ff)               // self QKVO, cross Q and O, FF
                              + 2 * 2 * t * inner + 2 * 2 * s * inner;                   // self and cross attention scores
        var crossKeyValues = 2 * 2 * d * inner * s;                                      // cross K and V over the source, per layer
        var lmHead = 2 * d * c.VocabSize * t;
        return batch * (c.NumLayers * s * encoderPerToken + c.NumDecoderLayers * (t * decoderPerToken + crossKeyValues) + lmHead);
    }

    public static double TrainingStep(T5Config c, long batch, long sourceLength, long targetLength) =>
        3 * Forward(c, batch, sourceLength, targetLength);
}
