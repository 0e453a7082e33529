namespace LMIndexer.Abstractions;

/// <summary>What a user reads of an exception, in an API problem's detail or a CLI error line.</summary>
public static class ExceptionMessages
{
    /// <summary>The message without the " (Parameter 'x')" that .NET appends to an <see cref="ArgumentException"/>'s: a code name means nothing to the user.</summary>
    public static string UserMessage(this Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception is ArgumentException { ParamName: { } name } argument
            ? argument.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal)
            : exception.Message;
    }
}
