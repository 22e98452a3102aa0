using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Cached.Pipeline;
using Cached.Runtime;

namespace Cached.Resilience;

/// <summary>
/// What one cache keeps for read-through calls: the <see cref="CachedMethod{TResult}"/> core behind <c>GetOrSet</c>,
/// one per result type and namespace (so its single-flight board and its serializer check are shared by every call of
/// that shape), the cache's <see cref="BackgroundWork"/> and the clock stamps are read on.
/// </summary>
/// <remarks>
/// The cores of the cache's own namespace are kept for its life. Those of a namespace named in the call are let go of
/// when they go unused: a service that gives each tenant a namespace would otherwise keep a core (and its board of
/// flights) for every tenant it ever served. Each full (gen 2) collection takes away the strong hold on every such core
/// and a call re-takes it, so a core used between two full collections is never made anew, while an idle one is held
/// weakly and collected at the next. A core nobody can reach has no flight anyone could join, since the code that lands
/// a flight runs on its core, so one made anew for the next call of that namespace loses nothing.
/// </remarks>
internal sealed class ReadThroughs
{
    private static readonly ConditionalWeakTable<ICache, ReadThroughs> s_others = new();

    private readonly ICache _cache;
    private readonly ConcurrentDictionary<Type, object> _cores = new();
    private readonly ConcurrentDictionary<(Type Type, string Namespace), HeldCore> _namespaced = new();
    private int _sweeping;
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

        // The last core asked for: a core of the cache's own namespace, or the hold on a namespaced one, taken again
        // (a call of a namespace in use keeps its core past the next full collection's sweep).
        switch (Volatile.Read(ref _last))
        {
            case CachedMethod<T> own when @namespace is null:
                return own;
            case HeldCore held when held.Take() is CachedMethod<T> last && string.Equals(last.Namespace, @namespace, StringComparison.Ordinal):
                return last;
        }

        if (@namespace is null)
        {
            var core = (CachedMethod<T>)_cores.GetOrAdd(typeof(T), static (_, owner) => owner.Create<T>(null), this);
            Volatile.Write(ref _last, core);
            return core;
        }

        return Namespaced<T>(@namespace);
    }

    private CachedMethod<T> Namespaced<T>(string @namespace)
    {
        var shape = (typeof(T), @namespace);
        while (true)
        {
            _namespaced.TryGetValue(shape, out var held);
            if (held?.Take() is CachedMethod<T> alive)
            {
                Volatile.Write(ref _last, held);
                return alive;
            }

            var core = Create<T>(@namespace);
            var fresh = new HeldCore(core);
            if (held is null ? _namespaced.TryAdd(shape, fresh) : _namespaced.TryUpdate(shape, fresh, held))
            {
                SweepAtFullCollections();
                Volatile.Write(ref _last, fresh);
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

    /// <summary>Starts the sweep of <see cref="_namespaced"/> at every full collection, once.</summary>
    private void SweepAtFullCollections()
    {
        if (Interlocked.Exchange(ref _sweeping, 1) == 0)
        {
            _ = new FullCollectionSweep(this);
        }
    }

    /// <summary>Lets go of the strong hold on every namespaced core, and forgets those already collected.</summary>
    private void Sweep()
    {
        foreach (var pair in _namespaced)
        {
            if (!pair.Value.Release())
            {
                _namespaced.TryRemove(pair);
            }
        }
    }

    /// <summary>
    /// A namespaced core: held strongly from a call until the next full collection's sweep, weakly after it, so that
    /// a core in use is found again (a call re-takes the strong hold) and an idle one is collected.
    /// </summary>
    private sealed class HeldCore(object core)
    {
        private readonly WeakReference _weak = new(core);
        private object? _strong = core;

        /// <summary>The core, held strongly again; null once it was collected.</summary>
        public object? Take()
        {
            if (Volatile.Read(ref _strong) is { } strong)
            {
                return strong;
            }

            var alive = _weak.Target;
            if (alive is not null)
            {
                Volatile.Write(ref _strong, alive);
            }

            return alive;
        }

        /// <summary>Drops the strong hold; false when the core was already collected (the record can go).</summary>
        public bool Release()
        {
            Volatile.Write(ref _strong, null);
            return _weak.IsAlive;
        }
    }

    /// <summary>
    /// An object nobody holds, whose finalizer sweeps its owner and re-registers itself: once it has been promoted to
    /// the oldest generation, that is once per full (gen 2) collection, the only clock a memory question should run on.
    /// It ends with its owner.
    /// </summary>
    private sealed class FullCollectionSweep
    {
        // A handle, not a WeakReference: that is an object with a finalizer of its own, which may run first in the same
        // collection and free its handle, so the owner would look gone and the sweep would stop after its first run.
        private GCHandle _owner;

        public FullCollectionSweep(ReadThroughs owner) => _owner = GCHandle.Alloc(owner, GCHandleType.Weak);

        ~FullCollectionSweep()
        {
            if (_owner.Target is not ReadThroughs owner)
            {
                _owner.Free();
                return;
            }

            try
            {
                owner.Sweep();
            }
            catch (Exception)
            {
                // A finalizer must not throw (it ends the process); the next collection sweeps again.
            }

            GC.ReRegisterForFinalize(this);
        }
    }
}

/// <summary>A cache that keeps its own <see cref="ReadThroughs"/> (and stops its background work when disposed).</summary>
internal interface IReadThroughHost
{
    ReadThroughs ReadThroughs { get; }
}
