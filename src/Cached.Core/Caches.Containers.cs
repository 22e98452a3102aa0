using System.Diagnostics.CodeAnalysis;
using Cached.Capabilities;

namespace Cached;

/// <summary>The container's side of <see cref="Caches"/>: what <c>AddCached</c> registers, takes over and forgets.</summary>
public static partial class Caches
{
    /// <summary>
    /// Replaces the whole configuration with <paramref name="configs"/> and registers <paramref name="instances"/>, for
    /// dependency injection: unlike <see cref="SetConfig(IEnumerable{KeyValuePair{string, CacheConfig}})"/> the
    /// <c>"default"</c> alias may be missing here, because a factory the container runs later may provide it. As
    /// <c>SetConfig</c> does, it replaces the instances of the aliases it sets and keeps the others (one given to
    /// <see cref="AddInstance"/>, one another container made). Returns the configuration's number, for
    /// <see cref="RemoveMadeInstance"/>.
    /// </summary>
    /// <param name="configs">The aliases given as configuration.</param>
    /// <param name="instances">The aliases given as instances, the caller's.</param>
    /// <param name="factoryAliases">The aliases a factory of the container will make: their old instances are replaced
    /// now too, so that <see cref="Get"/> and generated methods agree until the factory has run.</param>
    internal static int Configure(IReadOnlyDictionary<string, CacheConfig> configs, IReadOnlyDictionary<string, ICache> instances, IEnumerable<string> factoryAliases)
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
            foreach (var alias in copy.Keys.Concat(factoryAliases))
            {
                if (s_instances.TryRemove(alias, out var replaced))
                {
                    Retire(alias, replaced);
                }
            }

            foreach (var (alias, cache) in instances)
            {
                s_made.Remove(cache);
                Keep(cache);
                s_instances[alias] = cache;
            }

            s_configured = copy.ContainsKey(DefaultAlias);
            Interlocked.Increment(ref s_version);
            return ++s_configuration;
        }
    }

    /// <summary>
    /// Registers a cache a container's factory made, as <see cref="AddInstance"/> does, if the container's
    /// <paramref name="configuration"/> is still the current one; false, registering nothing, once a later
    /// <c>AddCached</c> or <c>SetConfig</c> has replaced it (the later configuration stands: the cache serves its
    /// container alone).
    /// </summary>
    internal static bool AddInstanceIfCurrent(string alias, ICache cache, int configuration)
    {
        lock (s_gate)
        {
            if (s_configuration != configuration)
            {
                return false;
            }

            AddInstance(alias, cache);
            return true;
        }
    }

    /// <summary>
    /// Forgets the instance of <paramref name="alias"/> if it is still <paramref name="cache"/>; the next
    /// <see cref="Get"/> creates a new one from the alias's configuration. The caller disposes it. An instance that
    /// <see cref="AddInstance"/> registered takes its alias with it while the alias's configuration is still the type
    /// name recorded then: a new instance of that type alone would lack every setting the instance had (a
    /// <c>RedisCache</c> would point at <c>localhost:6379</c>), so the alias is unknown again (the default alias is
    /// the unconfigured default again).
    /// </summary>
    internal static bool RemoveInstance(string alias, ICache cache)
    {
        lock (s_gate)
        {
            if (!s_instances.TryRemove(new KeyValuePair<string, ICache>(alias, cache)))
            {
                return false;
            }

            s_made.Remove(cache);
            if (s_recordedTypes.Remove(alias, out var recorded) && s_config.TryGetValue(alias, out var current) && ReferenceEquals(current, recorded))
            {
                var config = new Dictionary<string, CacheConfig>(s_config, StringComparer.Ordinal);
                if (alias == DefaultAlias)
                {
                    config[alias] = DefaultAliasConfig();
                    s_configured = false;
                }
                else
                {
                    config.Remove(alias);
                }

                s_config = config;
            }

            Interlocked.Increment(ref s_version);
            return true;
        }
    }

    /// <summary>
    /// The instance of <paramref name="alias"/> (made by <see cref="Get"/> if there is none), taken over by the
    /// caller if <see cref="Get"/> made it (<paramref name="takenOver"/>): when a change replaces it, <c>Caches</c>
    /// then drops it without disposing it, and the caller disposes it. A container takes over the instances it hands
    /// out, for they live as long as it does.
    /// </summary>
    /// <remarks>
    /// Only an instance made under the caller's own <paramref name="configuration"/> is taken over: one made for another
    /// container's configuration stays <c>Caches</c>'s (and that container's to take over), so that disposing the first
    /// container does not take it away from the one whose configuration made it.
    /// </remarks>
    [RequiresUnreferencedCode(ReflectionWarning)]
    internal static ICache TakeOver(string alias, int configuration, out bool takenOver)
    {
        lock (s_gate)
        {
            var cache = Get(alias);
            takenOver = s_made.TryGetValue(cache, out var madeUnder) && madeUnder == configuration && s_made.Remove(cache);
            return cache;
        }
    }

    /// <summary>
    /// Removes the instance of <paramref name="alias"/> if <see cref="Get"/> made it under
    /// <paramref name="configuration"/> (a number <see cref="Configure"/> returned) and nobody took it over, and returns
    /// it for the caller to dispose; otherwise leaves it and returns <c>null</c>.
    /// </summary>
    internal static ICache? RemoveMadeInstance(string alias, int configuration)
    {
        lock (s_gate)
        {
            if (!s_instances.TryGetValue(alias, out var cache)
                || !s_made.TryGetValue(cache, out var madeUnder)
                || madeUnder != configuration)
            {
                return null;
            }

            s_made.Remove(cache);
            s_instances.TryRemove(alias, out _);
            Interlocked.Increment(ref s_version);
            return cache;
        }
    }
}
