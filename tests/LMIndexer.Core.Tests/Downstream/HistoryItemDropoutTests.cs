using LMIndexer.Core.Downstream;
using LMIndexer.Core.Text;

namespace LMIndexer.Core.Tests.Downstream;

public sealed class HistoryItemDropoutTests
{
    // Item-start tokens are 10..19 here; every item is [start, 30 + item, 40 + item].
    private static bool IsItemStart(int token) => token is >= 10 and < 20;

    private static int[] History(int items) =>
        [.. Enumerable.Range(0, items).SelectMany(i => new[] { 10 + i, 30 + i, 40 + i }), CatalogTokenizer.EosId];

    [Fact]
    public void Without_dropout_the_source_is_returned_unchanged()
    {
        var source = History(6);
        Assert.Same(source, new HistoryItemDropout(0, IsItemStart).Apply(source, new Random(1)));
    }

    [Fact]
    public void Older_items_are_dropped_whole_at_the_given_rate_and_the_newest_item_and_eos_stay()
    {
        var dropout = new HistoryItemDropout(0.3, IsItemStart);
        var random = new Random(7);
        var source = History(6);
        var kept = new int[6];
        const int Draws = 4000;
        for (var draw = 0; draw < Draws; draw++)
        {
            var result = dropout.Apply(source, random);
            Assert.Equal(CatalogTokenizer.EosId, result[^1]);
            Assert.Equal([10, 30, 40], result[..3]);
            Assert.Equal(0, (result.Length - 1) % 3);
            var previous = -1;
            for (var at = 0; at < result.Length - 1; at += 3)
            {
                // Whole items, in their original (newest-first) order.
                var item = result[at] - 10;
                Assert.Equal([10 + item, 30 + item, 40 + item], result[at..(at + 3)]);
                Assert.True(item > previous);
                previous = item;
                kept[item]++;
            }
        }
        Assert.Equal(Draws, kept[0]);
        foreach (var count in kept[1..])
            Assert.InRange(count / (double)Draws, 0.67, 0.73);
    }

    [Fact]
    public void A_source_cut_inside_an_item_keeps_or_drops_the_cut_item_whole()
    {
        // Two whole items and the first token of a third, as a source budget cuts it.
        int[] source = [10, 30, 40, 11, 31, 41, 12, CatalogTokenizer.EosId];
        var dropout = new HistoryItemDropout(0.5, IsItemStart);
        var random = new Random(3);
        var seen = new HashSet<string>();
        for (var draw = 0; draw < 200; draw++)
            seen.Add(string.Join(',', dropout.Apply(source, random)));
        Assert.Equal(
            new HashSet<string> { "10,30,40,11,31,41,12,1", "10,30,40,12,1", "10,30,40,11,31,41,1", "10,30,40,1" },
            seen);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    public void A_rate_outside_zero_to_one_is_refused(double probability) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new HistoryItemDropout(probability, IsItemStart));
}
