using LMIndexer.Core.Downstream;
using LMIndexer.Core.Text;

namespace LMIndexer.Core.Tests.Downstream;

public sealed class ItemVectorDropoutTests
{
    // The vocabulary ends at 50; every item is [10 + i, 30 + i, 50 + i]: two ID tokens, then its own token.
    private const int FirstItemToken = 50;

    private static int[] History(int items) =>
        [.. Enumerable.Range(0, items).SelectMany(i => new[] { 10 + i, 30 + i, FirstItemToken + i }), CatalogTokenizer.EosId];

    [Fact]
    public void Without_dropout_the_source_is_returned_unchanged()
    {
        var source = History(6);
        Assert.Same(source, new ItemVectorDropout(0, FirstItemToken).Apply(source, new Random(1)));
    }

    [Fact]
    public void Item_tokens_alone_are_dropped_at_the_given_rate_newest_included_and_id_tokens_stay_in_order()
    {
        var dropout = new ItemVectorDropout(0.3, FirstItemToken);
        var random = new Random(7);
        var source = History(6);
        var ids = source.Where(t => t < FirstItemToken).ToArray();
        var kept = new int[6];
        const int Draws = 4000;
        for (var draw = 0; draw < Draws; draw++)
        {
            var result = dropout.Apply(source, random);
            Assert.Equal(ids, result.Where(t => t < FirstItemToken));
            // Each kept item token still follows its own item's ID tokens.
            for (var at = 0; at < result.Length; at++)
            {
                if (result[at] < FirstItemToken)
                    continue;
                var item = result[at] - FirstItemToken;
                Assert.Equal([10 + item, 30 + item], result[(at - 2)..at]);
                kept[item]++;
            }
        }
        foreach (var count in kept)
            Assert.InRange(count / (double)Draws, 0.67, 0.73);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    public void A_rate_outside_zero_to_one_is_refused(double probability) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ItemVectorDropout(probability, FirstItemToken));
}
