using LMIndexer.Core.Model;
using LMIndexer.Core.Text;
using static TorchSharp.torch;

namespace LMIndexer.Core.Indexing;

/// <summary>The reconstructor's attention pattern and targets for a batch.</summary>
public sealed record ReconstructionBatch(Tensor Visible, Tensor Labels);

/// <summary>
/// The reference collator (<c>TrainIDCollator</c>): a pool of min(n, 256) Bernoulli(p) masks over
/// the text (special tokens always hidden); the row that predicts token i takes a random mask from
/// the pool and also hides i itself; ID slots are always visible; the ID slot rows copy token 0's
/// row; padding rows and columns see nothing. Every non-special token is a target.
/// </summary>
public static class ReconstructionMasks
{
    private const int MaxPool = 256;

    /// <param name="sequences">Per item: text tokens followed by <c>&lt;/s&gt;</c>.</param>
    /// <param name="idSlots">Number of ID vectors placed before the text (t at position t).</param>
    public static ReconstructionBatch Build(IReadOnlyList<int[]> sequences, int idSlots, double maskProbability, Random random, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(idSlots, 1);
        var batch = sequences.Count;
        var length = idSlots + sequences.Max(s => s.Length);
        var visible = new bool[batch * length * length];
        var labels = new long[batch * length];
        Array.Fill(labels, T5Model.IgnoreIndex);
        for (var b = 0; b < batch; b++)
        {
            var tokens = sequences[b];
            var n = tokens.Length;
            var special = tokens.Select(IsSpecial).ToArray();
            var pool = new bool[Math.Min(n, MaxPool)][];
            for (var m = 0; m < pool.Length; m++)
            {
                var masked = new bool[n];
                for (var j = 0; j < n; j++)
                    masked[j] = special[j] || random.NextDouble() < maskProbability;
                pool[m] = masked;
            }
            var plane = b * length * length;
            for (var i = 0; i < n; i++)
            {
                var masked = pool[random.Next(pool.Length)];
                var row = plane + (idSlots + i) * length;
                for (var s = 0; s < idSlots; s++)
                    visible[row + s] = true;
                for (var j = 0; j < n; j++)
                    visible[row + idSlots + j] = !masked[j] && j != i;
                if (!special[i])
                    labels[b * length + idSlots + i] = tokens[i];
            }
            for (var s = 0; s < idSlots; s++)
                Array.Copy(visible, plane + idSlots * length, visible, plane + s * length, length);
        }
        return new ReconstructionBatch(
            tensor(visible, [batch, length, length], device: device),
            tensor(labels, [batch, length], device: device));
    }

    private static bool IsSpecial(int token) =>
        token is CatalogTokenizer.PadId or CatalogTokenizer.EosId or CatalogTokenizer.UnkId or CatalogTokenizer.MaskId;
}
