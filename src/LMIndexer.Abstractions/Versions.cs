namespace LMIndexer.Abstractions;

/// <summary>A registered index version: its serving bundle and when it was registered.</summary>
[GenerateSerializer, Immutable]
public sealed record IndexVersionInfo(
    [property: Id(0)] string Version,
    [property: Id(1)] string BundlePath,
    [property: Id(2)] DateTimeOffset Registered,
    [property: Id(3)] int Items,
    [property: Id(4)] string Task = "recommendation");

/// <summary>The registry's view: every version, the active recommendation version (and the one before it), the active search version.</summary>
[GenerateSerializer, Immutable]
public sealed record IndexVersionsState(
    [property: Id(0)] IReadOnlyList<IndexVersionInfo> Versions,
    [property: Id(1)] string? Active,
    [property: Id(2)] string? Previous,
    [property: Id(3)] string? ActiveSearch = null);
