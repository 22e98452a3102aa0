using Cached.Capabilities;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Cached.Configuration;
using Microsoft.Extensions.Configuration;

namespace Cached;

/// <summary>
/// Named cache configurations (pycached's <c>caches</c>): set them once, then <see cref="Get"/> the shared instance
/// of an alias or <see cref="Create"/> a new one.
/// </summary>
/// <remarks>
/// Until <c>SetConfig</c> is called, the configuration is pycached's default: a <c>"default"</c> alias
/// holding a <see cref="SimpleMemoryCache"/> with a <see cref="Serializers.StringSerializer"/>. Thread-safe.
/// </remarks>
public static class Caches
{
    /// <summary>The alias every configuration must have.</summary>
    public const string DefaultAlias = "default";

    private const string ReflectionWarning = "A cache built from configuration is created by reflection from type names; trimmed and NativeAOT applications register instances with Caches.AddInstance.";

    private static readonly object s_gate = new();
    private static readonly ConcurrentDictionary<string, ICache> s_instances = new(StringComparer.Ordinal);
    private static Dictionary<string, CacheConfig> s_config = DefaultConfig();
    private static volatile bool s_configured;
    private static int s_version;

    /// <summary>
    /// True once the application has set the <c>"default"</c> alias (<c>SetConfig</c>, or <see cref="Add"/> /
    /// <see cref="AddInstance"/> with that alias): generated methods with no cache option use it only then, and one
    /// shared <see cref="SimpleMemoryCache"/> before.
    /// </summary>
    public static bool IsDefaultConfigured => s_configured;

    /// <summary>Changes whenever the configuration or an instance changes, so holders of a resolved cache know to resolve again.</summary>
    internal static int Version => Volatile.Read(ref s_version);

    /// <summary>
    /// Replaces the whole configuration. It must have a <c>"default"</c> alias. Instances already created for the
    /// aliases it names are dropped, so the next <see cref="Get"/> builds them anew; others are kept.
    /// </summary>
    /// <exception cref="ArgumentException">There is no <c>"default"</c> alias, or an alias or entry is empty.</exception>
    public static void SetConfig(IEnumerable<KeyValuePair<string, CacheConfig>> config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var copy = new Dictionary<string, CacheConfig>(StringComparer.Ordinal);
        foreach (var (alias, entry) in config)
        {
            CheckAlias(alias, nameof(config));
            if (entry is null)
            {
                throw new ArgumentException($"The configuration of alias '{alias}' is null.", nameof(config));
            }

            copy[alias] = entry.Clone();
        }

        if (!copy.ContainsKey(DefaultAlias))
        {
            throw new ArgumentException($"The configuration must have a '{DefaultAlias}' alias.", nameof(config));
        }

        lock (s_gate)
        {
            s_config = copy;
            foreach (var alias in copy.Keys)
            {
                s_instances.TryRemove(alias, out _);
            }

            s_configured = true;
            Interlocked.Increment(ref s_version);
        }
    }

    /// <summary>
    /// Replaces the whole configuration with the named caches of a configuration section, the same shape as
    /// pycached's dictionary (<c>builder.Configuration.GetSection("Cached")</c> over <c>appsettings.json</c>):
    /// <code>
    /// "Cached": {
    ///   "default":   { "Cache": "Cached.SimpleMemoryCache", "Serializer": { "Class": "Cached.Serializers.StringSerializer" } },
    ///   "redis_alt": { "Cache": "Cached.Redis.RedisCache", "Endpoint": "127.0.0.1", "Port": 6379, "Timeout": 1,
    ///                  "Serializer": { "Class": "Cached.Serializers.JsonSerializer" },
    ///                  "Plugins": [ { "Class": "Cached.Plugins.HitMissRatioPlugin" }, { "Class": "Cached.Plugins.TimingPlugin" } ] }
    /// }
    /// </code>
    /// Every entry is checked now (types exist, settings name properties and convert), so a bad one fails at start-up
    /// rather than on first use. Later changes to the configuration are not followed: call this again to apply them.
    /// </summary>
    /// <exception cref="CacheConfigurationException">An entry is malformed; <see cref="CacheConfigurationException.Path"/> is its configuration path (<c>Cached:redis_alt:Port</c>).</exception>
    /// <exception cref="ArgumentException">There is no <c>"default"</c> alias.</exception>
    [RequiresUnreferencedCode(ReflectionWarning)]
    public static void SetConfig(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        SetConfig(ReadValidated(configuration));
    }

    /// <summary>Reads and checks a configuration section, for <see cref="SetConfig(IConfiguration)"/> and dependency injection.</summary>
    [RequiresUnreferencedCode(ReflectionWarning)]
    internal static Dictionary<string, CacheConfig> ReadValidated(IConfiguration configuration)
    {
        var config = CacheConfigReader.Read(configuration);
        foreach (var (alias, entry) in config)
        {
            ComponentFactory.Validate(entry, alias);
        }

        return config;
    }

    /// <summary>
    /// Registers a ready instance under <paramref name="alias"/>: <see cref="Get"/> returns it, and generated methods
    /// with that alias (or the <c>"default"</c> one) use it. Its configuration records only its type, so
    /// <see cref="Create"/> builds a new instance of the same type.
    /// </summary>
    public static void AddInstance(string alias, ICache cache)
    {
        CheckAlias(alias, nameof(alias));
        ArgumentNullException.ThrowIfNull(cache);
        (cache as IAliasedCache)?.AssignAlias(alias);
        lock (s_gate)
        {
            s_config = new Dictionary<string, CacheConfig>(s_config, StringComparer.Ordinal) { [alias] = new CacheConfig { Cache = cache.GetType().FullName } };
            s_instances[alias] = cache;
            s_configured |= alias == DefaultAlias;
            Interlocked.Increment(ref s_version);
        }
    }

    /// <summary>
    /// Adds or replaces one alias. As in pycached, an instance already created for it keeps being returned by
    /// <see cref="Get"/>; <see cref="Create"/> uses the new configuration.
    /// </summary>
    public static void Add(string alias, CacheConfig config)
    {
        CheckAlias(alias, nameof(alias));
        ArgumentNullException.ThrowIfNull(config);
        lock (s_gate)
        {
            s_config = new Dictionary<string, CacheConfig>(s_config, StringComparer.Ordinal) { [alias] = config.Clone() };
            s_configured |= alias == DefaultAlias;
            Interlocked.Increment(ref s_version);
        }
    }

    /// <summary>The instance of <paramref name="alias"/>, created on first use; the same instance on every call.</summary>
    /// <exception cref="UnknownCacheAliasException">No configuration has that alias.</exception>
    /// <exception cref="CacheConfigurationException">The alias's configuration cannot be turned into a cache; the exception names the entry.</exception>
    [RequiresUnreferencedCode(ReflectionWarning)]
    public static ICache Get(string alias = DefaultAlias)
    {
        CheckAlias(alias, nameof(alias));
        if (s_instances.TryGetValue(alias, out var cache))
        {
            return cache;
        }

        lock (s_gate)
        {
            if (!s_instances.TryGetValue(alias, out cache))
            {
                cache = ComponentFactory.CreateCache(ConfigOf(alias), alias);
                (cache as IAliasedCache)?.AssignAlias(alias);
                s_instances[alias] = cache;
            }

            return cache;
        }
    }

    /// <summary>
    /// A new instance of <paramref name="alias"/> on every call; <paramref name="overrides"/> replace or add settings
    /// for this instance only (pycached's <c>caches.create(alias, namespace=...)</c>).
    /// </summary>
    /// <exception cref="UnknownCacheAliasException">No configuration has that alias.</exception>
    [RequiresUnreferencedCode(ReflectionWarning)]
    public static ICache Create(string alias = DefaultAlias, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        CheckAlias(alias, nameof(alias));
        CacheConfig config;
        lock (s_gate)
        {
            config = ConfigOf(alias).Clone();
        }

        if (overrides is not null)
        {
            foreach (var (setting, value) in overrides)
            {
                config[setting] = value;
            }
        }

        var created = ComponentFactory.CreateCache(config, alias);
        (created as IAliasedCache)?.AssignAlias(alias);
        return created;
    }

    /// <summary>A copy of the whole configuration, by alias.</summary>
    public static IReadOnlyDictionary<string, CacheConfig> GetConfig()
    {
        lock (s_gate)
        {
            return s_config.ToDictionary(static pair => pair.Key, static pair => pair.Value.Clone(), StringComparer.Ordinal);
        }
    }

    /// <summary>A copy of one alias's configuration.</summary>
    /// <exception cref="UnknownCacheAliasException">No configuration has that alias.</exception>
    public static CacheConfig GetAliasConfig(string alias)
    {
        CheckAlias(alias, nameof(alias));
        lock (s_gate)
        {
            return ConfigOf(alias).Clone();
        }
    }

    /// <summary>
    /// Replaces the whole configuration with <paramref name="configs"/> and registers <paramref name="instances"/>, for
    /// dependency injection: unlike <see cref="SetConfig(IEnumerable{KeyValuePair{string, CacheConfig}})"/> the
    /// <c>"default"</c> alias may be missing here, because a factory the container runs later may provide it.
    /// </summary>
    internal static void Configure(IReadOnlyDictionary<string, CacheConfig> configs, IReadOnlyDictionary<string, ICache> instances)
    {
        var copy = configs.ToDictionary(static pair => pair.Key, static pair => pair.Value.Clone(), StringComparer.Ordinal);
        foreach (var (alias, cache) in instances)
        {
            copy[alias] = new CacheConfig { Cache = cache.GetType().FullName };
            (cache as IAliasedCache)?.AssignAlias(alias);
        }

        lock (s_gate)
        {
            s_config = copy;
            s_instances.Clear();
            foreach (var (alias, cache) in instances)
            {
                s_instances[alias] = cache;
            }

            s_configured = copy.ContainsKey(DefaultAlias);
            Interlocked.Increment(ref s_version);
        }
    }

    /// <summary>Forgets the instance of <paramref name="alias"/> if it is still <paramref name="cache"/>; the next <see cref="Get"/> creates a new one.</summary>
    internal static bool RemoveInstance(string alias, ICache cache)
    {
        lock (s_gate)
        {
            if (!s_instances.TryRemove(new KeyValuePair<string, ICache>(alias, cache)))
            {
                return false;
            }

            Interlocked.Increment(ref s_version);
            return true;
        }
    }

    /// <summary>pycached's default for the <c>"default"</c> alias: a <see cref="SimpleMemoryCache"/> with a <see cref="Serializers.StringSerializer"/>.</summary>
    internal static CacheConfig DefaultAliasConfig() => DefaultConfig()[DefaultAlias];

    /// <summary>The instance of <paramref name="alias"/> if one exists already (registered or created), without creating one.</summary>
    internal static ICache? TryGetInstance(string alias) => s_instances.GetValueOrDefault(alias);

    /// <summary>Back to the default configuration with no instances, for tests. Instances are not disposed: callers may still hold them.</summary>
    internal static void Reset()
    {
        lock (s_gate)
        {
            s_config = DefaultConfig();
            s_instances.Clear();
            s_configured = false;
            Interlocked.Increment(ref s_version);
        }
    }

    private static CacheConfig ConfigOf(string alias)
        => s_config.TryGetValue(alias, out var config) ? config : throw new UnknownCacheAliasException(alias);

    private static void CheckAlias(string alias, string paramName)
    {
        if (string.IsNullOrWhiteSpace(alias))
        {
            throw new ArgumentException("An alias cannot be null, empty or whitespace.", paramName);
        }
    }

    private static Dictionary<string, CacheConfig> DefaultConfig() => new(StringComparer.Ordinal)
    {
        [DefaultAlias] = new CacheConfig
        {
            Cache = typeof(SimpleMemoryCache).FullName,
            Serializer = new ClassConfig(typeof(Serializers.StringSerializer).FullName!),
        },
    };
}
