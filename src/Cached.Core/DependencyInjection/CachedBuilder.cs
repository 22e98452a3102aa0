using System.Diagnostics.CodeAnalysis;
using Cached.Distributed;
using Cached.Hybrid;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

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

    /// <summary>The alias each interface served from a cache (<see cref="AddHybridCache"/>, <see cref="AddDistributedCache"/>) comes from.</summary>
    internal Dictionary<string, string> Served { get; } = new(StringComparer.Ordinal);

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
    /// <remarks>The cache is made by reflection from the type names given: a trimmed or NativeAOT application is warned here, and adds an instance or a factory instead.</remarks>
    [RequiresUnreferencedCode("Caches named in configuration are created by reflection from type names; trimmed and NativeAOT applications add instances or factories.")]
    public CachedBuilder AddCache(string alias, CacheConfig config) => AddConfig(alias, config);

    /// <summary><see cref="AddCache(string, CacheConfig)"/> without its warning, for the default alias's own configuration, whose types Cached keeps through trimming.</summary>
    internal CachedBuilder AddConfig(string alias, CacheConfig config)
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

    /// <summary>
    /// Registers <see cref="HybridCache"/> as a <see cref="CachedHybridCache"/> over <paramref name="alias"/>, replacing
    /// any other registration (Microsoft's <c>AddHybridCache</c> included): code written for HybridCache then runs on
    /// the alias.
    /// </summary>
    /// <param name="alias">The alias whose cache serves it; <c>"default"</c> unless given.</param>
    /// <param name="defaultEntryOptions">The options of every entry before a call's own.</param>
    /// <remarks>
    /// The alias must be one this <c>AddCached</c> call adds: <c>AddCached</c> throws <see cref="CacheConfigurationException"/>
    /// otherwise. Resolving <see cref="HybridCache"/> throws it too when the services configure Microsoft's
    /// implementation in a way this one would ignore: <c>HybridCacheOptions</c> or HybridCache serializers.
    /// </remarks>
    public CachedBuilder AddHybridCache(string alias = Caches.DefaultAlias, CacheEntryOptions? defaultEntryOptions = null)
    {
        CheckAlias(alias);
        Served[nameof(AddHybridCache)] = alias;
        var services = Services;
        Services.Replace(ServiceDescriptor.Singleton<HybridCache>(provider =>
        {
            // At resolve time: Microsoft's AddHybridCache(options => ...) may come after this call.
            MicrosoftHybridSettings.ThrowIfAny(services, alias);
            return new CachedHybridCache(provider.GetRequiredKeyedService<ICache>(alias), defaultEntryOptions);
        }));
        return this;
    }

    /// <summary>
    /// Registers <see cref="IDistributedCache"/> as a <see cref="CacheDistributedCache"/> over <paramref name="alias"/>,
    /// replacing any other registration (<c>AddDistributedMemoryCache</c> included), so ASP.NET Core's session
    /// middleware and other consumers of the interface store in the alias.
    /// </summary>
    /// <param name="alias">The alias whose cache serves it; <c>"default"</c> unless given.</param>
    /// <param name="namespace">The namespace of the entries; <c>null</c> for the cache's own.</param>
    /// <remarks>The alias must be one this <c>AddCached</c> call adds: <c>AddCached</c> throws <see cref="CacheConfigurationException"/> otherwise.</remarks>
    public CachedBuilder AddDistributedCache(string alias = Caches.DefaultAlias, string? @namespace = null)
    {
        CheckAlias(alias);
        Served[nameof(AddDistributedCache)] = alias;
        Services.Replace(ServiceDescriptor.Singleton<IDistributedCache>(
            provider => new CacheDistributedCache(provider.GetRequiredKeyedService<ICache>(alias), @namespace)));
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
