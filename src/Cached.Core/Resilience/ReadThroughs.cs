using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Cached.Pipeline;
using Cached.Runtime;

namespace Cached.Resilience;

/// <summary>
/// What one cache keeps for read-through calls: the <see cref="CachedMethod{TResult}"/> core behind <c>GetOrSet</c>,
/// one per result type and namespace (so its single-flight board and its serializer check are shared by every call of
/// that shape), the cache's <see cref="BackgroundWork"/> and the clock stamps are read on.
/// </summary>
internal sealed class ReadThroughs
{
    private static readonly ConditionalWeakTable<ICache, ReadThroughs> s_others = new();

    private readonly ICache _cache;
    private readonly ConcurrentDictionary<(Type Type, string? Namespace), object> _cores = new();
    private object? _last;

    public ReadThroughs(ICache cache, TimeProvider clock)
    {
        _cache = cache;
        Clock = clock;
    }

    public BackgroundWork Background { get; } = new();

    /// <summary>The cache's clock: stamps, timeouts and fail-safe throttles run on it.</summary>
    public TimeProvider Clock { get; }

    /// <summary>The read-through state of <paramref name="cache"/>: its own when it keeps one, else one kept beside it.</summary>
    public static ReadThroughs Of(ICache cache)
        => cache is IReadThroughHost host ? host.ReadThroughs : s_others.GetValue(cache, static c => new ReadThroughs(c, TimeProvider.System));

    /// <summary>The core of <c>GetOrSet&lt;<typeparamref name="T"/>&gt;</c> in <paramref name="namespace"/>.</summary>
    public CachedMethod<T> For<T>(string? @namespace)
    {
        // A namespace that resolves as the cache's own (its name, or "" on a cache without one) is no namespace given:
        // the same entries, so the same core and the same flight for a key, not a second factory call beside it.
        if (@namespace is not null && NamespacedKey.Resolve(@namespace, _cache.Namespace) == NamespacedKey.Resolve(null, _cache.Namespace))
        {
            @namespace = null;
        }

        if (Volatile.Read(ref _last) is CachedMethod<T> last && string.Equals(last.Namespace, @namespace, StringComparison.Ordinal))
        {
            return last;
        }

        var core = (CachedMethod<T>)_cores.GetOrAdd((typeof(T), @namespace), static (shape, cache) => new CachedMethod<T>(new CachedMethodOptions
        {
            Method = "GetOrSet<" + TypeName<T>.Value + ">",
            Namespace = shape.Namespace,
            CacheFactory = () => cache,
            CacheName = cache.GetType().Name,
        }), _cache);
        Volatile.Write(ref _last, core);
        return core;
    }
}

/// <summary>A cache that keeps its own <see cref="ReadThroughs"/> (and stops its background work when disposed).</summary>
internal interface IReadThroughHost
{
    ReadThroughs ReadThroughs { get; }
}
