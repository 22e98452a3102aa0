using System.Diagnostics.CodeAnalysis;
using Cached;
using Cached.DependencyInjection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

// In the namespace of IServiceCollection, as the Microsoft.Extensions family does, so AddCached needs no extra using.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Cached's named caches with a service container.</summary>
public static class CachedServiceCollectionExtensions
{
    /// <summary>
    /// Registers the named caches of a configuration section (<c>builder.Configuration.GetSection("Cached")</c>, in
    /// <see cref="Caches.SetConfig(IConfiguration)"/>'s shape): <see cref="ICache"/> is the <c>"default"</c> alias,
    /// <c>[FromKeyedServices("redis_alt")] ICache</c> any alias, and generated methods use the same instances.
    /// </summary>
    /// <exception cref="CacheConfigurationException">An entry is malformed; the exception names its configuration path.</exception>
    [RequiresUnreferencedCode("Caches named in configuration are created by reflection from type names; trimmed and NativeAOT applications use the builder overload with instances or factories.")]
    public static IServiceCollection AddCached(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddCached(cached => cached.FromConfiguration(configuration));
    }

    /// <summary>
    /// Registers named caches described with a <see cref="CachedBuilder"/>. <see cref="ICache"/> resolves to the
    /// <c>"default"</c> alias (a <see cref="SimpleMemoryCache"/> that keeps references, when none is given) and each alias
    /// is a keyed <see cref="ICache"/>. The aliases become <see cref="Caches"/>' configuration, which is process-wide:
    /// generated methods, <see cref="Caches.Get"/> and the container share one instance per alias. The container
    /// disposes the caches it creates; caches given as instances stay yours.
    /// </summary>
    /// <exception cref="CacheConfigurationException"><see cref="CachedBuilder.AddHybridCache"/> or <see cref="CachedBuilder.AddDistributedCache"/> names an alias the builder does not add.</exception>
    public static IServiceCollection AddCached(this IServiceCollection services, Action<CachedBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        if (services.Any(static descriptor => descriptor.ServiceType == typeof(CachedBuilder)))
        {
            throw new InvalidOperationException("AddCached was called already on these services; describe every alias in one call.");
        }

        var builder = new CachedBuilder(services);
        configure(builder);
        if (!builder.Aliases.Contains(Caches.DefaultAlias))
        {
            builder.AddConfig(Caches.DefaultAlias, Caches.DefaultAliasConfig());
        }

        // Checked now: such an alias has no keyed registration, so the interface would fail on its first resolve.
        foreach (var (adder, alias) in builder.Served)
        {
            if (!builder.Aliases.Contains(alias))
            {
                throw new CacheConfigurationException(
                    alias,
                    $"{adder}(\"{alias}\") serves from cache alias '{alias}', which this AddCached call does not add; add it in the same call (AddCache(\"{alias}\", ...) or FromConfiguration) or name one it adds ({string.Join(", ", builder.Aliases.Order(StringComparer.Ordinal).Select(static a => $"'{a}'"))}).");
            }
        }

        builder.Configuration = Caches.Configure(builder.Configs, builder.Instances, builder.Factories.Keys);

        services.AddSingleton(builder);
        services.TryAddSingleton<CachedRegistry>();
        // First of the hosted services, wherever AddCached comes: the host starts them in the order they were added and
        // stops them in reverse, so a service added before it that uses a factory-made alias in its StartAsync or
        // StopAsync finds the cache made (and the missing-alias check stops the host before any other service starts).
        if (!services.Any(static d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(CachedHostedService)))
        {
            services.Insert(0, ServiceDescriptor.Singleton<IHostedService, CachedHostedService>());
        }
        foreach (var alias in builder.Aliases.ToList())
        {
            if (builder.Instances.TryGetValue(alias, out var instance))
            {
                // Registered as an instance, so the container leaves it to its owner, as AddSingleton(instance) does.
                services.AddKeyedSingleton(alias, instance);
            }
            else
            {
                services.AddKeyedSingleton<ICache>(alias, static (provider, key) => provider.GetRequiredService<CachedRegistry>().Get((string)key!));
            }
        }

        if (builder.Instances.TryGetValue(Caches.DefaultAlias, out var defaultInstance))
        {
            services.AddSingleton(defaultInstance);
        }
        else
        {
            // Through the registry, not the keyed service: the container disposes this registration's result too, so
            // it takes a hold of its own.
            services.AddSingleton<ICache>(static provider => provider.GetRequiredService<CachedRegistry>().Get(Caches.DefaultAlias));
        }

        return services;
    }
}
