using LMIndexer.Grains.Backfill;

namespace LMIndexer.Grains.Tests;

/// <summary>How a backfill job cuts its work and paces itself, without a cluster.</summary>
public sealed class BackfillBatchesTests
{
    [Theory]
    [InlineData(0, 10, 4, 4)]
    [InlineData(4, 10, 4, 4)]
    [InlineData(8, 10, 4, 2)]
    [InlineData(9, 10, 4, 1)]
    [InlineData(0, 3, 500, 3)]
    public void An_item_batch_runs_from_the_cursor_and_stops_at_the_end_of_the_table(int done, int total, int batchSize, int expected) =>
        Assert.Equal(expected, BackfillBatches.NextItems(done, total, batchSize));

    [Theory]
    [InlineData(10, 10, 4)]
    [InlineData(-1, 10, 4)]
    [InlineData(0, 10, 0)]
    public void There_is_no_item_batch_past_the_end_before_the_start_or_of_no_rows(int done, int total, int batchSize) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => BackfillBatches.NextItems(done, total, batchSize));

    [Theory]
    [InlineData(new[] { 3, 3, 3, 5 }, 0, 6, 2)]   // 3 + 3 fit, a third does not
    [InlineData(new[] { 3, 3, 3, 5 }, 2, 6, 1)]   // 3 + 5 do not fit
    [InlineData(new[] { 2, 4, 1 }, 0, 6, 2)]      // exactly full
    [InlineData(new[] { 9, 1 }, 0, 6, 1)]         // a grain larger than a batch goes alone
    [InlineData(new[] { 1, 1, 1 }, 1, 100, 2)]    // the last groups
    [InlineData(new[] { 1, 1, 1 }, 2, 100, 1)]
    public void A_prefix_batch_holds_whole_grains_about_a_batch_of_entries(int[] entries, int start, int batchSize, int expected) =>
        Assert.Equal(expected, BackfillBatches.NextPrefixGroups(entries, start, batchSize));

    [Fact]
    public void Prefix_batches_cover_every_group_once_in_order()
    {
        int[] entries = [5, 1, 1, 7, 2, 2, 2, 3, 1];
        var covered = new List<int>();
        for (var start = 0; start < entries.Length;)
        {
            var count = BackfillBatches.NextPrefixGroups(entries, start, batchSize: 4);
            Assert.True(count == 1 || entries.Skip(start).Take(count).Sum() <= 4);
            covered.AddRange(Enumerable.Range(start, count));
            start += count;
        }
        Assert.Equal(Enumerable.Range(0, entries.Length), covered);
    }

    [Fact]
    public void There_is_no_prefix_batch_outside_the_groups_or_of_no_entries()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BackfillBatches.NextPrefixGroups([1, 2], 2, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => BackfillBatches.NextPrefixGroups([1, 2], -1, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => BackfillBatches.NextPrefixGroups([1, 2], 0, 0));
        Assert.Throws<ArgumentNullException>(() => BackfillBatches.NextPrefixGroups(null!, 0, 4));
    }

    [Theory]
    [InlineData(1, 400)]
    [InlineData(2, 800)]
    [InlineData(5, 6400)]
    [InlineData(6, 12800)]
    [InlineData(7, 12800)]
    [InlineData(40, 12800)]
    public void A_failed_batch_is_retried_after_a_doubling_wait_capped_at_12_8_seconds(int attempt, int milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), BackfillBatches.RetryDelay(attempt));

    [Fact]
    public void Attempts_count_from_one() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => BackfillBatches.RetryDelay(0));

    [Fact]
    public void The_rate_counts_what_this_activation_wrote_and_the_time_left_follows_from_it()
    {
        // 40 rows in 10 s since the activation took the job up at row 20; 40 rows left.
        var (rate, remaining) = BackfillBatches.Pace(running: true, total: 100, done: 60, doneAtStart: 20, seconds: 10);

        Assert.Equal(4, rate);
        Assert.Equal(TimeSpan.FromSeconds(10), remaining);
    }

    [Theory]
    [InlineData(false, 60, 20, 10)]   // not running
    [InlineData(true, 60, 20, 0)]     // no time has passed
    [InlineData(true, 20, 20, 10)]    // nothing written yet by this activation
    public void A_job_that_is_not_moving_reports_no_rate_and_no_time_left(bool running, int done, int doneAtStart, double seconds)
    {
        var (rate, remaining) = BackfillBatches.Pace(running, 100, done, doneAtStart, seconds);

        Assert.Equal(0, rate);
        Assert.Null(remaining);
    }
}
