using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using Cached.Runtime;

namespace Cached.Runtime;

/// <summary>How one generated cached method uses its cache; written by the source generator from the attribute.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class CachedMethodOptions
{
    /// <summary>The method's full name, for logs.</summary>
    public required string Method { get; init; }

    /// <summary>Time to live in seconds; 0 for the cache's default.</summary>
    public double Ttl { get; init; }

    /// <summary>The namespace the entries live in; <c>null</c> for the cache's own.</summary>
    public string? Namespace { get; init; }

    /// <summary>A configured alias whose shared instance is the cache.</summary>
    public string? Alias { get; init; }

    /// <summary>Creates this method's own cache (from the attribute's <c>Cache</c>, <c>Serializer</c> and <c>Plugins</c>).</summary>
    public Func<ICache>? CacheFactory { get; init; }

    /// <summary>Seconds of the stampede lease; 0 for none.</summary>
    public double Lease { get; init; }

    internal TimeSpan? TtlSpan => Ttl > 0 ? TimeSpan.FromSeconds(Ttl) : null;

    internal TimeSpan? LeaseSpan => Lease > 0 ? TimeSpan.FromSeconds(Lease) : null;

    /// <summary>The cache a method with these options uses: its alias, its own cache, else the default one.</summary>
    internal ICache ResolveCache()
    {
        if (CacheFactory is not null && Alias is null)
        {
            return CacheFactory();
        }

        if (Alias is null && !Caches.IsDefaultConfigured)
        {
            return DefaultCache.Shared;
        }

        var alias = Alias ?? Caches.DefaultAlias;
        return Caches.TryGetInstance(alias) ?? FromConfiguration(alias);
    }

    /// <summary>How logs name <paramref name="cache"/>: its alias, else the method's alias, else what it is.</summary>
    internal string DescribeCache(ICache cache)
        => (cache as BaseCache)?.Alias ?? Alias ?? (CacheFactory is not null ? "(the method's own)" : Caches.DefaultAlias);

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Only aliases the application configured by type name reach this; trimmed and NativeAOT applications register instances with Caches.AddInstance, which the line above serves without reflection.")]
    private static ICache FromConfiguration(string alias) => Caches.Get(alias);
}

/// <summary>The one shared <see cref="SimpleMemoryCache"/> that generated methods use when nothing else is configured.</summary>
internal static class DefaultCache
{
    public static SimpleMemoryCache Shared { get; } = new();
}

/// <summary>
/// The cache a generated method resolved, kept until <see cref="Caches"/> changes: one volatile read on the hot path,
/// and a method follows <c>Caches.SetConfig</c>/<c>AddInstance</c> made after its first call.
/// </summary>
internal struct ResolvedCache
{
    private CacheResolution? _resolution;

    /// <summary>The last resolution, possibly stale (compare its <see cref="CacheResolution.Version"/>), or <c>null</c>.</summary>
    public CacheResolution? Last => Volatile.Read(ref _resolution);

    public ICache Get(CachedMethodOptions options)
    {
        var version = Caches.Version;
        var resolution = Volatile.Read(ref _resolution);
        if (resolution is null || resolution.Version != version)
        {
            resolution = new CacheResolution(options.ResolveCache(), version, options.Namespace);
            Volatile.Write(ref _resolution, resolution);
        }

        return resolution.Cache;
    }
}

/// <summary>
/// One resolution of a method's cache: the cache, the <see cref="Caches.Version"/> it is valid for and, when the cache
/// can read by span, what a hit needs to do so without asking the cache again.
/// </summary>
internal sealed class CacheResolution
{
    public CacheResolution(ICache cache, int version, string? @namespace)
    {
        Cache = cache;
        Version = version;
        string? resolved = null;
        try
        {
            SpanReader = (cache as BaseCache)?.SpanReader(@namespace, out resolved);
        }
        catch (Exception)
        {
            // The check reads the cache's settings (its default serializer may be created here). A cache whose
            // settings fault is read the ordinary way, which reports the fault and survives it.
            SpanReader = null;
            resolved = null;
        }

        SpanNamespace = resolved;
    }

    public ICache Cache { get; }

    public int Version { get; }

    /// <summary>The cache, when its settings allow reads by span key; <c>null</c> otherwise.</summary>
    public BaseCache? SpanReader { get; }

    /// <summary>The namespace span reads use: the method's, else the cache's own.</summary>
    public string? SpanNamespace { get; }
}
