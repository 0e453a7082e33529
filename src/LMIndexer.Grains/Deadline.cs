namespace LMIndexer.Grains;

/// <summary>Time left before a request's deadline, for the per-call timeouts of its attempts.</summary>
public static class Deadline
{
    /// <summary>What is left of <paramref name="deadline"/> (UTC), never negative: a call past it gets no time.</summary>
    public static TimeSpan Left(DateTime deadline)
    {
        var left = deadline - DateTime.UtcNow;
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }
}
