namespace Cached;

/// <summary>
/// Caches a method that returns a dictionary for a collection of keys, entry by entry (aiocache's
/// <c>multi_cached</c>): one <c>MultiGet</c>, the implementation called only with the missing keys (in a collection of
/// the parameter's declared type) and not at all when every key hits, its results stored with one <c>MultiSet</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class MultiCachedAttribute : Attribute
{
    /// <summary>The parameter that holds the keys: any <c>IEnumerable&lt;TKey&gt;</c> type.</summary>
    public string? KeysFrom { get; set; }

    /// <summary>
    /// Time to live in seconds, as a <see cref="double"/> (<c>Ttl = 0.5</c> is half a second); 0 (the default) means the
    /// cache's own default, or no expiry. Caches and <see cref="CacheEntryOptions"/> take a <see cref="TimeSpan"/> instead.
    /// </summary>
    public double Ttl { get; set; }

    /// <summary>The name of a method <c>string Name(TKey key)</c> that turns a key into a cache key; the key's invariant text when unset.</summary>
    public string? KeyBuilder { get; set; }

    /// <summary>The namespace the entries live in; <c>""</c> for none, even where the cache has a namespace of its own.</summary>
    public string? Namespace { get; set; }

    /// <summary>A cache configured with <see cref="Caches"/>; its shared instance is used.</summary>
    public string? Alias { get; set; }

    /// <summary>A cache type with a public parameterless constructor; one instance is created for this method.</summary>
    public Type? Cache { get; set; }

    /// <summary>A serializer type for this method's cache.</summary>
    public Type? Serializer { get; set; }

    /// <summary>Plugin types for this method's cache.</summary>
    public Type[]? Plugins { get; set; }

    /// <summary>The name of a method <c>bool Name(TValue value)</c> or <c>bool Name(TKey key, TValue value)</c>: true means do not store that entry.</summary>
    public string? SkipCacheWhen { get; set; }

    /// <summary>
    /// Seconds each entry is kept after <see cref="Ttl"/> for when the implementation fails: when it throws for keys
    /// that all have a last value, the call returns those values instead of throwing, each fresh again for
    /// <see cref="FailSafeThrottle"/>. 0 (the default): none. See <see cref="CacheEntryOptions.FailSafe"/>.
    /// </summary>
    public double FailSafe { get; set; }

    /// <summary>Seconds a last value served by <see cref="FailSafe"/> is fresh again; 0 (the default): 30 seconds.</summary>
    public double FailSafeThrottle { get; set; }

    /// <summary>
    /// Tags every entry this method stores: fixed tags or templates naming parameters, checked at compile time. A
    /// template that names the <see cref="KeysFrom"/> parameter (<c>"user:{ids}"</c>) takes each entry's own key, so
    /// every entry gets its own tag. See <see cref="CachedAttribute.Tags"/> and docs/tags.md.
    /// </summary>
    public string[]? Tags { get; set; }

    /// <summary>The name of the method that runs for the missing keys; <c>&lt;Name&gt;Core</c> when unset.</summary>
    public string? Implementation { get; set; }
}
