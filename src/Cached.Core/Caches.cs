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
/// <para>Until <c>SetConfig</c> is called, the configuration has one <c>"default"</c> alias, a
/// <see cref="SimpleMemoryCache"/> that keeps references (so any type caches in it), and <see cref="Get"/> returns the
/// one shared instance that generated methods use until the default alias is configured. Thread-safe.</para>
/// <para>An instance that <see cref="Get"/> made and a later change replaces (<c>SetConfig</c>,
/// <see cref="AddInstance"/>) is disposed by <c>Caches</c>, but not at once: it keeps serving whoever still holds it
/// for <see cref="ReplacedInstanceGrace"/>, and is disposed at the first moment after that when no command is running
/// on it. Hold the result of <see cref="Get"/> for a call, not for the life of a service. Instances you pass to
/// <see cref="AddInstance"/>, and those of <see cref="Create"/>, are yours: <c>Caches</c> never disposes them.</para>
/// </remarks>
public static partial class Caches
{
    /// <summary>The alias every configuration must have.</summary>
    public const string DefaultAlias = "default";

    private const string ReflectionWarning = "A cache built from configuration is created by reflection from type names; trimmed and NativeAOT applications register instances with Caches.AddInstance.";

    private static readonly object s_gate = new();
    private static readonly ConcurrentDictionary<string, ICache> s_instances = new(StringComparer.Ordinal);

    // Under s_gate. The instances Get made that nobody else took over (only these are disposed when replaced), with
    // the configuration they were made under (s_configuration when they were made).
    private static readonly Dictionary<ICache, int> s_made = new(ReferenceEqualityComparer.Instance);

    // Under s_gate. Replaced instances waiting for their disposal; the entry also keeps their grace timer alive.
    private static readonly Dictionary<ICache, RetiredCache> s_retiring = new(ReferenceEqualityComparer.Instance);
    private static readonly Action<RetiredCache> s_forget = static retired =>
    {
        lock (s_gate)
        {
            s_retiring.Remove(retired.Cache);
        }
    };

    private static Dictionary<string, CacheConfig> s_config = DefaultConfig();
    private static readonly Dictionary<string, CacheConfig> s_recordedTypes = new(StringComparer.Ordinal); // what AddInstance recorded, per alias
    private static volatile bool s_configured;
    private static int s_version;
    private static int s_configuration; // moves with every whole configuration: SetConfig, Configure, Reset

    /// <summary>
    /// True once the application has set the <c>"default"</c> alias (<c>SetConfig</c>, or <see cref="Add"/> /
    /// <see cref="AddInstance"/> with that alias). Before, the alias is one shared <see cref="SimpleMemoryCache"/>,
    /// which both <see cref="Get"/> and generated methods with no cache option use.
    /// </summary>
    public static bool IsDefaultConfigured => s_configured;

    /// <summary>Changes whenever the configuration or an instance changes, so holders of a resolved cache know to resolve again.</summary>
    internal static int Version => Volatile.Read(ref s_version);

    /// <summary>
    /// How long an instance that <see cref="Get"/> made keeps serving after a change replaced it (10 seconds): long
    /// enough for a caller that fetched it just before the change to use it. It is disposed at the first moment after
    /// that when no command is running on it.
    /// </summary>
    public static TimeSpan ReplacedInstanceGrace { get; } = TimeSpan.FromSeconds(10);

    /// <summary>The clock of <see cref="ReplacedInstanceGrace"/>; tests move a fake one.</summary>
    internal static TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Replaces the whole configuration. It must have a <c>"default"</c> alias. Instances already created for the
    /// aliases it names are dropped, so the next <see cref="Get"/> builds them anew; others are kept. A dropped
    /// instance that <see cref="Get"/> made is disposed after <see cref="ReplacedInstanceGrace"/>, once no command is
    /// running on it; one you passed to <see cref="AddInstance"/> is left to you.
    /// </summary>
    /// <exception cref="ArgumentException">There is no <c>"default"</c> alias, or an alias or entry is empty.</exception>
    /// <remarks>The caches are made by reflection from the type names given, as from <c>appsettings.json</c>: a trimmed or NativeAOT application is warned here, and registers instances with <see cref="AddInstance"/> instead.</remarks>
    [RequiresUnreferencedCode(ReflectionWarning)]
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
                if (s_instances.TryRemove(alias, out var replaced))
                {
                    Retire(alias, replaced);
                }
            }

            s_configured = true;
            s_configuration++;
            Interlocked.Increment(ref s_version);
        }

        WarnOfMissingAliases();
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
    /// <see cref="Create"/> builds a new instance of the same type. The instance stays yours: <c>Caches</c> never
    /// disposes it. One that <see cref="Get"/> had made for the alias is disposed after
    /// <see cref="ReplacedInstanceGrace"/>, once no command is running on it.
    /// </summary>
    public static void AddInstance(string alias, ICache cache)
    {
        CheckAlias(alias, nameof(alias));
        ArgumentNullException.ThrowIfNull(cache);
        (cache as IAliasedCache)?.AssignAlias(alias);
        lock (s_gate)
        {
            var recorded = new CacheConfig { Cache = cache.GetType().FullName };
            s_config = new Dictionary<string, CacheConfig>(s_config, StringComparer.Ordinal) { [alias] = recorded };
            s_recordedTypes[alias] = recorded;
            // Passed in, it is the caller's, even if Get made it (and even if a change had just replaced it).
            s_made.Remove(cache);
            Keep(cache);
            if (s_instances.TryGetValue(alias, out var replaced) && !ReferenceEquals(replaced, cache))
            {
                Retire(alias, replaced);
            }

            s_instances[alias] = cache;
            s_configured |= alias == DefaultAlias;
            Interlocked.Increment(ref s_version);
        }
    }

    /// <summary>
    /// Adds or replaces one alias. As in pycached, an instance already created for it keeps being returned by
    /// <see cref="Get"/>; <see cref="Create"/> uses the new configuration.
    /// </summary>
    /// <remarks>The cache is made by reflection from the type names given: a trimmed or NativeAOT application is warned here, and registers an instance with <see cref="AddInstance"/> instead.</remarks>
    [RequiresUnreferencedCode(ReflectionWarning)]
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

        if (!s_configured && alias == DefaultAlias)
        {
            // Before the default alias is configured, it is the one instance generated methods use too.
            return Runtime.FallbackCache.Shared;
        }

        lock (s_gate)
        {
            if (!s_instances.TryGetValue(alias, out cache))
            {
                cache = ComponentFactory.CreateCache(ConfigOf(alias), alias);
                (cache as IAliasedCache)?.AssignAlias(alias);
                // Counted from its first command, so that once replaced it is disposed only between commands.
                (cache as IRetirableCache)?.CountCommands();
                s_made.Add(cache, s_configuration);
                s_instances[alias] = cache;
            }

            return cache;
        }
    }

    /// <summary>
    /// A new instance of <paramref name="alias"/> on every call; <paramref name="overrides"/> replace or add settings
    /// for this instance only (pycached's <c>caches.create(alias, namespace=...)</c>). <c>Cache</c> and <c>Serializer</c>
    /// take a class name, as in <c>appsettings.json</c>; a null <c>Serializer</c> means the cache type's default.
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
                // The cache type and its serializer by class name, as appsettings.json names them ("Serializer":
                // "Cached.Serializers.JsonSerializer"); every other entry is a setting of the cache.
                if (string.Equals(setting, "Cache", StringComparison.OrdinalIgnoreCase))
                {
                    config.Cache = value;
                }
                else if (string.Equals(setting, "Serializer", StringComparison.OrdinalIgnoreCase))
                {
                    config.Serializer = value is null ? null : new ClassConfig(value);
                }
                else
                {
                    config.Override(setting, value);
                }
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

    /// <summary>Completes once <paramref name="cache"/>, replaced, has been disposed; at once if it is not waiting for that.</summary>
    internal static Task WhenDisposed(ICache cache)
    {
        lock (s_gate)
        {
            return s_retiring.TryGetValue(cache, out var retired) ? retired.Disposed : Task.CompletedTask;
        }
    }

    /// <summary>
    /// The <c>"default"</c> alias's configuration before any is set: a <see cref="SimpleMemoryCache"/> with its own
    /// default serializer, which keeps references (pycached's default alias adds a string serializer; see <c>DefaultConfig</c>).
    /// </summary>
    internal static CacheConfig DefaultAliasConfig() => DefaultConfig()[DefaultAlias];

    /// <summary>The instance of <paramref name="alias"/> if one exists already (registered or created), without creating one.</summary>
    internal static ICache? TryGetInstance(string alias) => s_instances.GetValueOrDefault(alias);

    /// <summary>
    /// Back to the default configuration with no instances and the system clock, for tests. Instances are not
    /// disposed: tests may still hold them. Replaced instances keep their grace period, on the clock it started on.
    /// </summary>
    internal static void Reset()
    {
        lock (s_gate)
        {
            s_config = DefaultConfig();
            s_recordedTypes.Clear();
            s_instances.Clear();
            s_made.Clear();
            Runtime.UnconfiguredCache.Forget();
            TimeProvider = TimeProvider.System;
            s_configured = false;
            s_configuration++;
            Interlocked.Increment(ref s_version);
        }
    }

    /// <summary>
    /// Takes <paramref name="cache"/> out of its grace period if a change had replaced it: it is given back as an
    /// instance of the caller's, which <c>Caches</c> never disposes. Under <c>s_gate</c>.
    /// </summary>
    private static void Keep(ICache cache)
    {
        if (s_retiring.TryGetValue(cache, out var retired) && retired.TryKeep())
        {
            s_retiring.Remove(cache);
        }
    }

    /// <summary>
    /// Starts the grace period of <paramref name="replaced"/>, just dropped from <paramref name="alias"/>, if
    /// <see cref="Get"/> made it and nobody took it over; instances that are someone else's are left alone. Under s_gate.
    /// </summary>
    private static void Retire(string alias, ICache replaced)
    {
        if (!s_made.Remove(replaced))
        {
            return;
        }

        var running = (replaced as IRetirableCache)?.CountCommands();
        s_retiring[replaced] = new RetiredCache(replaced, alias, running, TimeProvider, ReplacedInstanceGrace, s_forget);
    }

    private static CacheConfig ConfigOf(string alias)
        => s_config.TryGetValue(alias, out var config) ? config : throw new UnknownCacheAliasException(alias, ConfiguredAliases());

    private static void CheckAlias(string alias, string paramName)
    {
        if (string.IsNullOrWhiteSpace(alias))
        {
            throw new ArgumentException("An alias cannot be null, empty or whitespace.", paramName);
        }
    }

    private static Dictionary<string, CacheConfig> DefaultConfig() => new(StringComparer.Ordinal)
    {
        // Its own default serializer keeps references, so a generated method of any result type caches in it; pycached's
        // default alias stores str(value), which would refuse records and collections (docs/migration.md).
        [DefaultAlias] = new CacheConfig { Cache = typeof(SimpleMemoryCache).FullName },
    };
}
