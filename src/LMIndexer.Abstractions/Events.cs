namespace LMIndexer.Abstractions;

/// <summary>What a user did with an item.</summary>
public enum EventType
{
    View,
    Cart,
    Purchase,
    Click,
}

/// <summary>
/// One user event. <see cref="EventId"/> makes delivery idempotent: a repeated id is not counted
/// twice (clients retry).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record UserEvent(
    [property: Id(0)] string EventId,
    [property: Id(1)] string UserId,
    [property: Id(2)] string ItemId,
    [property: Id(3)] EventType Type,
    [property: Id(4)] DateTimeOffset Time);

/// <summary>One entry of a user's bounded history.</summary>
[GenerateSerializer, Immutable]
public sealed record HistoryEntry(
    [property: Id(0)] string ItemId,
    [property: Id(1)] EventType Type,
    [property: Id(2)] DateTimeOffset Time);

/// <summary>What recording an event (or a batch: <see cref="Recorded"/> new, <see cref="Duplicates"/> repeated) did.</summary>
[GenerateSerializer, Immutable]
public sealed record EventReceipt([property: Id(0)] bool Recorded, [property: Id(1)] int HistoryLength, [property: Id(2)] int Duplicates = 0);
