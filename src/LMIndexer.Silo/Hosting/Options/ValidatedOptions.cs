using Microsoft.Extensions.Options;

namespace LMIndexer.Silo.Hosting.Options;

/// <summary>Options sections bound once, validated by the validator beside them, at start-up.</summary>
public static class ValidatedOptions
{
    /// <summary>
    /// Binds <paramref name="section"/> to <typeparamref name="T"/> with <c>ValidateOnStart</c> and
    /// returns the value, validated now: composing the host (which clustering, which store) needs
    /// it before the container exists, and a bad value should stop the host before it listens.
    /// </summary>
    public static T AddValidatedOptions<T, TValidator>(this IServiceCollection services, IConfiguration configuration, string section)
        where T : class, new()
        where TValidator : class, IValidateOptions<T>, new()
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<T>().Bind(configuration.GetSection(section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<T>, TValidator>();
        var value = configuration.GetSection(section).Get<T>() ?? new T();
        var result = new TValidator().Validate(Microsoft.Extensions.Options.Options.DefaultName, value);
        if (result.Failed)
            throw new OptionsValidationException(Microsoft.Extensions.Options.Options.DefaultName, typeof(T), result.Failures);
        return value;
    }
}
