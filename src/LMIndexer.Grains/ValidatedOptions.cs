using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LMIndexer.Grains;

/// <summary>Options sections bound once and checked at start-up by the validator beside them.</summary>
public static class ValidatedOptions
{
    /// <summary>Binds <paramref name="section"/> to <typeparamref name="T"/> with its validator and <c>ValidateOnStart</c>.</summary>
    public static OptionsBuilder<T> AddValidatedOptions<T, TValidator>(this IServiceCollection services, IConfiguration configuration, string section)
        where T : class
        where TValidator : class, IValidateOptions<T>
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddSingleton<IValidateOptions<T>, TValidator>();
        return services.AddOptions<T>().Bind(configuration.GetSection(section)).ValidateOnStart();
    }

    /// <summary>
    /// <see cref="AddValidatedOptions{T, TValidator}"/>, and the value, validated now: composing a
    /// host (which clustering, which store) needs it before the container exists, and a bad value
    /// should stop the host before it listens.
    /// </summary>
    public static T AddAndReadValidatedOptions<T, TValidator>(this IServiceCollection services, IConfiguration configuration, string section)
        where T : class, new()
        where TValidator : class, IValidateOptions<T>, new()
    {
        services.AddValidatedOptions<T, TValidator>(configuration, section);
        var value = configuration.GetSection(section).Get<T>() ?? new T();
        var result = new TValidator().Validate(Options.DefaultName, value);
        if (result.Failed)
            throw new OptionsValidationException(Options.DefaultName, typeof(T), result.Failures);
        return value;
    }
}
