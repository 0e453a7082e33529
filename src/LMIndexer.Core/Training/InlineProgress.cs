namespace LMIndexer.Core.Training;

/// <summary>Reports on the caller's thread, in order (<see cref="Progress{T}"/> posts to the thread pool, which can reorder lines or report after the work ended).</summary>
public sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
