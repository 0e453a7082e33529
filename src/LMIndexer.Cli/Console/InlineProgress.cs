namespace LMIndexer.Cli.Console;

/// <summary>Reports on the caller's thread, in order (<see cref="Progress{T}"/> posts to the thread pool, which can reorder lines).</summary>
public sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
