namespace LMIndexer.Abstractions;

/// <summary>
/// A registered index version: its serving bundle, when it was registered, whether every item
/// grain and prefix grain holds its IDs (<see cref="Ready"/>; a version is activated only then),
/// and whether its model reads the items' text (<see cref="ItemText"/>; when not, a history is sent
/// to it as item ids alone).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record IndexVersionInfo(
    [property: Id(0)] string Version,
    [property: Id(1)] string BundlePath,
    [property: Id(2)] DateTimeOffset Registered,
    [property: Id(3)] int Items,
    [property: Id(4)] string Task = "recommendation",
    [property: Id(5)] bool Ready = true,
    [property: Id(6)] bool ItemText = true);

/// <summary>
/// The registry's view: every version, the active recommendation version (and the one before it),
/// the active search version, and the revision (one more at every change, so a silo's cache can
/// tell an older view from a newer one whatever order they arrive in).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record IndexVersionsState(
    [property: Id(0)] IReadOnlyList<IndexVersionInfo> Versions,
    [property: Id(1)] string? Active,
    [property: Id(2)] string? Previous,
    [property: Id(3)] string? ActiveSearch = null,
    [property: Id(4)] long Revision = 0);

/// <summary>Where a backfill job stands.</summary>
public enum BackfillStatus
{
    Running,
    Completed,
    Cancelled,
    Failed,
}

/// <summary>Progress of a backfill job: items written, rate, estimated time left, errors.</summary>
[GenerateSerializer, Immutable]
public sealed record BackfillProgress(
    [property: Id(0)] string JobId,
    [property: Id(1)] string Version,
    [property: Id(2)] BackfillStatus Status,
    [property: Id(3)] int Total,
    [property: Id(4)] int Done,
    [property: Id(5)] int Errors,
    [property: Id(6)] double ItemsPerSecond,
    [property: Id(7)] TimeSpan? Remaining,
    [property: Id(8)] DateTimeOffset Started,
    [property: Id(9)] DateTimeOffset? Finished,
    [property: Id(10)] string? LastError,
    [property: Id(11)] int Resumes,
    [property: Id(12)] string Silo)
{
    public bool IsFinished => Status is not BackfillStatus.Running;
}

/// <summary>What an activation did: the version now active, the one before, versions retired by retention (each cleaned up by the job <c>retire-{version}</c>).</summary>
[GenerateSerializer, Immutable]
public sealed record ActivationResult(
    [property: Id(0)] string Active,
    [property: Id(1)] string? Previous,
    [property: Id(2)] IReadOnlyList<string> Retired);
