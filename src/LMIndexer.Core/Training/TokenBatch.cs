using static TorchSharp.torch;

namespace LMIndexer.Core.Training;

/// <summary>Right-padding of token sequences into [batch, length] tensors with a keep-mask.</summary>
public static class TokenBatch
{
    /// <summary>Pads with <paramref name="padId"/>; the mask is 1 on real tokens. Both [batch, maxLen].</summary>
    public static (Tensor Ids, Tensor Mask) Pad(IReadOnlyList<int[]> sequences, int padId, Device? device = null)
    {
        var length = Math.Max(1, sequences.Max(s => s.Length));
        var ids = new long[sequences.Count * length];
        var mask = new long[sequences.Count * length];
        for (var b = 0; b < sequences.Count; b++)
        {
            var row = sequences[b];
            var offset = b * length;
            for (var i = 0; i < length; i++)
            {
                var real = i < row.Length;
                ids[offset + i] = real ? row[i] : padId;
                mask[offset + i] = real ? 1 : 0;
            }
        }
        return (tensor(ids, [sequences.Count, length], device: device), tensor(mask, [sequences.Count, length], device: device));
    }

    /// <summary>Pads labels with −100 so the loss ignores the padding. // [batch, maxLen]</summary>
    public static Tensor PadLabels(IReadOnlyList<int[]> sequences, Device? device = null)
    {
        var length = Math.Max(1, sequences.Max(s => s.Length));
        var labels = new long[sequences.Count * length];
        Array.Fill(labels, Model.T5Model.IgnoreIndex);
        for (var b = 0; b < sequences.Count; b++)
        {
            for (var i = 0; i < sequences[b].Length; i++)
                labels[b * length + i] = sequences[b][i];
        }
        return tensor(labels, [sequences.Count, length], device: device);
    }
}
