using LMIndexer.Abstractions;
using Microsoft.Extensions.Logging;

namespace LMIndexer.Grains.Versions;

/// <summary>
/// This silo's copy of the version registry, so that a request does not call the registry
/// singleton to learn which version to serve. It subscribes to the registry (which tells it of every
/// change before the change returns to the admin who made it) and renews the subscription every
/// few seconds, which also refreshes the copy; a copy not heard of for longer than
/// <see cref="TrustedFor"/> (the registry unreachable, say) is read again on use.
/// </summary>
/// <remarks>
/// The registry keeps its subscribers in memory, so they are lost only when its silo leaves the
/// cluster. When any silo leaves, the copy is distrusted (requests read the registry, which comes
/// back on another silo) until the subscription has been renewed, which happens at once.
/// </remarks>
public sealed class ServedVersions(IGrainFactory grains, ILogger<ServedVersions> logger, IClusterMembershipService? membership = null)
    : IIndexVersionObserver, ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    public static readonly TimeSpan RenewEvery = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan TrustedFor = TimeSpan.FromSeconds(30);

    private readonly Lock gate = new();
    private readonly CancellationTokenSource stopping = new();
    private IndexVersionsState? current;
    private DateTime heard;
    private IIndexVersionObserver? reference;
    private readonly SemaphoreSlim renewNow = new(0);
    private Task? renewing;
    private Task? watching;
    private int disposed;

    /// <summary>The registry as this silo knows it: its copy while trusted, otherwise read now.</summary>
    public async ValueTask<IndexVersionsState> GetAsync()
    {
        lock (gate)
        {
            if (current is not null && DateTime.UtcNow - heard < TrustedFor)
                return current;
        }
        return Apply(await grains.GetGrain<IIndexVersionGrain>(0).GetAsync());
    }

    /// <summary>The active recommendation version and its registration; null when none is active.</summary>
    public async ValueTask<IndexVersionInfo?> ActiveAsync()
    {
        var state = await GetAsync();
        return state.Active is { } active ? state.Versions.FirstOrDefault(v => v.Version == active) : null;
    }

    /// <summary>The active search version; null when none is active.</summary>
    public async ValueTask<string?> ActiveSearchAsync() => (await GetAsync()).ActiveSearch;

    public Task OnVersionsChangedAsync(IndexVersionsState state)
    {
        Apply(state);
        return Task.CompletedTask;
    }

    /// <summary>Keeps the newest of the copy and <paramref name="state"/> (answers and notifications may cross).</summary>
    private IndexVersionsState Apply(IndexVersionsState state)
    {
        lock (gate)
        {
            if (current is null || state.Revision >= current.Revision)
                current = state;
            heard = DateTime.UtcNow;
            return current;
        }
    }

    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(ServedVersions), ServiceLifecycleStage.Active,
            _ =>
            {
                reference = grains.CreateObjectReference<IIndexVersionObserver>(this);
                renewing = Task.Run(() => RenewAsync(stopping.Token), CancellationToken.None);
                if (membership is not null)
                    watching = Task.Run(() => WatchMembershipAsync(membership, stopping.Token), CancellationToken.None);
                return Task.CompletedTask;
            },
            async _ =>
            {
                await stopping.CancelAsync();
                foreach (var loop in new[] { renewing, watching })
                {
                    if (loop is not null)
                        await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            });
    }

    /// <summary>A silo that leaves may have held the registry, and with it this silo's subscription.</summary>
    private async Task WatchMembershipAsync(IClusterMembershipService cluster, CancellationToken cancellationToken)
    {
        ClusterMembershipSnapshot? previous = null;
        await foreach (var snapshot in cluster.MembershipUpdates.WithCancellation(cancellationToken))
        {
            if (previous is not null && snapshot.CreateUpdate(previous).Changes.Any(c => c.Status is SiloStatus.ShuttingDown or SiloStatus.Stopping or SiloStatus.Dead))
            {
                lock (gate)
                    heard = DateTime.MinValue;
                renewNow.Release();
            }
            previous = snapshot;
        }
    }

    private async Task RenewAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                Apply(await grains.GetGrain<IIndexVersionGrain>(0).SubscribeAsync(reference!));
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("Subscribing to the version registry failed (retried in {Seconds} s): {Message}", RenewEvery.TotalSeconds, e.Message);
            }
            try
            {
                await renewNow.WaitAsync(RenewEvery, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <remarks>Idempotent: the container disposes this once as itself and once as a lifecycle participant.</remarks>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
            return;
        stopping.Cancel();
        stopping.Dispose();
        if (reference is not null)
            grains.DeleteObjectReference<IIndexVersionObserver>(reference);
    }
}
