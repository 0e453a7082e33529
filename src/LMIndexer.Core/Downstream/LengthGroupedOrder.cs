namespace LMIndexer.Core.Downstream;

/// <summary>
/// Length-grouped batching, as Hugging Face's <c>group_by_length</c>: a shuffled epoch is cut into
/// groups of <see cref="BatchesPerGroup"/> batches and each group is sorted longest source first, so
/// consecutive batches hold sources of similar length. A batch is padded to its longest source, and
/// with long histories almost every random batch of 64 holds one, so a random batch pays the longest
/// source's encoder cost for every row. Which examples meet in a group stays random from epoch to
/// epoch.
/// </summary>
public static class LengthGroupedOrder
{
    /// <summary>Batches per sorted group (Hugging Face's megabatch multiplier).</summary>
    public const int BatchesPerGroup = 50;

    /// <summary>
    /// Sorts each group of <paramref name="batchSize"/> × <see cref="BatchesPerGroup"/> entries of the
    /// shuffled <paramref name="order"/> in place by <paramref name="length"/>, longest first. The
    /// order stays a permutation of the same examples; the sort is deterministic, so a resumed run
    /// that replays the shuffles gets the same batches.
    /// </summary>
    public static void Arrange(int[] order, Func<int, int> length, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(length);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var keys = new int[order.Length];
        for (var i = 0; i < order.Length; i++)
            keys[i] = -length(order[i]);   // ascending keys: longest first
        var group = (int)Math.Min((long)batchSize * BatchesPerGroup, int.MaxValue);
        for (var start = 0; start < order.Length; start += group)
            Array.Sort(keys, order, start, Math.Min(group, order.Length - start));
    }
}
