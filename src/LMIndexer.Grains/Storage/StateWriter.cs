using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;
using Polly;
using Polly.Retry;

namespace LMIndexer.Grains.Storage;

/// <summary>How grain state writes are retried (section <c>StateWrites</c>).</summary>
public sealed class StateWriteOptions
{
    public const string Section = "StateWrites";

    /// <summary>Retries after a failed write (0: fail at once).</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>The first back-off; it doubles with each retry (with jitter).</summary>
    public int FirstDelayMilliseconds { get; set; } = 100;
}

/// <summary>
/// Writes grain state, retrying transient storage failures with exponential back-off (Polly), and
/// lets the last failure surface to the caller, so that nothing acknowledged is unsaved and nothing
/// unsaved is acknowledged. Etag conflicts are not retried: another activation wrote the state,
/// and writing again over it would be wrong. After a write that finally failed, the activation's
/// state is read back from storage (or, failing that, the activation is dropped): a grain that
/// skips unchanged values would otherwise take the caller's retry for a no-op and never save it.
/// </summary>
public sealed class StateWriter
{
    public const string MeterName = "LMIndexer.Storage";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> Retries = Meter.CreateCounter<long>("lmindexer.storage.write_retries", description: "Grain state writes retried after a storage failure.");
    private static readonly Counter<long> Failures = Meter.CreateCounter<long>("lmindexer.storage.write_failures", description: "Grain state writes that failed after their retries.");

    private readonly ResiliencePipeline pipeline;
    private readonly ILogger<StateWriter> logger;
    private readonly IGrainContextAccessor grainContext;

    public StateWriter(IOptions<StateWriteOptions> options, ILogger<StateWriter> logger, IGrainContextAccessor grainContext)
    {
        this.logger = logger;
        this.grainContext = grainContext;
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Value;
        var builder = new ResiliencePipelineBuilder();
        if (settings.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = settings.MaxRetries,
                Delay = TimeSpan.FromMilliseconds(settings.FirstDelayMilliseconds),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not (InconsistentStateException or OperationCanceledException)),
                OnRetry = retry =>
                {
                    Retries.Add(1);
                    logger.LogWarning(retry.Outcome.Exception, "State write failed; retry {Attempt} in {Delay}", retry.AttemptNumber + 1, retry.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            });
        }
        pipeline = builder.Build();
    }

    public async Task WriteAsync<T>(IPersistentState<T> state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        // Retries must come back to the grain's scheduler: state may only be written from the activation.
        var context = ResilienceContextPool.Shared.Get(continueOnCapturedContext: true, cancellationToken);
        try
        {
            await pipeline.ExecuteAsync(static async (ctx, s) => await s.WriteStateAsync(ctx.CancellationToken), context, state);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            Failures.Add(1);
            await ForgetUnsavedAsync(state);
            throw;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>Puts the activation's state back to what storage holds, or drops the activation when storage cannot be read either.</summary>
    private async Task ForgetUnsavedAsync<T>(IPersistentState<T> state)
    {
        try
        {
            await state.ReadStateAsync();
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "State could not be read back after a failed write; the activation is dropped");
            grainContext.GrainContext.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationError, "state write and read-back failed"));
        }
    }
}

/// <summary>Rejects retry settings that cannot work, at start-up.</summary>
public sealed class StateWriteOptionsValidator : IValidateOptions<StateWriteOptions>
{
    public ValidateOptionsResult Validate(string? name, StateWriteOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.MaxRetries is < 0 or > 10 || options.FirstDelayMilliseconds < 1
            ? ValidateOptionsResult.Fail($"StateWrites: MaxRetries must be 0-10 and FirstDelayMilliseconds at least 1 (got {options.MaxRetries}, {options.FirstDelayMilliseconds}).")
            : ValidateOptionsResult.Success;
    }
}
