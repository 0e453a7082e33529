using Microsoft.Extensions.Logging;

namespace LMIndexer.Grains.Tests;

/// <summary>Collects what a component logs, with its level, for assertions.</summary>
internal sealed class LoggedLines<T> : ILogger<T>
{
    public List<(LogLevel Level, string Text)> Logged { get; } = [];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => true;
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (Logged)
            Logged.Add((logLevel, formatter(state, exception)));
    }
}
