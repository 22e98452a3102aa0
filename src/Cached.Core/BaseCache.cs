using System.Buffers;
using Cached.Diagnostics;
using Cached.Plugins;
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
public abstract partial class BaseCache : ICache
{
    private readonly ICachePlugin[] _plugins = [];
    private ISerializer? _serializer;
    private TimeSpan? _timeout = TimeSpan.FromSeconds(5);
    private TimeSpan? _ttl;
    private TimeProvider _timeProvider = TimeProvider.System;
    private string? _alias;
    private string? _backendName;
    private int _disposeState;

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
    protected virtual string ComposeKey(string key, string @namespace)
    {
        if (@namespace.AsSpan().IndexOfAny(':', '\\') < 0)
        {
            return string.Concat(@namespace, ":", key);
        }

        return string.Concat(@namespace.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(":", "\\:", StringComparison.Ordinal), ":", key);
    }

    /// <summary>The namespace a command runs in: the argument when given, else the cache's; <c>null</c> when that is empty.</summary>
    protected string? ResolveNamespace(string? @namespace)
    {
        var resolved = @namespace ?? Namespace;
        return string.IsNullOrEmpty(resolved) ? null : resolved;
    }

    private string BuildKeyIn(string key, string? resolvedNamespace)
    {
        if (KeyBuilder is { } builder)
        {
            var built = builder(key, resolvedNamespace);
            if (string.IsNullOrEmpty(built))
            {
                throw new CacheException($"The cache's KeyBuilder returned an empty key for '{key}'.");
            }

            return built;
        }

        return resolvedNamespace is null ? key : ComposeKey(key, resolvedNamespace);
    }

    /// <summary>Names a cache after the alias it was created for or registered under, unless it has a name already.</summary>
    internal void AssignAlias(string alias) => Interlocked.CompareExchange(ref _alias, alias, null);

    private TimeSpan? ResolveTtl(TimeSpan? ttl) => ttl is null ? _ttl : TtlRules.Normalize(ttl, nameof(ttl));

    private bool KeepsReferences(ISerializer serializer) => StoresReferences && serializer.StoresReferences;

    /// <summary>Turns a value into what the backend stores: the value itself, or its serialized bytes.</summary>
    private object? ToPayload<T>(string key, T value, ISerializer serializer)
    {
        if (KeepsReferences(serializer))
        {
            return value;
        }

        var buffer = PayloadBuffer.Rent();
        try
        {
            serializer.Serialize(buffer, value);
            return buffer.WrittenSpan.ToArray();
        }
        catch (Exception ex) when (ex is not CacheException and not OperationCanceledException)
        {
            throw new CacheSerializationException(key, value?.GetType() ?? typeof(T), $"the value cannot be serialized by {serializer.GetType().Name}: {ex.Message}", ex);
        }
        finally
        {
            PayloadBuffer.Return(buffer);
        }
    }

    /// <summary>Turns what the backend returned into a <typeparamref name="T"/>, or throws naming the key and the type.</summary>
    private T? FromPayload<T>(string key, object? payload, ISerializer serializer)
    {
        if (KeepsReferences(serializer))
        {
            switch (payload)
            {
                case T typed:
                    return typed;
                case null:
                    return default;
                case byte[]:
                    // Written by a per-call serializer: read the bytes through this one (NullSerializer reads text).
                    break;
                default:
                    throw new CacheSerializationException(key, typeof(T), $"the key holds a {payload.GetType()}.");
            }
        }

        ReadOnlySequence<byte> bytes = payload switch
        {
            byte[] array => new ReadOnlySequence<byte>(array),
            ReadOnlyMemory<byte> memory => new ReadOnlySequence<byte>(memory),
            null => throw new CacheSerializationException(key, typeof(T), "the key holds no payload."),
            _ => throw new CacheSerializationException(key, typeof(T), $"the key holds a {payload.GetType()} written without serialization, which {serializer.GetType().Name} cannot read."),
        };

        try
        {
            return serializer.Deserialize<T>(bytes);
        }
        catch (Exception ex) when (ex is not CacheException and not OperationCanceledException)
        {
            throw new CacheSerializationException(key, typeof(T), $"the stored payload cannot be read by {serializer.GetType().Name}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Opens a command for the plugins and for telemetry; <c>null</c>, at no cost, when there are no plugins and
    /// nobody listens to Cached's meter or activity source.
    /// </summary>
    private CacheCommandContext? BeginCommand(CacheCommand command, string? key, IReadOnlyList<string>? keys, string? @namespace, object? value, TimeSpan? ttl)
    {
        var plugins = _plugins;
        var observed = CacheTelemetry.IsObserved;
        if (plugins.Length == 0 && !observed)
        {
            return null;
        }

        var context = new CacheCommandContext(this, command, key, keys, @namespace, value, ttl);
        foreach (var plugin in plugins)
        {
            plugin.Pre(context);
        }

        if (observed)
        {
            context.Observed = true;
            context.Activity = CacheTelemetry.StartActivity(this, command, key);
        }

        context.StartedAt = _timeProvider.GetTimestamp();
        return context;
    }

    private void EndCommand(CacheCommandContext? context, object? result, int hits = 0)
    {
        if (context is null)
        {
            return;
        }

        context.Elapsed = _timeProvider.GetElapsedTime(context.StartedAt);
        context.Result = result;
        context.Hits = hits;
        foreach (var plugin in _plugins)
        {
            plugin.Post(context);
        }

        if (context.Observed)
        {
            context.Observed = false;
            CacheTelemetry.Completed(this, context);
        }
    }

    /// <summary>
    /// An exception filter around every command: it reports the failure to telemetry and never catches, so the
    /// exception leaves with its stack untouched.
    /// </summary>
    private bool CommandFailed(CacheCommandContext? context, Exception exception)
    {
        if (context is { Observed: true })
        {
            context.Observed = false;
            CacheTelemetry.Failed(this, context, exception);
        }

        return false;
    }

    /// <summary>
    /// Enforces <see cref="Timeout"/> on a backend operation. An operation that completed synchronously costs nothing;
    /// one still running is awaited for at most the timeout, then abandoned with a <see cref="TimeoutException"/>.
    /// </summary>
    private ValueTask<TResult> WithTimeout<TResult>(ValueTask<TResult> operation, CacheCommand command, CancellationToken cancellationToken)
    {
        if (operation.IsCompleted || _timeout is null)
        {
            return operation;
        }

        return AwaitWithTimeout(operation.AsTask(), _timeout.Value, command, cancellationToken);
    }

    private async ValueTask<TResult> AwaitWithTimeout<TResult>(Task<TResult> operation, TimeSpan timeout, CacheCommand command, CancellationToken cancellationToken)
    {
        try
        {
            return await operation.WaitAsync(timeout, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            // The abandoned operation may still fail later; observe it so it never surfaces as an unobserved exception.
            _ = operation.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw new TimeoutException($"The cache command {command} did not complete within its timeout of {timeout.TotalMilliseconds} ms.", ex);
        }
    }

    /// <summary>Releases the backend's resources. In-process stores stay usable, as aiocache's caches do after <c>close()</c>.</summary>
    /// <remarks>Disposing twice is harmless: a cache shared by a container and <see cref="Caches"/> may be disposed by both.</remarks>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposeState, 1) != 0)
        {
            return;
        }

        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc cref="Dispose()"/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposeState, 1) != 0)
        {
            return;
        }

        await DisposeAsyncCore().ConfigureAwait(false);
        Dispose(disposing: false);
        GC.SuppressFinalize(this);
    }

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
