namespace Cached.Runtime;

/// <summary>
/// The cache a generated method resolved, kept until <see cref="Caches"/> changes: one volatile read on the hot path,
/// and a method follows <c>Caches.SetConfig</c>/<c>AddInstance</c> made after its first call.
/// </summary>
internal struct CacheResolver
{
    private CacheResolution? _resolution;

    /// <summary>The last resolution, possibly stale (compare its <see cref="CacheResolution.Version"/>), or <c>null</c>.</summary>
    public CacheResolution? Last => Volatile.Read(ref _resolution);

    /// <summary>The method's cache: the last resolution while <see cref="Caches.Version"/> has not moved, else a new one.</summary>
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
