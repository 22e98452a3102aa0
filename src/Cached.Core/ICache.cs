using Cached.Plugins;
using Cached.Resilience;
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

    /// <summary>
    /// Reads <paramref name="key"/>; on a miss calls <paramref name="factory"/>, stores its result and returns it: the
    /// read-through of generated methods, for code that calls the cache directly. Concurrent misses of a key in one
    /// process make one call (single-flight); <see cref="CacheEntryOptions.Lease"/> makes one across processes. A
    /// cache fault never fails the call (it is logged, and the factory's result is returned). With
    /// <paramref name="options"/>: fail-safe, soft and hard timeouts and eager refresh (see <see cref="CacheEntryOptions"/>).
    /// </summary>
    /// <param name="key">The key; not null or empty.</param>
    /// <param name="factory">Makes the value on a miss. Its token is cancelled when the cache is disposed.</param>
    /// <param name="options">The entry's time to live and resilience options; <c>null</c> for the cache's defaults.</param>
    /// <param name="namespace">The namespace; <c>null</c> for the cache's own.</param>
    /// <returns>The cached value, the factory's, or (fail-safe) the last value.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is null or empty.</exception>
    /// <exception cref="TimeoutException">The factory took longer than <see cref="CacheEntryOptions.HardTimeout"/> and there was no last value.</exception>
    T GetOrSet<T>(string key, Func<CancellationToken, T> factory, CacheEntryOptions? options = null, string? @namespace = null)
        => ReadThrough.GetOrSet(this, key, factory, options, @namespace);

    /// <summary>
    /// <see cref="GetOrSet{T}(string, Func{CancellationToken, T}, CacheEntryOptions?, string?)"/> with a state passed to
    /// the factory, so that a hot path allocates no closure.
    /// </summary>
    T GetOrSet<TState, T>(string key, TState state, Func<TState, CancellationToken, T> factory, CacheEntryOptions? options = null, string? @namespace = null)
        => ReadThrough.GetOrSet(this, key, state, factory, options, @namespace);

    /// <summary>
    /// Stores a value as <see cref="GetOrSet{T}(string, Func{CancellationToken, T}, CacheEntryOptions?, string?)"/> with
    /// the same <paramref name="options"/> would: stamped with its logical expiry when they ask for fail-safe or eager refresh.
    /// <c>null</c> options are the cache's defaults, as <c>Set(key, value, null, @namespace)</c> has always meant.
    /// </summary>
    /// <returns><c>true</c> when stored.</returns>
    bool Set<T>(string key, T value, CacheEntryOptions? options, string? @namespace = null)
        => ReadThrough.Set(this, key, value, options, @namespace);

    /// <summary>
    /// Makes every entry that carries one of <paramref name="tags"/> (<see cref="CacheEntryOptions.Tags"/>) a miss, in
    /// every process that shares this cache's backend (and, for a <see cref="MultiLevelCache"/> with a backplane, in
    /// every node's first level); other entries are untouched. The work is one write per tag, whatever the number of
    /// entries. An entry made a miss this way is still fail-safe's last value if its factory then fails. See docs/tags.md.
    /// </summary>
    /// <param name="tags">The tags; duplicates count once, none is a no-op.</param>
    /// <exception cref="ArgumentNullException"><paramref name="tags"/> is null.</exception>
    /// <exception cref="ArgumentException">A tag is null or empty.</exception>
    void InvalidateTags(params string[] tags)
        => Tags.TagCommands.Invalidate(this, tags);

    /// <inheritdoc cref="Add{T}"/>
    ValueTask<bool> AddAsync<T>(string key, T value, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default);

    /// <inheritdoc cref="Get{T}"/>
    ValueTask<T?> GetAsync<T>(string key, T? @default = default, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default);

    /// <summary>Reads a value and tells whether the key held one (a stored <c>null</c> or default is found).</summary>
    ValueTask<CacheResult<T>> TryGetAsync<T>(string key, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default);

    /// <inheritdoc cref="Set{T}(string, T, TimeSpan?, string?, ISerializer?)"/>
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

    /// <inheritdoc cref="InvalidateTags"/>
    /// <param name="tags">The tags; duplicates count once, none is a no-op.</param>
    /// <param name="cancellationToken">Cancels the call; tags already invalidated stay so.</param>
    ValueTask InvalidateTagsAsync(IEnumerable<string> tags, CancellationToken cancellationToken = default)
        => Tags.TagCommands.InvalidateAsync(this, tags, cancellationToken);

    /// <inheritdoc cref="GetOrSet{T}(string, Func{CancellationToken, T}, CacheEntryOptions?, string?)"/>
    /// <param name="key">The key; not null or empty.</param>
    /// <param name="factory">Makes the value on a miss, with a token cancelled when the leading caller's is (while it waits) or the cache is disposed.</param>
    /// <param name="options">The entry's time to live and resilience options; <c>null</c> for the cache's defaults.</param>
    /// <param name="namespace">The namespace; <c>null</c> for the cache's own.</param>
    /// <param name="cancellationToken">Cancels this call's wait; the factory goes on for the other callers of the key.</param>
    ValueTask<T> GetOrSetAsync<T>(string key, Func<CancellationToken, ValueTask<T>> factory, CacheEntryOptions? options = null, string? @namespace = null, CancellationToken cancellationToken = default)
        => ReadThrough.GetOrSetAsync(this, key, factory, options, @namespace, cancellationToken);

    /// <inheritdoc cref="GetOrSet{TState, T}(string, TState, Func{TState, CancellationToken, T}, CacheEntryOptions?, string?)"/>
    ValueTask<T> GetOrSetAsync<TState, T>(string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory, CacheEntryOptions? options = null, string? @namespace = null, CancellationToken cancellationToken = default)
        => ReadThrough.GetOrSetAsync(this, key, state, factory, options, @namespace, cancellationToken);

    /// <inheritdoc cref="Set{T}(string, T, CacheEntryOptions?, string?)"/>
    ValueTask<bool> SetAsync<T>(string key, T value, CacheEntryOptions? options, string? @namespace = null, CancellationToken cancellationToken = default)
        => ReadThrough.SetAsync(this, key, value, options, @namespace, cancellationToken);
}
