namespace LMIndexer.Grains.Backfill;

/// <summary>
/// How a backfill job cuts its work and paces itself: item batches from the cursor, whole prefix
/// grains per batch, the back-off between attempts and the rate it reports. <see cref="BackfillGrain"/>
/// runs them; they live here so that each is unit-tested without a cluster.
/// </summary>
internal static class BackfillBatches
{
    /// <summary>Rows in the next item batch: from the cursor <paramref name="done"/>, at most <paramref name="batchSize"/>, never past <paramref name="total"/>.</summary>
    public static int NextItems(int done, int total, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(done);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(done, total);
        return Math.Min(batchSize, total - done);
    }

    /// <summary>
    /// Prefix groups in the next batch, from group <paramref name="start"/>: as many whole groups as
    /// hold at most <paramref name="batchSize"/> entries together, and at least one, however large
    /// (a prefix grain is written in one piece).
    /// </summary>
    /// <param name="entries">Entries per prefix group, in the order they are written.</param>
    public static int NextPrefixGroups(IReadOnlyList<int> entries, int start, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(start, entries.Count);
        var (count, held) = (1, entries[start]);
        while (start + count < entries.Count && held + entries[start + count] <= batchSize)
            held += entries[start + count++];
        return count;
    }

    /// <summary>The wait after failed attempt <paramref name="attempt"/> (1-based): 400 ms, doubling, at most 12.8 s.</summary>
    public static TimeSpan RetryDelay(int attempt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        return TimeSpan.FromMilliseconds(200 * (1 << Math.Min(attempt, 6)));
    }

    /// <summary>
    /// Items per second since this activation took the job up (<paramref name="doneAtStart"/> rows
    /// were written before), and the time left at that rate; zero and unknown when the job is not
    /// running or nothing has been written yet.
    /// </summary>
    public static (double ItemsPerSecond, TimeSpan? Remaining) Pace(bool running, int total, int done, int doneAtStart, double seconds)
    {
        var rate = running && seconds > 0 ? (done - doneAtStart) / seconds : 0;
        return (rate, rate > 0 ? TimeSpan.FromSeconds((total - done) / rate) : null);
    }
}
