using LMIndexer.Core.Downstream;

namespace LMIndexer.Core.Tests.Downstream;

public sealed class LengthGroupedOrderTests
{
    private static int[] Shuffled(int count, int seed)
    {
        var order = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(order);
        return order;
    }

    [Fact]
    public void Each_group_keeps_its_examples_and_is_sorted_longest_first()
    {
        // 1234 = 6 groups of 200 and a short one of 34.
        var lengths = Enumerable.Range(0, 1234).Select(i => 1 + (i * 7919 % 61)).ToArray();
        var shuffled = Shuffled(lengths.Length, 5);
        var order = (int[])shuffled.Clone();
        const int BatchSize = 4;
        const int Group = BatchSize * LengthGroupedOrder.BatchesPerGroup;

        LengthGroupedOrder.Arrange(order, i => lengths[i], BatchSize);

        for (var start = 0; start < order.Length; start += Group)
        {
            var count = Math.Min(Group, order.Length - start);
            // The same examples as the shuffle put in this group: grouping never moves one to another part of the epoch.
            Assert.Equal(shuffled.Skip(start).Take(count).Order(), order.Skip(start).Take(count).Order());
            for (var i = start + 1; i < start + count; i++)
                Assert.True(lengths[order[i - 1]] >= lengths[order[i]], $"position {i}: {lengths[order[i - 1]]} before {lengths[order[i]]}");
        }
    }

    [Fact]
    public void Batches_of_a_grouped_epoch_pad_far_less_than_random_batches()
    {
        // Mostly short sources with a long tail, as histories are.
        var random = new Random(11);
        var lengths = Enumerable.Range(0, 6400).Select(_ => random.NextDouble() < 0.1 ? 61 : 4 + random.Next(16)).ToArray();
        var order = Shuffled(lengths.Length, 3);
        double Padded(int[] o) => o.Chunk(64).Sum(batch => 64.0 * batch.Max(i => lengths[i]));
        var randomCost = Padded(order);

        LengthGroupedOrder.Arrange(order, i => lengths[i], 64);

        // Random batches of 64 almost all hold a 61-token source; grouped ones pay for it only where it is.
        Assert.True(randomCost > 0.95 * 61 * 6400, $"random padding {randomCost}");
        Assert.True(Padded(order) < 0.5 * randomCost, $"grouped padding {Padded(order)} against random {randomCost}");
    }

    [Fact]
    public void The_same_shuffle_gives_the_same_order()
    {
        var lengths = Enumerable.Range(0, 500).Select(i => i % 9).ToArray();   // many ties
        var first = Shuffled(lengths.Length, 2);
        var second = Shuffled(lengths.Length, 2);
        LengthGroupedOrder.Arrange(first, i => lengths[i], 3);
        LengthGroupedOrder.Arrange(second, i => lengths[i], 3);
        Assert.Equal(first, second);
    }
}
