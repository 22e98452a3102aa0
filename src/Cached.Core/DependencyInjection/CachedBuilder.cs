using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Cached.DependencyInjection;

/// <summary>
/// Names the caches of a dependency-injection application, for
/// <see cref="CachedServiceCollectionExtensions.AddCached(IServiceCollection, Action{CachedBuilder})"/>: from a
/// configuration section, from <see cref="CacheConfig"/> entries, from instances or from factories. A later entry
/// for an alias replaces an earlier one.
/// </summary>
public sealed class CachedBuilder
{
    internal CachedBuilder(IServiceCollection services)
    {
        Services = services;
    }

    /// <summary>The services being configured.</summary>
    public IServiceCollection Services { get; }

    internal Dictionary<string, CacheConfig> Configs { get; } = new(StringComparer.Ordinal);

    internal Dictionary<string, ICache> Instances { get; } = new(StringComparer.Ordinal);

    internal Dictionary<string, Func<IServiceProvider, ICache>> Factories { get; } = new(StringComparer.Ordinal);

    /// <summary>The number <see cref="Caches"/> gave the configuration these aliases became.</summary>
    internal int Configuration { get; set; }

    /// <summary>Adds every alias of a configuration section (<see cref="Caches.SetConfig(IConfiguration)"/>'s shape), checked now.</summary>
    /// <exception cref="CacheConfigurationException">An entry is malformed; the exception names its configuration path.</exception>
    [RequiresUnreferencedCode("Caches named in configuration are created by reflection from type names; trimmed and NativeAOT applications add instances or factories.")]
    public CachedBuilder FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        foreach (var (alias, config) in Caches.ReadValidated(configuration))
        {
            Replace(alias);
            Configs[alias] = config;
        }

        return this;
    }

    /// <summary>Adds an alias built from <paramref name="config"/> on first use; the container disposes it.</summary>
    public CachedBuilder AddCache(string alias, CacheConfig config)
    {
        CheckAlias(alias);
        ArgumentNullException.ThrowIfNull(config);
        Replace(alias);
        Configs[alias] = config.Clone();
        return this;
    }

    /// <summary>Adds an alias served by an instance you own: as with <c>AddSingleton(instance)</c>, the container does not dispose it.</summary>
    public CachedBuilder AddCache(string alias, ICache cache)
    {
        CheckAlias(alias);
        ArgumentNullException.ThrowIfNull(cache);
        Replace(alias);
        Instances[alias] = cache;
        return this;
    }

    /// <summary>
    /// Adds an alias created by <paramref name="factory"/> from the container (when the host starts, or when a cache is
    /// first resolved); the container disposes it.
    /// </summary>
    public CachedBuilder AddCache(string alias, Func<IServiceProvider, ICache> factory)
    {
        CheckAlias(alias);
        ArgumentNullException.ThrowIfNull(factory);
        Replace(alias);
        Factories[alias] = factory;
        return this;
    }

    internal IEnumerable<string> Aliases => Configs.Keys.Concat(Instances.Keys).Concat(Factories.Keys);

    private void Replace(string alias)
    {
        Configs.Remove(alias);
        Instances.Remove(alias);
        Factories.Remove(alias);
    }

    private static void CheckAlias(string alias)
    {
        if (string.IsNullOrWhiteSpace(alias))
        {
            throw new ArgumentException("An alias cannot be null, empty or whitespace.", nameof(alias));
        }
    }
}
