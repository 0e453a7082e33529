using System.Diagnostics;
using System.Diagnostics.Metrics;
using LMIndexer.Abstractions;
using LMIndexer.Core.Indexing;
using LMIndexer.Grains.Versions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LMIndexer.Grains.Backfill;

/// <summary>Persistent state of <see cref="BackfillGrain"/>: the job and its cursor.</summary>
[GenerateSerializer]
public sealed class BackfillState
{
    [Id(0)] public string? Version { get; set; }
    [Id(1)] public string? BundlePath { get; set; }
    [Id(2)] public BackfillStatus Status { get; set; }
    [Id(3)] public int Total { get; set; }

    /// <summary>The cursor: rows of the ID table before it are written.</summary>
    [Id(4)] public int Done { get; set; }
    [Id(5)] public int Errors { get; set; }
    [Id(6)] public DateTimeOffset Started { get; set; }
    [Id(7)] public DateTimeOffset? Finished { get; set; }
    [Id(8)] public string? LastError { get; set; }

    /// <summary>How many times the job was picked up again by a new activation (after a crash or a restart).</summary>
    [Id(9)] public int Resumes { get; set; }

    /// <summary>Removes a retired version's IDs instead of writing a new version's.</summary>
    [Id(10)] public bool Retire { get; set; }

    /// <summary>
    /// The cursor counts rows of the table sorted by item id, so the item grains' records are
    /// inserted in key order; the prefix grains follow, each written once with all its entries
    /// (<see cref="PrefixGroupsDone"/>). A job saved before this field existed counted rows in
    /// another order: it starts again from the first row, which is safe because every write is idempotent.
    /// </summary>
    [Id(12)] public bool ItemOrder { get; set; }

    /// <summary>The second cursor: prefix grains (one per first code, in code order) written after every item.</summary>
    [Id(13)] public int PrefixGroupsDone { get; set; }
}

/// <summary>
/// A backfill job (key: job id). Writes a serving bundle's IDs into the item and prefix grains in
/// batches, persisting its cursor after each; a reminder re-activates it wherever the cluster
/// places it after a silo dies, and it carries on from the cursor. A batch repeated after a crash
/// writes the same values again, so every item ends up written once in effect. A retirement job
/// runs the same way the other way round: it removes a retired version's IDs from the item grains,
/// then clears its prefix grains, outside the registry's turn.
/// </summary>
public sealed class BackfillGrain(
    [PersistentState("backfill", StorageNames.Default)] IPersistentState<BackfillState> state,
    IOptions<BackfillOptions> options,
    IOptions<Inference.InferenceOptions> inference,
    ILocalSiloDetails silo,
    Storage.StateWriter writer,
    ILogger<BackfillGrain> logger) : Grain, IBackfillGrain, IRemindable
{
    public const string MeterName = "LMIndexer.Backfill";
    private const string ReminderName = "backfill";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> ItemsWritten = Meter.CreateCounter<long>("lmindexer.backfill.items", description: "Items whose ID a backfill job wrote, per version.");
    private static readonly Counter<long> BatchErrors = Meter.CreateCounter<long>("lmindexer.backfill.errors", description: "Backfill batches that failed and were retried, per version.");

    private Task? running;
    private CancellationTokenSource? stop;
    private Stopwatch? clock;
    private int doneAtStart;

    private BackfillState Job => state.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (Job.Status == BackfillStatus.Running && Job.Version is not null)
        {
            Job.Resumes++;   // persisted with the next batch
            logger.LogInformation("Backfill {Job} of version {Version} resumes at {Done}/{Total}", this.GetPrimaryKeyString(), Job.Version, Job.Done, Job.Total);
            Run();
        }
        return base.OnActivateAsync(cancellationToken);
    }

    public async Task<BackfillProgress> StartAsync(string bundlePath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(bundlePath);
        var path = Path.GetFullPath(bundlePath);
        if (Job.Version is not null)
        {
            if (Job.BundlePath != path)
                throw new ArgumentException($"Backfill job '{this.GetPrimaryKeyString()}' is for {Job.BundlePath}; use a new job id for {path}.", nameof(bundlePath));
            if (Job.Status is BackfillStatus.Failed or BackfillStatus.Cancelled)
            {
                // Started again: carry on from the cursor.
                Job.Status = BackfillStatus.Running;
                Job.Finished = null;
                await writer.WriteAsync(state);
                await this.RegisterOrUpdateReminder(ReminderName, options.Value.ReminderPeriod, options.Value.ReminderPeriod);
                Run();
            }
            return Progress();
        }
        var (manifest, table) = await Task.Run(() => IndexPublisher.ReadServingIds(path));   // a large table takes seconds to read
        var versions = GrainFactory.GetGrain<IIndexVersionGrain>(0);
        var registry = await versions.GetAsync();
        if (manifest.Version == registry.Active || manifest.Version == registry.ActiveSearch)
            throw new DomainConflictException($"Version '{manifest.Version}' is being served; a retrained index needs a new version name.");
        await versions.RegisterAsync(manifest.Version, path, table.Count, IndexPublisher.TaskOf(manifest), ready: false);
        state.State = new BackfillState
        {
            Version = manifest.Version,
            BundlePath = path,
            Status = BackfillStatus.Running,
            Total = table.Count,
            Started = DateTimeOffset.UtcNow,
            ItemOrder = true,
        };
        await writer.WriteAsync(state);
        await this.RegisterOrUpdateReminder(ReminderName, options.Value.ReminderPeriod, options.Value.ReminderPeriod);
        logger.LogInformation("Backfill {Job} of version {Version} started: {Total} items from {Path}", this.GetPrimaryKeyString(), Job.Version, Job.Total, path);
        Run();
        return Progress();
    }

    public async Task<BackfillProgress> RetireAsync(IndexVersionInfo version)
    {
        ArgumentNullException.ThrowIfNull(version);
        if (Job.Version is not null)
        {
            if (!Job.Retire || Job.Version != version.Version)
                throw new ArgumentException($"Job '{this.GetPrimaryKeyString()}' is for version {Job.Version}; retire {version.Version} under another job id.", nameof(version));
            return Progress();
        }
        var ids = Path.Combine(version.BundlePath, SemanticIdTable.FileName);
        var total = await Task.Run(() => File.Exists(ids) ? SemanticIdTable.Load(ids).Count : 0);
        state.State = new BackfillState
        {
            Version = version.Version,
            BundlePath = version.BundlePath,
            Status = BackfillStatus.Running,
            Total = total,
            Started = DateTimeOffset.UtcNow,
            Retire = true,
            ItemOrder = true,
            // Without the ID table the version's items and prefixes cannot be enumerated; they stay,
            // inert (nothing routes to a retired version), and the job says so.
            LastError = total == 0 ? $"{ids} is gone: the version's models are unloaded, its item IDs and prefix grains stay." : null,
        };
        await writer.WriteAsync(state);
        await this.RegisterOrUpdateReminder(ReminderName, options.Value.ReminderPeriod, options.Value.ReminderPeriod);
        logger.LogInformation("Retiring version {Version}: {Total} item IDs to remove", version.Version, total);
        Run();
        return Progress();
    }

    public Task<BackfillProgress?> GetProgressAsync() => Task.FromResult(Job.Version is null ? null : Progress());

    public async Task<BackfillProgress?> CancelAsync()
    {
        if (Job.Version is null)
            return null;
        if (Job.Status != BackfillStatus.Running)
            return Progress();
        if (running is not null)
        {
            await stop!.CancelAsync();
            await running;   // the loop records the cancellation
        }
        else
        {
            await FinishAsync(BackfillStatus.Cancelled);
        }
        return Progress();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (Job.Status != BackfillStatus.Running)
        {
            if (await this.GetReminder(reminderName) is { } reminder)
                await this.UnregisterReminder(reminder);
            return;
        }
        Run();   // no-op when the loop is going; restarts it when the activation is new
    }

    /// <summary>Starts the batch loop on this activation unless it is already going.</summary>
    private void Run()
    {
        if (running is { IsCompleted: false })
            return;
        stop = new CancellationTokenSource();
        clock = Stopwatch.StartNew();
        doneAtStart = Job.Done;
        running = RunAsync(stop.Token);
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        try
        {
            // A retirement whose ID table is gone has nothing to enumerate (Total 0): it only unloads.
            var path = Path.Combine(Job.BundlePath!, SemanticIdTable.FileName);
            // Reading and sorting a million-row table takes seconds: off the grain scheduler's threads.
            var table = Job.Retire && Job.Total == 0 ? null : await Task.Run(() => SemanticIdTable.Load(path).InItemOrder(), cancellationToken);
            if (table is not null && table.Count != Job.Total)
                throw new InvalidDataException($"{Job.BundlePath} changed under the job: {table.Count} items, {Job.Total} expected.");
            if (!Job.ItemOrder)
            {
                logger.LogInformation("Backfill {Job} was saved by an older version counting rows in another order: it starts again from the first row", this.GetPrimaryKeyString());
                (Job.ItemOrder, Job.Done, Job.PrefixGroupsDone) = (true, 0, 0);
            }
            if (Job.Retire && Job.Done == 0)
                await IndexCleanup.UnloadAsync(GrainFactory, Job.Version!, inference.Value.Replicas);   // models first: they hold the memory
            while (table is not null && Job.Done < Job.Total)
            {
                var (start, count) = (Job.Done, BackfillBatches.NextItems(Job.Done, Job.Total, settings.BatchSize));
                await WriteBatchAsync(start, () => Job.Retire
                    ? IndexCleanup.RemoveItemsAsync(GrainFactory, Job.Version!, table, start, count, settings.Parallelism, cancellationToken)
                    : IndexWriter.WriteItemsAsync(GrainFactory, Job.Version!, table, start, count, settings.Parallelism, cancellationToken), cancellationToken);
                await AdvanceAsync(() => Job.Done += count, count, cancellationToken);
            }
            if (Job.Retire)
            {
                if (table is not null)
                    await IndexCleanup.ClearPrefixesAsync(GrainFactory, Job.Version!, table, settings.Parallelism, cancellationToken);
            }
            else
            {
                var groups = IndexWriter.PrefixGroups(table!);
                var entries = groups.Select(g => g.Entries.Count).ToArray();
                while (Job.PrefixGroupsDone < groups.Count)
                {
                    var start = Job.PrefixGroupsDone;
                    var count = BackfillBatches.NextPrefixGroups(entries, start, settings.BatchSize);
                    await WriteBatchAsync(start, () => IndexWriter.WritePrefixesAsync(GrainFactory, Job.Version!, groups, start, count, settings.Parallelism, cancellationToken), cancellationToken);
                    await AdvanceAsync(() => Job.PrefixGroupsDone += count, 0, cancellationToken);
                }
                await GrainFactory.GetGrain<IIndexVersionGrain>(0).MarkReadyAsync(Job.Version!);
            }
            await FinishAsync(BackfillStatus.Completed);
            logger.LogInformation("{Kind} {Job} of version {Version} completed: {Total} items", Job.Retire ? "Retirement" : "Backfill", this.GetPrimaryKeyString(), Job.Version, Job.Total);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await FinishAsync(BackfillStatus.Cancelled);
            logger.LogInformation("Backfill {Job} cancelled at {Done}/{Total}", this.GetPrimaryKeyString(), Job.Done, Job.Total);
        }
        catch (Exception e)
        {
            Job.LastError = e.Message;
            await FinishAsync(BackfillStatus.Failed);
            logger.LogError(e, "Backfill {Job} failed at {Done}/{Total}", this.GetPrimaryKeyString(), Job.Done, Job.Total);
        }
    }

    /// <summary>One batch, retried with back-off; the errors are counted and the last one kept for the operator.</summary>
    private async Task WriteBatchAsync(int start, Func<Task> write, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        // Keeps the activation while the job runs; the reminder brings it back if the silo dies.
        DelayDeactivation(TimeSpan.FromMinutes(10));
        var settings = options.Value;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await write();
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException && attempt < settings.MaxAttempts)
            {
                Job.Errors++;
                Job.LastError = e.Message;
                BatchErrors.Add(1, new KeyValuePair<string, object?>("version", Job.Version));
                logger.LogWarning(e, "Backfill {Job}: batch at {Start} failed (attempt {Attempt} of {Max})", this.GetPrimaryKeyString(), start, attempt, settings.MaxAttempts);
                await Task.Delay(BackfillBatches.RetryDelay(attempt), cancellationToken);
            }
        }
    }

    /// <summary>Moves a cursor past a written batch and persists it, even when the job is being cancelled.</summary>
    private async Task AdvanceAsync(Action move, int items, CancellationToken cancellationToken)
    {
        move();
        await writer.WriteAsync(state, CancellationToken.None);
        if (items > 0)
            ItemsWritten.Add(items, new KeyValuePair<string, object?>("version", Job.Version), new KeyValuePair<string, object?>("job", Job.Retire ? "retire" : "backfill"));
        if (options.Value.PauseBetweenBatches > TimeSpan.Zero)
            await Task.Delay(options.Value.PauseBetweenBatches, cancellationToken);
    }

    private async Task FinishAsync(BackfillStatus status)
    {
        Job.Status = status;
        Job.Finished = DateTimeOffset.UtcNow;
        await writer.WriteAsync(state);
        if (await this.GetReminder(ReminderName) is { } reminder)
            await this.UnregisterReminder(reminder);
    }

    private BackfillProgress Progress()
    {
        var (rate, remaining) = BackfillBatches.Pace(Job.Status == BackfillStatus.Running, Job.Total, Job.Done, doneAtStart, clock?.Elapsed.TotalSeconds ?? 0);
        return new BackfillProgress(this.GetPrimaryKeyString(), Job.Version!, Job.Status, Job.Total, Job.Done, Job.Errors, rate, remaining,
            Job.Started, Job.Finished, Job.LastError, Job.Resumes, silo.SiloAddress.ToString());
    }
}
