using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Konduktor.Storage;

/// <summary>
/// Registers an options type checked by its validator when the host starts: the registration every options section of the
/// library makes (the checkpoint manager's, the output sync's, background saves', the stores'). In the core, visible to the
/// store packages.
/// </summary>
internal static class ValidatedOptions
{
    /// <summary>
    /// Validates <typeparamref name="TOptions"/> at start-up with <typeparamref name="TValidator"/> (registered once, however often
    /// this is called).
    /// </summary>
    /// <returns>The options' builder, to bind or configure them.</returns>
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions, TValidator>(this IServiceCollection services)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        var options = services.AddOptions<TOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
        return options;
    }
}
