namespace LMIndexer.Core.Data.Synthetic;

/// <summary>Items drawn in proportion to their weights by one uniform number and a binary search over running sums.</summary>
internal sealed class WeightedPool
{
    private readonly int[] items;
    private readonly double[] runningSums;

    public WeightedPool(IReadOnlyList<int> items, double[] weights)
    {
        this.items = [.. items];
        runningSums = new double[this.items.Length];
        var total = 0.0;
        for (var k = 0; k < this.items.Length; k++)
        {
            total += weights[this.items[k]];
            runningSums[k] = total;
        }
    }

    public int Count => items.Length;

    /// <summary>The first item whose running sum reaches a uniform draw below the total.</summary>
    public int Pick(Random random)
    {
        var target = random.NextDouble() * runningSums[^1];
        var k = Array.BinarySearch(runningSums, target);
        if (k < 0)
            k = ~k;
        return items[Math.Min(k, items.Length - 1)];
    }
}
