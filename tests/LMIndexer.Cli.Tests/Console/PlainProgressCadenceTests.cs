using LMIndexer.Cli.Console;

namespace LMIndexer.Cli.Tests.Console;

public sealed class PlainProgressCadenceTests
{
    [Fact]
    public void A_fast_stage_prints_its_first_step_each_tenth_and_its_last()
    {
        var clock = new ManualClock();
        var cadence = new PlainProgressCadence(clock, TimeSpan.FromSeconds(60));

        var printed = Enumerable.Range(1, 1000).Where(step => cadence.ShouldPrint("train", step, 1000, out _)).ToArray();

        Assert.Equal([1, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000], printed);
    }

    [Fact]
    public void A_slow_stage_also_prints_once_per_interval_between_tenths()
    {
        var clock = new ManualClock();
        var cadence = new PlainProgressCadence(clock, TimeSpan.FromSeconds(60));
        var printed = new List<int>();
        for (var step = 1; step <= 200; step++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            if (cadence.ShouldPrint("train", step, 1000, out _))
                printed.Add(step);
        }

        // Step 1 opens the stage, 100 and 200 are tenths, 61 and 160 come a minute after the line before.
        Assert.Equal([1, 61, 100, 160, 200], printed);
    }

    [Fact]
    public void The_estimate_is_the_stage_rate_times_the_steps_left_and_restarts_with_each_stage()
    {
        var clock = new ManualClock();
        var cadence = new PlainProgressCadence(clock, TimeSpan.FromSeconds(60));
        Assert.True(cadence.ShouldPrint("pretrain", 0, 10, out var atStart));
        Assert.Null(atStart);

        clock.Advance(TimeSpan.FromSeconds(20));
        Assert.True(cadence.ShouldPrint("pretrain", 2, 10, out var remaining));
        Assert.Equal(TimeSpan.FromSeconds(80), remaining);

        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.True(cadence.ShouldPrint("finetune", 1, 4, out var nextStage));
        Assert.Null(nextStage); // a stage's first report has no rate to go by yet

        clock.Advance(TimeSpan.FromSeconds(6));
        Assert.True(cadence.ShouldPrint("finetune", 3, 4, out var lastButOne));
        Assert.Equal(TimeSpan.FromSeconds(3), lastButOne); // 6 s for steps 1→3, one step left

        Assert.True(cadence.ShouldPrint("finetune", 4, 4, out var done));
        Assert.Null(done);
    }

    [Theory]
    [InlineData(40, "40s")]
    [InlineData(725, "12m05s")]
    [InlineData(3720, "1h02m")]
    public void Durations_read_in_their_two_largest_units(int seconds, string expected) =>
        Assert.Equal(expected, PlainProgressCadence.Format(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void A_line_ends_with_the_estimate_only_when_there_is_one()
    {
        Assert.Equal(" eta 12m05s", PlainProgressCadence.EtaSuffix(TimeSpan.FromSeconds(725)));
        Assert.Equal(string.Empty, PlainProgressCadence.EtaSuffix(null));
    }

    private sealed class ManualClock : TimeProvider
    {
        private long ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => ticks;

        public void Advance(TimeSpan by) => ticks += by.Ticks;
    }
}
