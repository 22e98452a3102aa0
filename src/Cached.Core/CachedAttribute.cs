namespace Cached;

/// <summary>
/// Caches the result of a partial method. The Cached source generator writes the method's body: build the key, read
/// the cache, on a miss call the implementation (<c>&lt;Name&gt;Core</c> with the same signature, or
/// <see cref="Implementation"/>), store its result, return it. Sync, <c>Task&lt;T&gt;</c> and <c>ValueTask&lt;T&gt;</c>
/// methods are supported; misuse is a compile-time diagnostic (<c>CACHED001</c>...).
/// </summary>
/// <remarks>
/// Concurrent misses on one key in one process make one call of the implementation (single-flight). A null result
/// is cached like any other. The implementation's exception propagates and nothing is stored. A cache fault never
/// fails the call: it is logged and the implementation's result is returned.
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class CachedAttribute : Attribute
{
    /// <summary>
    /// Time to live in seconds, as a <see cref="double"/> (<c>Ttl = 0.5</c> is half a second); 0 (the default) means the
    /// cache's own default, or no expiry. Caches and <see cref="CacheEntryOptions"/> take a <see cref="TimeSpan"/> instead.
    /// </summary>
    public double Ttl { get; set; }

    /// <summary>
    /// A fixed key, or a template naming parameters (<c>"user:{id}"</c>, <c>"order:{id:D6}"</c>), checked at compile
    /// time and formatted with the invariant culture. Unset: the type's full name, the method name and the arguments.
    /// </summary>
    public string? Key { get; set; }

    /// <summary>The name of a method of the containing type that builds the key: <c>string Name(&lt;the method's parameters&gt;)</c>, without its <see cref="CancellationToken"/>.</summary>
    public string? KeyBuilder { get; set; }

    /// <summary>The namespace the entries live in; <c>""</c> for none, even where the cache has a namespace of its own.</summary>
    public string? Namespace { get; set; }

    /// <summary>
    /// A cache configured with <see cref="Caches"/> (or <c>AddCached</c>); its shared instance is used. An alias no
    /// configuration has stops a host built with <c>AddCached</c> from starting; called anyway, the method runs
    /// uncached and the missing alias is logged once.
    /// </summary>
    public string? Alias { get; set; }

    /// <summary>
    /// A cache type with a public parameterless constructor; one instance is created for this method, with the type's
    /// defaults and nothing else (a <c>RedisCache</c>: 127.0.0.1:6379, database 0), plus <see cref="Serializer"/> and
    /// <see cref="Plugins"/>. To reach another server, or to share the cache with other methods, name an
    /// <see cref="Alias"/> instead and give it its settings (<c>appsettings.json</c> with <c>AddCached</c>,
    /// <c>AddCache(alias, instance)</c>, or <c>Caches.AddInstance</c>).
    /// </summary>
    public Type? Cache { get; set; }

    /// <summary>A serializer type for this method's cache (with a public parameterless constructor).</summary>
    public Type? Serializer { get; set; }

    /// <summary>Plugin types for this method's cache (each with a public parameterless constructor).</summary>
    public Type[]? Plugins { get; set; }

    /// <summary>The name of a method <c>bool Name(TResult result)</c>: when it returns true, the result is returned but not stored.</summary>
    public string? SkipCacheWhen { get; set; }

    /// <summary>
    /// Seconds of a stampede lease: on a miss, a lock taken through the backend makes concurrent callers in different
    /// processes wait for one call of the implementation (aiocache's <c>cached_stampede</c>). 0 (the default): no lease.
    /// </summary>
    public double Lease { get; set; }

    /// <summary>
    /// Seconds the last value is kept after <see cref="Ttl"/> for when the implementation fails: the call then returns
    /// it instead of throwing, and it is fresh again for <see cref="FailSafeThrottle"/>. 0 (the default): none.
    /// See <see cref="CacheEntryOptions.FailSafe"/>.
    /// </summary>
    public double FailSafe { get; set; }

    /// <summary>Seconds a last value served by <see cref="FailSafe"/> is fresh again; 0 (the default): 30 seconds.</summary>
    public double FailSafeThrottle { get; set; }

    /// <summary>
    /// Seconds after which a caller with a last value at hand (see <see cref="FailSafe"/>) gets it while the
    /// implementation finishes in the background. 0 (the default): none. See <see cref="CacheEntryOptions.SoftTimeout"/>.
    /// </summary>
    public double SoftTimeout { get; set; }

    /// <summary>
    /// Seconds no caller waits for the implementation: the last value if there is one, else a
    /// <see cref="TimeoutException"/>; the late result is still stored. 0 (the default): none.
    /// </summary>
    public double HardTimeout { get; set; }

    /// <summary>
    /// A fraction of <see cref="Ttl"/> strictly between 0 and 1: a hit later than this refreshes the entry in the
    /// background and returns at once. 0 (the default): none. See <see cref="CacheEntryOptions.EagerRefresh"/>.
    /// </summary>
    public double EagerRefresh { get; set; }

    /// <summary>
    /// Tags every entry of this method: fixed tags or templates naming parameters (<c>"user:{id}"</c>, <c>"users"</c>),
    /// checked at compile time and formatted as <see cref="Key"/> is. <see cref="ICache.InvalidateTags"/> or
    /// <see cref="InvalidateTagsAttribute"/> with one of them makes every entry that carries it a miss. See docs/tags.md.
    /// </summary>
    public string[]? Tags { get; set; }

    /// <summary>Puts the instance (its <see cref="object.ToString"/>) in the default key; false by default, like pycached's <c>noself=True</c>.</summary>
    public bool IncludeInstance { get; set; }

    /// <summary>The name of the method that runs on a miss; <c>&lt;Name&gt;Core</c> when unset.</summary>
    public string? Implementation { get; set; }
}
