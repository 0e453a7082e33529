using LMIndexer.Core.Indexing;
using LMIndexer.Core.Text;

namespace LMIndexer.Core.Tests.Indexing;

public sealed class ReconstructionMasksTests
{
    private static readonly int[][] Sequences =
    [
        [10, 11, 12, 13, 14, 15, CatalogTokenizer.EosId],
        [20, 21, 22, CatalogTokenizer.EosId],
    ];

    [Theory]
    [InlineData(1, 0.0)]
    [InlineData(1, 0.5)]
    [InlineData(2, 0.7)]
    public void Mask_matrix_has_the_reference_properties(int idSlots, double p)
    {
        var batch = ReconstructionMasks.Build(Sequences, idSlots, p, new Random(3));
        var visible = batch.Visible.data<bool>().ToArray();
        var labels = batch.Labels.data<long>().ToArray();
        var length = (int)batch.Visible.shape[1];
        Assert.Equal(idSlots + 7, length);
        bool V(int b, int row, int col) => visible[(b * length * length) + (row * length) + col];

        for (var b = 0; b < Sequences.Length; b++)
        {
            var n = Sequences[b].Length;
            for (var i = 0; i < n; i++)
            {
                var row = idSlots + i;
                Assert.False(V(b, row, row));                               // a target never sees itself
                for (var s = 0; s < idSlots; s++)
                    Assert.True(V(b, row, s));                              // ID slots always visible
                Assert.False(V(b, row, idSlots + n - 1));                   // </s> always hidden
                for (var pad = idSlots + n; pad < length; pad++)
                    Assert.False(V(b, row, pad));                           // padding closed
                var expected = i == n - 1 ? -100 : Sequences[b][i];          // every text token is a target, </s> is not
                Assert.Equal(expected, labels[(b * length) + row]);
            }
            for (var s = 0; s < idSlots; s++)
            {
                Assert.Equal(-100, labels[(b * length) + s]);
                for (var col = 0; col < length; col++)
                    Assert.Equal(V(b, idSlots, col), V(b, s, col));          // ID rows copy token 0's row
            }
            for (var pad = idSlots + n; pad < length; pad++)
            {
                for (var col = 0; col < length; col++)
                    Assert.False(V(b, pad, col));                           // padding rows see nothing
            }
        }
        if (p == 0)
        {
            // Without masking every other text token is visible.
            Assert.True(V(0, idSlots + 2, idSlots + 0) && V(0, idSlots + 2, idSlots + 5));
        }
    }

    [Fact]
    public void Mask_ratio_hides_about_that_share_of_the_context()
    {
        var tokens = Enumerable.Range(10, 200).Append(CatalogTokenizer.EosId).ToArray();
        var batch = ReconstructionMasks.Build([tokens], 1, 0.7, new Random(5));
        var visible = batch.Visible.data<bool>().ToArray();
        var length = (int)batch.Visible.shape[1];
        var row = 1 + 50;
        var seen = Enumerable.Range(1, 200).Count(col => visible[(row * length) + col]);
        Assert.InRange(seen / 199.0, 0.2, 0.4);
    }
}
