namespace LMIndexer.Abstractions;

/// <summary>
/// The cluster cannot take this request now (an inference queue is full): the client should retry
/// later (HTTP 503 with <c>Retry-After</c>). Recommendations never show it — they fall back to
/// popular items, marked degraded — but search has no such fallback.
/// </summary>
[GenerateSerializer]
public sealed class CapacityExceededException : Exception
{
    public CapacityExceededException()
    {
    }

    public CapacityExceededException(string message) : base(message)
    {
    }

    public CapacityExceededException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
