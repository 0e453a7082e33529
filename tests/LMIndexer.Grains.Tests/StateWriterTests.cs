using System.Diagnostics.Metrics;
using System.Reflection;
using LMIndexer.Grains.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.Storage;

namespace LMIndexer.Grains.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class StateWriterCounters
{
    // The writer's counters are process-wide: nothing else may write state while these tests count.
    public const string Name = "StateWriter counters";
}

/// <summary>The retrying writer on its own, against a state whose storage fails as each test scripts.</summary>
[Collection(StateWriterCounters.Name)]
public sealed class StateWriterTests
{
    private static StateWriter Writer(int maxRetries, RecordingGrainContext? context = null) =>
        new(Options.Create(new StateWriteOptions { MaxRetries = maxRetries, FirstDelayMilliseconds = 1 }), NullLogger<StateWriter>.Instance,
            new Accessor((context ?? RecordingGrainContext.Create()).AsGrainContext()));

    [Fact]
    public async Task Transient_failures_are_retried_MaxRetries_times_then_surface_with_the_state_read_back()
    {
        var state = new ScriptedState(writeFailures: int.MaxValue);
        using var counters = new CounterRecorder();

        var error = await Assert.ThrowsAsync<IOException>(() => Writer(maxRetries: 2).WriteAsync(state));

        Assert.Equal("disk gone", error.Message);
        Assert.Equal((3, 1), (state.Writes, state.Reads));
        Assert.Equal((2, 1), (counters.Retries, counters.Failures));
    }

    [Fact]
    public async Task A_write_that_succeeds_on_a_retry_is_saved_and_is_no_failure()
    {
        var state = new ScriptedState(writeFailures: 1);
        using var counters = new CounterRecorder();

        await Writer(maxRetries: 3).WriteAsync(state);

        Assert.Equal((2, 0), (state.Writes, state.Reads));
        Assert.Equal((1, 0), (counters.Retries, counters.Failures));
    }

    [Fact]
    public async Task An_etag_conflict_is_not_retried()
    {
        // Another activation wrote the state: writing again over it would be wrong.
        var state = new ScriptedState(writeFailures: int.MaxValue, conflict: true);
        using var counters = new CounterRecorder();

        await Assert.ThrowsAsync<InconsistentStateException>(() => Writer(maxRetries: 3).WriteAsync(state));

        Assert.Equal((1, 1), (state.Writes, state.Reads));
        Assert.Equal((0, 1), (counters.Retries, counters.Failures));
    }

    [Fact]
    public async Task No_retries_fail_at_once()
    {
        var state = new ScriptedState(writeFailures: 1);

        await Assert.ThrowsAsync<IOException>(() => Writer(maxRetries: 0).WriteAsync(state));

        Assert.Equal(1, state.Writes);
    }

    [Fact]
    public async Task When_the_state_cannot_be_read_back_either_the_activation_is_dropped()
    {
        var state = new ScriptedState(writeFailures: int.MaxValue, readFails: true);
        var context = RecordingGrainContext.Create();

        await Assert.ThrowsAsync<IOException>(() => Writer(maxRetries: 0, context).WriteAsync(state));

        var reason = Assert.Single(context.Deactivations);
        Assert.Equal(DeactivationReasonCode.ApplicationError, reason.ReasonCode);
    }

    [Fact]
    public async Task A_state_read_back_after_a_failed_write_keeps_the_activation()
    {
        var state = new ScriptedState(writeFailures: int.MaxValue);
        var context = RecordingGrainContext.Create();

        await Assert.ThrowsAsync<IOException>(() => Writer(maxRetries: 0, context).WriteAsync(state));

        Assert.Empty(context.Deactivations);
    }

    [Theory]
    [InlineData(-1, 100, false)]
    [InlineData(11, 100, false)]
    [InlineData(3, 0, false)]
    [InlineData(0, 1, true)]
    [InlineData(10, 1, true)]
    public void Retry_settings_are_checked_at_start_up(int maxRetries, int firstDelay, bool valid)
    {
        var result = new StateWriteOptionsValidator().Validate(null, new StateWriteOptions { MaxRetries = maxRetries, FirstDelayMilliseconds = firstDelay });

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
            Assert.Contains($"got {maxRetries}, {firstDelay}", result.FailureMessage, StringComparison.Ordinal);
    }

    /// <summary>A state whose first <c>writeFailures</c> writes fail (with an I/O error, or an etag conflict).</summary>
    private sealed class ScriptedState(int writeFailures, bool conflict = false, bool readFails = false) : IPersistentState<string>
    {
        public int Writes { get; private set; }
        public int Reads { get; private set; }
        public string State { get; set; } = "";
        public string? Etag => null;
        public bool RecordExists => Writes > writeFailures;

        public Task ClearStateAsync() => Task.CompletedTask;

        public Task ReadStateAsync()
        {
            Reads++;
            return readFails ? Task.FromException(new IOException("still gone")) : Task.CompletedTask;
        }

        public Task WriteStateAsync()
        {
            Writes++;
            return Writes > writeFailures ? Task.CompletedTask
                : Task.FromException(conflict ? new InconsistentStateException("etag changed") : new IOException("disk gone"));
        }
    }

    private sealed class Accessor(IGrainContext context) : IGrainContextAccessor
    {
        public IGrainContext GrainContext => context;
    }

    /// <summary>An activation that only records being deactivated (every other member is unused by the writer).</summary>
    public class RecordingGrainContext : DispatchProxy
    {
        public List<DeactivationReason> Deactivations { get; } = [];

        public static RecordingGrainContext Create() => (RecordingGrainContext)(object)Create<IGrainContext, RecordingGrainContext>();

        public IGrainContext AsGrainContext() => (IGrainContext)(object)this;

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod?.Name == nameof(IGrainContext.Deactivate) && args?[0] is DeactivationReason reason)
            {
                Deactivations.Add(reason);
                return null;
            }
            throw new NotSupportedException($"{targetMethod?.Name} is not used by the state writer.");
        }
    }

    private sealed class CounterRecorder : IDisposable
    {
        private readonly MeterListener listener = new();
        private long retries;
        private long failures;

        public CounterRecorder()
        {
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == StateWriter.MeterName)
                    l.EnableMeasurementEvents(instrument);
            };
            listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            {
                if (instrument.Name == "lmindexer.storage.write_retries")
                    Interlocked.Add(ref retries, value);
                else if (instrument.Name == "lmindexer.storage.write_failures")
                    Interlocked.Add(ref failures, value);
            });
            listener.Start();
        }

        public long Retries => Interlocked.Read(ref retries);
        public long Failures => Interlocked.Read(ref failures);

        public void Dispose() => listener.Dispose();
    }
}
