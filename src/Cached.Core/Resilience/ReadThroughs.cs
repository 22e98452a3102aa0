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
/// <remarks>
/// The cores of the cache's own namespace are kept for its life. Those of a namespace named in the call are held
/// weakly: a service that gives each tenant a namespace would otherwise keep a core (and its board of flights) for
/// every tenant it ever served. A core nobody can reach has no flight anyone could join, since the code that lands a
/// flight runs on its core, so one made anew for the next call of that namespace loses nothing.
/// </remarks>
internal sealed class ReadThroughs
{
    private const int FirstSweep = 64;

    private static readonly ConditionalWeakTable<ICache, ReadThroughs> s_others = new();

    private readonly ICache _cache;
    private readonly ConcurrentDictionary<Type, object> _cores = new();
    private readonly ConcurrentDictionary<(Type Type, string Namespace), WeakReference> _namespaced = new();
    private int _nextSweep = FirstSweep;
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

        var core = @namespace is null
            ? (CachedMethod<T>)_cores.GetOrAdd(typeof(T), static (_, owner) => owner.Create<T>(null), this)
            : Namespaced<T>(@namespace);
        Volatile.Write(ref _last, core);
        return core;
    }

    private CachedMethod<T> Namespaced<T>(string @namespace)
    {
        var shape = (typeof(T), @namespace);
        while (true)
        {
            _namespaced.TryGetValue(shape, out var held);
            if (held?.Target is CachedMethod<T> alive)
            {
                return alive;
            }

            var core = Create<T>(@namespace);
            var fresh = new WeakReference(core);
            if (held is null ? _namespaced.TryAdd(shape, fresh) : _namespaced.TryUpdate(shape, fresh, held))
            {
                SweepWhenGrown();
                return core;
            }
        }
    }

    private CachedMethod<T> Create<T>(string? @namespace) => new(new CachedMethodOptions
    {
        Method = "GetOrSet<" + TypeName<T>.Value + ">",
        Namespace = @namespace,
        CacheFactory = () => _cache,
        CacheName = _cache.GetType().Name,
    });

    /// <summary>Drops the records of collected cores once the table has doubled since the last sweep.</summary>
    private void SweepWhenGrown()
    {
        var next = Volatile.Read(ref _nextSweep);
        if (_namespaced.Count < next || Interlocked.CompareExchange(ref _nextSweep, int.MaxValue, next) != next)
        {
            return;
        }

        foreach (var pair in _namespaced)
        {
            if (!pair.Value.IsAlive)
            {
                _namespaced.TryRemove(pair);
            }
        }

        Volatile.Write(ref _nextSweep, Math.Max(FirstSweep, _namespaced.Count * 2));
    }
}

/// <summary>A cache that keeps its own <see cref="ReadThroughs"/> (and stops its background work when disposed).</summary>
internal interface IReadThroughHost
{
    ReadThroughs ReadThroughs { get; }
}
