using Cached.Capabilities;
using Cached.Pipeline;
using Cached.Plugins;
using Cached.Resilience;
using Cached.Runtime;
using Cached.Serializers;

namespace Cached;

/// <summary>
/// The template every backend builds on. Its public commands check their arguments, resolve the namespace, build
/// keys, serialize, run the plugins and enforce the timeout, once for every backend; a backend implements only the
/// raw storage primitives (<c>GetEntry</c>, <c>SetEntry</c>, ...) over already-built keys and stored payloads.
/// </summary>
/// <remarks>
/// A stored payload is either the value itself (when both the serializer and the backend keep references: see
/// <see cref="ISerializer.StoresReferences"/> and <see cref="StoresReferences"/>) or a <see cref="byte"/> array.
/// </remarks>
public abstract partial class BaseCache : ICache, IRetirableCache, DependencyInjection.IContainerHeld
{
    private readonly ICachePlugin[] _plugins = [];
    private ISerializer? _serializer;
    private TimeSpan? _timeout = TimeSpan.FromSeconds(5);
    private CircuitBreaker? _breaker; // only when CircuitBreakerDuration is set
    private TimeSpan? _ttl;
    private TimeProvider _timeProvider = TimeProvider.System;
    private string? _alias;
    private string? _backendName;
    private int _disposeState;
    private DependencyInjection.ContainerHolds _containerHolds;
    private int _readsBySpan; // 0: not worked out yet, 1: span reads allowed, 2: not
    private CommandCount? _running; // only on a cache Caches made, and only if disposing it stops it serving
    private CommandDeadlines? _deadlines; // made on the first remote command that needs a deadline (BaseCache.Pipeline.cs)

    /// <inheritdoc />
    public string? Namespace { get; init; }

    /// <summary>
    /// The alias this cache is known by (<see cref="Caches"/> names the caches it creates or is given after their
    /// alias): a tag of its metrics and traces and a field of its logs. <c>null</c> for a cache made on its own, unless set.
    /// </summary>
    public string? Alias
    {
        get => _alias;
        init => _alias = string.IsNullOrWhiteSpace(value) ? null : value;
    }

    /// <summary>
    /// The level this cache serves in a <see cref="MultiLevelCache"/> (<c>L1</c> or <c>L2</c>), a tag of its metrics;
    /// <c>null</c> for a cache used on its own.
    /// </summary>
    internal string? Level { get; set; }

    /// <summary>The backend's name in metrics and traces: the cache type's name (<c>SimpleMemoryCache</c>, <c>RedisCache</c>).</summary>
    internal string BackendName => _backendName ??= GetType().Name;

    /// <summary>The serializer used by commands that are not given one; each backend has its own default.</summary>
    public ISerializer Serializer
    {
        get => _serializer ??= CreateDefaultSerializer();
        init => _serializer = value ?? throw new ArgumentNullException(nameof(Serializer));
    }

    /// <inheritdoc />
    public IReadOnlyList<ICachePlugin> Plugins
    {
        get => _plugins;
        init
        {
            ArgumentNullException.ThrowIfNull(value, nameof(Plugins));
            var plugins = value.ToArray();
            if (Array.IndexOf(plugins, null) >= 0)
            {
                throw new ArgumentException("The plugin list cannot contain null.", nameof(Plugins));
            }

            _plugins = plugins;
        }
    }

    /// <summary>
    /// How long an async command may take before it fails with <see cref="TimeoutException"/> (5 seconds unless set,
    /// as in aiocache); <c>null</c> or zero for no limit. Sync commands pass it to the backend's client, which
    /// enforces it there (an in-process store never blocks).
    /// </summary>
    public TimeSpan? Timeout
    {
        get => _timeout;
        init => _timeout = value is { } t && t != System.Threading.Timeout.InfiniteTimeSpan
            ? (t < TimeSpan.Zero ? throw new ArgumentOutOfRangeException(nameof(Timeout), t, "A timeout cannot be negative.") : t == TimeSpan.Zero ? null : t)
            : null;
    }

    /// <summary>
    /// How long the cache's commands fail at once, without reaching the backend, after one failed because the backend
    /// did not answer (a <see cref="TimeoutException"/>, or a <see cref="CacheBackendException"/> whose
    /// <see cref="CacheBackendException.Unreachable"/> is true); <c>null</c> (the default) or zero for no circuit
    /// breaker. Meanwhile commands throw a <see cref="CacheBackendException"/> whose
    /// <see cref="CacheBackendException.CircuitOpen"/> and <see cref="CacheBackendException.Unreachable"/> are true, so
    /// a backend that hangs costs one <see cref="Timeout"/> per duration instead of one per command, and cached methods
    /// and a <see cref="MultiLevelCache"/> go on without it as in any outage. Once the duration has passed, one command
    /// tries the backend while the others are still refused; its success closes the breaker, its failure opens it again.
    /// A backend that answered and refused a command does not open it.
    /// </summary>
    public TimeSpan? CircuitBreakerDuration
    {
        get => _breaker?.Duration;
        init => _breaker = value is { } d && d != System.Threading.Timeout.InfiniteTimeSpan
            ? (d < TimeSpan.Zero ? throw new ArgumentOutOfRangeException(nameof(CircuitBreakerDuration), d, "A circuit breaker's duration cannot be negative.") : d == TimeSpan.Zero ? null : new CircuitBreaker(d))
            : value is null ? null : throw new ArgumentOutOfRangeException(nameof(CircuitBreakerDuration), value, "A circuit breaker cannot stay open forever; give it a duration.");
    }

    /// <summary>The time to live of entries written without one; <c>null</c> (the default) or zero for no expiry.</summary>
    public TimeSpan? Ttl
    {
        get => _ttl;
        init => _ttl = TtlRules.Normalize(value, nameof(Ttl));
    }

    /// <summary>
    /// Replaces the whole key composition (aiocache's <c>key_builder</c>): it receives the caller's key and the
    /// resolved namespace (<c>null</c> when there is none) and returns the backend key.
    /// </summary>
    public Func<string, string?, string>? KeyBuilder { get; init; }

    /// <summary>The clock for expiry and timings; tests pass a fake one to move time instead of waiting.</summary>
    public TimeProvider TimeProvider
    {
        get => _timeProvider;
        init => _timeProvider = value ?? throw new ArgumentNullException(nameof(TimeProvider));
    }

    /// <summary>True when the backend can hold values as references, so a reference-keeping serializer skips serialization.</summary>
    protected virtual bool StoresReferences => false;

    /// <summary>The serializer a cache uses when none is set: <see cref="StringSerializer"/>, as in aiocache; backends override it.</summary>
    protected virtual ISerializer CreateDefaultSerializer() => new StringSerializer();

    /// <inheritdoc />
    public string BuildKey(string key, string? @namespace = null)
    {
        Guard.Key(key);
        return BuildKeyIn(key, ResolveNamespace(@namespace));
    }

    /// <summary>
    /// The default key composition, used unless a <see cref="KeyBuilder"/> is set, for a non-empty namespace:
    /// <c>namespace:key</c>, with <c>\</c> and <c>:</c> escaped inside the namespace so that no two
    /// (namespace, key) pairs give the same backend key. The Redis backend overrides it with aiocache's plain <c>ns:key</c>.
    /// </summary>
    protected virtual string ComposeKey(string key, string @namespace) => NamespacedKey.Compose(key, @namespace);

    /// <summary>The namespace a command runs in: the argument when given, else the cache's; <c>null</c> when that is empty.</summary>
    protected string? ResolveNamespace(string? @namespace) => NamespacedKey.Resolve(@namespace, Namespace);

    /// <summary>
    /// True when the backend stores keys as UTF-8 (Redis): a key or namespace that UTF-8 cannot hold, one with a lone
    /// surrogate, is then refused with an <see cref="ArgumentException"/>, since the client would store it under
    /// U+FFFD, where other keys share its entry. False by default: an in-process store keeps any string apart.
    /// </summary>
    protected virtual bool StoresKeysAsUtf8 => false;

    /// <summary><see cref="StoresKeysAsUtf8"/>, for a cache in front of this one (two levels).</summary>
    internal bool KeysAsUtf8 => StoresKeysAsUtf8;

    /// <summary>Refuses a namespace a store of UTF-8 keys cannot hold (see <see cref="StoresKeysAsUtf8"/>): Clear would look for another.</summary>
    private void RefuseUnstorable(string? resolvedNamespace)
    {
        if (StoresKeysAsUtf8 && resolvedNamespace is not null)
        {
            Guard.Utf8(resolvedNamespace, "namespace");
        }
    }

    /// <summary>
    /// A command's check of its key and namespace, with its other argument checks: a null or empty key is refused, and
    /// on a store of UTF-8 keys (<see cref="StoresKeysAsUtf8"/>) a key or namespace with a lone surrogate too. It runs
    /// before the token and the disabled switch, so that such a key fails whatever the token, as a null one does.
    /// <see cref="BuildKeyIn"/> looks again: it also builds the keys of what is not a command (locks, tags, fills).
    /// </summary>
    private void CheckKey(string key, string? @namespace)
    {
        if (KeyProblem(key, @namespace) is { } problem)
        {
            throw problem;
        }
    }

    /// <summary>
    /// The exception <see cref="CheckKey"/> refuses a key with, for a method that returns it in its task; null for a good
    /// key. Also asked by a cache in front of this one (two levels), which must refuse what this one would before it looks
    /// at its token.
    /// </summary>
    internal ArgumentException? KeyProblem(string key, string? @namespace)
        => Guard.KeyProblem(key) ?? (StoresKeysAsUtf8 ? Guard.Utf8Problem(key, nameof(key)) ?? NamespaceProblem(@namespace) : null);

    /// <summary>Refuses a batch's namespace as <see cref="CheckKey"/> refuses a command's, before its token is looked at.</summary>
    internal void CheckNamespace(string? @namespace) => RefuseUnstorable(ResolveNamespace(@namespace));

    private ArgumentException? NamespaceProblem(string? @namespace)
        => ResolveNamespace(@namespace) is { } resolved ? Guard.Utf8Problem(resolved, nameof(@namespace)) : null;

    private string BuildKeyIn(string key, string? resolvedNamespace)
    {
        if (StoresKeysAsUtf8)
        {
            Guard.Utf8(key, nameof(key));
            RefuseUnstorable(resolvedNamespace);
        }

        if (KeyBuilder is { } builder)
        {
            var built = builder(key, resolvedNamespace);
            if (string.IsNullOrEmpty(built))
            {
                throw new CacheException($"The cache's KeyBuilder returned an empty key for '{key}'.");
            }

            if (StoresKeysAsUtf8 && Guard.LoneSurrogateAt(built) >= 0)
            {
                // The builder's fault, not the caller's: a truncation that split a surrogate pair, say.
                throw new CacheException($"The cache's KeyBuilder returned '{built}' for '{key}', which holds a lone surrogate that a store of UTF-8 keys cannot hold.");
            }

            return built;
        }

        return resolvedNamespace is null ? key : ComposeKey(key, resolvedNamespace);
    }

    private TimeSpan? ResolveTtl(TimeSpan? ttl) => ttl is null ? _ttl : TtlRules.Normalize(ttl, nameof(ttl));

    /// <summary>
    /// Whether this cache's settings let a span read (<see cref="Capabilities.ISpanReadableCache"/>) answer exactly as
    /// <see cref="ICache.TryGet{T}"/> would: no plugins, no <see cref="KeyBuilder"/>, values kept as references. The
    /// settings are init-only, so the answer is worked out once. Also gives the namespace reads in
    /// <paramref name="namespace"/> resolve to, by the same rule as every command.
    /// </summary>
    protected bool AllowsSpanReads(string? @namespace, out string? resolvedNamespace)
    {
        resolvedNamespace = ResolveNamespace(@namespace);
        var known = _readsBySpan;
        if (known == 0)
        {
            known = _plugins.Length == 0 && KeyBuilder is null && KeepsReferences(Serializer) ? 1 : 2;
            _readsBySpan = known;
        }

        return known == 1;
    }

    /// <summary>True when values are stored as references: the backend can hold them and <paramref name="serializer"/> asks for it.</summary>
    private bool KeepsReferences(ISerializer serializer) => PayloadCodec.KeepsReferences(StoresReferences, serializer);

    private object? ToPayload<T>(string key, T value, ISerializer serializer)
        => PayloadCodec.ToPayload(key, value, serializer, KeepsReferences(serializer));

    private T? FromPayload<T>(string key, object? payload, ISerializer serializer)
        => PayloadCodec.FromPayload<T>(key, payload, serializer, KeepsReferences(serializer));

    /// <summary>
    /// True when disposing this cache never stops it from serving (an in-process store), so that <see cref="Caches"/>
    /// need not count its commands before it disposes a replaced instance.
    /// </summary>
    internal virtual bool ServesAfterDispose => false;

    /// <summary>True once <see cref="Dispose()"/> or <see cref="DisposeAsync"/> has been called.</summary>
    internal bool IsDisposed => Volatile.Read(ref _disposeState) != 0;

    /// <inheritdoc />
    CommandCount? IRetirableCache.CountCommands() => ServesAfterDispose ? null : _running ??= new CommandCount();

    /// <summary>Releases the backend's resources. In-process stores stay usable, as aiocache's caches do after <c>close()</c>.</summary>
    /// <remarks>
    /// Disposing twice is harmless: a cache shared by a container and <see cref="Caches"/> may be disposed by both. A
    /// cache that a DI container handed out without owning it (an instance given to <see cref="Caches.AddInstance"/>,
    /// or one another container made) is disposed by the last of its owner and those containers to dispose it.
    /// </remarks>
    public void Dispose()
    {
        if (_containerHolds.TryRelease() || Interlocked.Exchange(ref _disposeState, 1) != 0)
        {
            return;
        }

        StopBackgroundWork();
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc cref="Dispose()"/>
    public async ValueTask DisposeAsync()
    {
        if (_containerHolds.TryRelease() || Interlocked.Exchange(ref _disposeState, 1) != 0)
        {
            return;
        }

        StopBackgroundWork();
        await DisposeAsyncCore().ConfigureAwait(false);
        Dispose(disposing: false);
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc />
    void DependencyInjection.IContainerHeld.AddContainerHold() => _containerHolds.Add();

    /// <summary>Releases the backend's resources; <paramref name="disposing"/> is false when called from <see cref="DisposeAsync"/> after <see cref="DisposeAsyncCore"/>.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }

    /// <summary>Releases the backend's resources asynchronously.</summary>
    protected virtual ValueTask DisposeAsyncCore()
    {
        Dispose(disposing: true);
        return ValueTask.CompletedTask;
    }
}
