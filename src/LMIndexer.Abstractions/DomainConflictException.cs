namespace LMIndexer.Abstractions;

/// <summary>
/// A request that conflicts with the cluster's state — a version that is being served, a backfill
/// not yet completed, nothing to roll back to: the client's to resolve (HTTP 409). Any other
/// <see cref="InvalidOperationException"/> is a fault of the server (HTTP 500).
/// </summary>
[GenerateSerializer]
public sealed class DomainConflictException : InvalidOperationException
{
    public DomainConflictException()
    {
    }

    public DomainConflictException(string message) : base(message)
    {
    }

    public DomainConflictException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
