using Cached.Plugins;
using Cached.Serializers;

namespace Cached;

/// <summary>
/// The one interface of every cache backend: the commands of pycached/aiocache, each with an async twin.
/// </summary>
/// <remarks>
/// <para>Keys are strings; a command's <c>namespace</c> argument, when not <c>null</c>, replaces the cache's own
/// <see cref="Namespace"/> (<c>""</c> means no namespace). A <c>ttl</c> of <c>null</c> means the cache's default
/// <see cref="Ttl"/>; <see cref="TimeSpan.Zero"/> or <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> means no expiry;
/// any other negative value is refused.</para>
/// <para>A stored <c>null</c> is a value, not a miss: <see cref="TryGet{T}"/> tells them apart.</para>
/// </remarks>
public interface ICache : IDisposable, IAsyncDisposable
{
    /// <summary>The namespace every key of this cache lives in, unless a command names another; <c>null</c> for none.</summary>
    string? Namespace { get; }

    /// <summary>The serializer used by commands that are not given one.</summary>
    ISerializer Serializer { get; }

    /// <summary>The plugins whose hooks run around every command, in order.</summary>
    IReadOnlyList<ICachePlugin> Plugins { get; }

    /// <summary>How long an async command may take before it fails with <see cref="TimeoutException"/>; <c>null</c> for no limit.</summary>
    TimeSpan? Timeout { get; }

    /// <summary>The time to live of entries written without one; <c>null</c> for no expiry.</summary>
    TimeSpan? Ttl { get; }

    /// <summary>The key under which <paramref name="key"/> is stored in the backend, namespace and key builder applied.</summary>
    string BuildKey(string key, string? @namespace = null);

    /// <summary>Stores a value only if the key holds none.</summary>
    /// <returns><c>true</c>.</returns>
    /// <exception cref="KeyExistsException">The key already holds a value, which is left as it was.</exception>
    bool Add<T>(string key, T value, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null);

    /// <summary>Reads a value, or returns <paramref name="default"/> on a miss.</summary>
    T? Get<T>(string key, T? @default = default, string? @namespace = null, ISerializer? serializer = null);

    /// <summary>Reads a value and tells whether the key held one (a stored <c>null</c> or default is found).</summary>
    bool TryGet<T>(string key, out T? value, string? @namespace = null, ISerializer? serializer = null);

    /// <summary>Stores a value, replacing any other and restarting its time to live.</summary>
    /// <returns><c>true</c> when stored.</returns>
    bool Set<T>(string key, T value, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null);

    /// <summary>Reads several values at once: the result follows the input order, duplicates included, with <c>default</c> for each miss.</summary>
    IReadOnlyList<T?> MultiGet<T>(IEnumerable<string> keys, string? @namespace = null, ISerializer? serializer = null);

    /// <summary>Reads several values at once and tells, key by key, whether each was found (a stored <c>null</c> is found).</summary>
    IReadOnlyList<CacheResult<T>> MultiTryGet<T>(IEnumerable<string> keys, string? @namespace = null, ISerializer? serializer = null);

    /// <summary>Stores several values at once, all with the same time to live.</summary>
    /// <returns><c>true</c> when stored.</returns>
    bool MultiSet<T>(IEnumerable<KeyValuePair<string, T>> pairs, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null);

    /// <summary>Tells whether the key holds a value (possibly <c>null</c>).</summary>
    bool Exists(string key, string? @namespace = null);

    /// <summary>Adds <paramref name="delta"/> to the integer the key holds; a missing key starts at 0.</summary>
    /// <returns>The new value.</returns>
    /// <exception cref="CacheValueNotIntegerException">The key holds something that is not an integer.</exception>
    /// <exception cref="OverflowException">The result does not fit in a <see cref="long"/>; the value is left as it was.</exception>
    long Increment(string key, long delta = 1, string? @namespace = null);

    /// <summary>Removes the key.</summary>
    /// <returns>The number of entries removed: 1, or 0 when the key held nothing.</returns>
    int Delete(string key, string? @namespace = null);

    /// <summary>
    /// Removes every entry of a namespace: <paramref name="namespace"/> when given, else the cache's own. With no
    /// namespace at all (<c>null</c> or <c>""</c> on both), removes every entry of the store.
    /// </summary>
    /// <returns><c>true</c>.</returns>
    bool Clear(string? @namespace = null);

    /// <summary>Gives the key a new time to live; <c>null</c> or <see cref="TimeSpan.Zero"/> removes its expiry.</summary>
    /// <returns><c>true</c> when the key exists, <c>false</c> when it does not.</returns>
    bool Expire(string key, TimeSpan? ttl, string? @namespace = null);

    /// <summary>Runs a command of the underlying store or client as given: no namespace, serializer or key building.</summary>
    object? Raw(string command, params object?[] args);

    /// <inheritdoc cref="Add{T}"/>
    ValueTask<bool> AddAsync<T>(string key, T value, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default);

    /// <inheritdoc cref="Get{T}"/>
    ValueTask<T?> GetAsync<T>(string key, T? @default = default, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default);

    /// <summary>Reads a value and tells whether the key held one (a stored <c>null</c> or default is found).</summary>
    ValueTask<CacheResult<T>> TryGetAsync<T>(string key, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default);

    /// <inheritdoc cref="Set{T}"/>
    ValueTask<bool> SetAsync<T>(string key, T value, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default);

    /// <inheritdoc cref="MultiGet{T}"/>
    ValueTask<IReadOnlyList<T?>> MultiGetAsync<T>(IEnumerable<string> keys, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default);

    /// <inheritdoc cref="MultiTryGet{T}"/>
    ValueTask<IReadOnlyList<CacheResult<T>>> MultiTryGetAsync<T>(IEnumerable<string> keys, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default);

    /// <inheritdoc cref="MultiSet{T}"/>
    ValueTask<bool> MultiSetAsync<T>(IEnumerable<KeyValuePair<string, T>> pairs, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default);

    /// <inheritdoc cref="Exists"/>
    ValueTask<bool> ExistsAsync(string key, string? @namespace = null, CancellationToken cancellationToken = default);

    /// <inheritdoc cref="Increment"/>
    ValueTask<long> IncrementAsync(string key, long delta = 1, string? @namespace = null, CancellationToken cancellationToken = default);

    /// <inheritdoc cref="Delete"/>
    ValueTask<int> DeleteAsync(string key, string? @namespace = null, CancellationToken cancellationToken = default);

    /// <inheritdoc cref="Clear"/>
    ValueTask<bool> ClearAsync(string? @namespace = null, CancellationToken cancellationToken = default);

    /// <inheritdoc cref="Expire"/>
    ValueTask<bool> ExpireAsync(string key, TimeSpan? ttl, string? @namespace = null, CancellationToken cancellationToken = default);

    /// <inheritdoc cref="Raw"/>
    ValueTask<object?> RawAsync(string command, object?[]? args = null, CancellationToken cancellationToken = default);
}
