using Cached.Capabilities;
using Cached.Runtime;
using Microsoft.Extensions.Caching.Hybrid;
using Cached.Pipeline;

namespace Cached.Hybrid;

/// <summary>
/// Microsoft's <see cref="HybridCache"/> served by a Cached cache (<see cref="CachedHybridCacheExtensions.AsHybridCache"/>,
/// or <c>AddHybridCache</c> on the <c>AddCached</c> builder): code written for HybridCache runs unchanged on any alias,
/// memory, Redis or two levels, with Cached's single flight, fail-open, lease, tags, fail-safe and timeouts.
/// </summary>
/// <remarks>
/// <para><see cref="GetOrCreateAsync{TState, T}"/> is <see cref="ICache.GetOrSetAsync{TState, T}"/>;
/// <see cref="HybridCacheEntryOptions.Expiration"/> is the entry's <see cref="CacheEntryOptions.Ttl"/> (the cache's
/// own when unset), <see cref="HybridCacheEntryOptions.LocalCacheExpiration"/> its
/// <see cref="CacheEntryOptions.LocalTtl"/> (L1 of a <see cref="MultiLevelCache"/>), the tags its
/// <see cref="CacheEntryOptions.Tags"/>; <see cref="DefaultEntryOptions"/> supplies the rest (fail-safe, timeouts,
/// lease). <see cref="RemoveByTagAsync(string, CancellationToken)"/> is <see cref="ICache.InvalidateTagsAsync"/>, and
/// the tag <c>*</c> clears the cache's namespace, HybridCache's "every entry" (refused on a shared cache without one).</para>
/// <para>The <see cref="HybridCacheEntryFlags"/> name two levels: the local one is L1 of a <see cref="MultiLevelCache"/>
/// or a <see cref="SimpleMemoryCache"/> alias; the distributed one is L2, or any other alias. A flag that turns off a
/// level the cache does not have changes nothing. <see cref="HybridCacheEntryFlags.DisableCompression"/> changes
/// nothing: Cached does not compress. A call with flags that turn off a read, a distributed write or the factory reads,
/// calls and writes step by step, without the single flight; a cache fault on that path is logged and the call goes on
/// without the cache, as everywhere.</para>
/// </remarks>
public sealed class CachedHybridCache : HybridCache
{
    private readonly ICache _cache;
    private readonly int _maximumKeyLength = 1024;

    /// <summary>Serves <paramref name="cache"/> as a <see cref="HybridCache"/>.</summary>
    /// <param name="cache">The cache the entries live in.</param>
    /// <param name="defaultEntryOptions">The options of every entry, which a call's <see cref="HybridCacheEntryOptions"/>
    /// and tags override where they say something; <c>null</c> for the cache's defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="cache"/> is null.</exception>
    public CachedHybridCache(ICache cache, CacheEntryOptions? defaultEntryOptions = null)
    {
        ArgumentNullException.ThrowIfNull(cache);
        _cache = cache;
        DefaultEntryOptions = defaultEntryOptions;
    }

    /// <summary>The cache the entries live in.</summary>
    public ICache Cache => _cache;

    /// <summary>The options of every entry, before a call's own; <c>null</c> for the cache's defaults.</summary>
    public CacheEntryOptions? DefaultEntryOptions { get; }

    /// <summary>
    /// The longest key that is cached, 1,024 characters by default (HybridCache's <c>MaximumKeyLength</c>). As in
    /// Microsoft's implementation, a longer key, an empty or blank one, or one with a control character is not cached:
    /// <see cref="GetOrCreateAsync{TState, T}"/> calls the factory every time, and a write or a removal of it does nothing.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public int MaximumKeyLength
    {
        get => _maximumKeyLength;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            _maximumKeyLength = value;
        }
    }

    /// <inheritdoc />
    public override ValueTask<T> GetOrCreateAsync<TState, T>(
        string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory, HybridCacheEntryOptions? options = null,
        IEnumerable<string>? tags = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (cancellationToken.IsCancellationRequested)
        {
            // Before any read or factory, whatever the flags: a call with flags reads and writes step by step.
            return ValueTask.FromCanceled<T>(cancellationToken);
        }

        if (!CanCache(key))
        {
            // Microsoft's rule: the data still comes, uncached.
            return (options?.Flags ?? HybridCacheEntryFlags.None).HasFlag(HybridCacheEntryFlags.DisableUnderlyingData)
                ? default
                : factory(state, cancellationToken);
        }

        var levels = HybridLevels.Of(_cache, options?.Flags ?? HybridCacheEntryFlags.None);
        var entry = Entry(options, tags, levels);
        return levels.ReadThroughWhole
            ? _cache.GetOrSetAsync(key, state, factory, entry, @namespace: null, cancellationToken)
            : StepByStepAsync(key, state, factory, entry, levels, cancellationToken);
    }

    /// <inheritdoc />
    public override async ValueTask SetAsync<T>(string key, T value, HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!CanCache(key))
        {
            // Never read back: GetOrCreateAsync does not look it up.
            return;
        }

        var levels = HybridLevels.Of(_cache, options?.Flags ?? HybridCacheEntryFlags.None);
        await levels.WriteAsync(key, value, Entry(options, tags, levels), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        cancellationToken.ThrowIfCancellationRequested();
        if (!CanCache(key))
        {
            return;
        }

        await _cache.DeleteAsync(key, @namespace: null, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async ValueTask RemoveAsync(IEnumerable<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var key in keys)
        {
            await RemoveAsync(key, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public override ValueTask RemoveByTagAsync(string tag, CancellationToken cancellationToken = default)
        => RemoveByTagAsync([tag], cancellationToken);

    /// <summary>
    /// Invalidates the tags in one call; the tag <c>*</c> clears the cache's namespace instead. Empty or blank tags are
    /// ignored, as HybridCache ignores them.
    /// </summary>
    /// <inheritdoc />
    public override async ValueTask RemoveByTagAsync(IEnumerable<string> tags, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tags);
        cancellationToken.ThrowIfCancellationRequested();
        var given = UsableTags(tags);
        if (given.Length == 0)
        {
            return;
        }

        if (given.Contains(AllEntries, StringComparer.Ordinal))
        {
            // Every entry of this cache: its namespace, or all of an in-process cache's own store. A shared store without
            // a namespace holds other applications' keys too, which "*" must not take with it.
            if (string.IsNullOrEmpty(_cache.Namespace) && _cache is not (SimpleMemoryCache or MultiLevelCache { L2: SimpleMemoryCache }))
            {
                throw new NotSupportedException(
                    $"RemoveByTagAsync(\"*\") clears the cache's namespace, and this {_cache.GetType().Name} has none: clearing it would empty the whole store, other applications' keys included. Give the cache a Namespace.");
            }

            await _cache.ClearAsync(_cache.Namespace, cancellationToken).ConfigureAwait(false);
            return;
        }

        await _cache.InvalidateTagsAsync(given, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>HybridCache's tag for every entry.</summary>
    private const string AllEntries = "*";

    private CacheEntryOptions? Entry(HybridCacheEntryOptions? options, IEnumerable<string>? tags, HybridLevels levels)
    {
        var entry = DefaultEntryOptions;
        if (options?.Expiration is { } expiration)
        {
            // A time to live of zero or infinite means "never expires" here; HybridCache's own L1 refuses it.
            if (expiration <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(options), expiration, "HybridCacheEntryOptions.Expiration must be positive.");
            }

            entry = (entry ?? new CacheEntryOptions()) with { Ttl = expiration };
        }

        if (levels.LocalTtl(options?.LocalCacheExpiration) is { } local)
        {
            entry = (entry ?? new CacheEntryOptions()) with { LocalTtl = local };
        }

        if (tags is not null)
        {
            var given = tags as IReadOnlyList<string> ?? tags.ToArray();
            foreach (var tag in given)
            {
                // HybridCache's rules: a blank tag could never be removed (RemoveByTagAsync ignores it), and "*" means every entry.
                if (string.IsNullOrWhiteSpace(tag) || tag == AllEntries)
                {
                    throw new ArgumentException(tag == AllEntries ? "The tag '*' is reserved: it stands for every entry in RemoveByTagAsync." : "Tags cannot be null, empty or blank.", nameof(tags));
                }
            }

            entry = (entry ?? new CacheEntryOptions()) with { Tags = given };
        }

        return entry;
    }

    /// <summary>Whether <paramref name="key"/> is cached: not blank, at most <see cref="MaximumKeyLength"/> long, no control character (HybridCache's rules).</summary>
    private bool CanCache([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? key)
        => !string.IsNullOrWhiteSpace(key) && key.Length <= MaximumKeyLength && !key.AsSpan().ContainsAnyInRange('\0', '\u001f');

    /// <summary>The tags a removal names: HybridCache's removal ignores null, empty and blank ones.</summary>
    private static string[] UsableTags(IEnumerable<string?> tags) => tags.Where(static tag => !string.IsNullOrWhiteSpace(tag)).ToArray()!;

    /// <summary>
    /// The factory's result, or the caller's cancellation as soon as it comes, as from Microsoft's implementation: a
    /// factory that does not watch its token keeps running, and how it ends is observed.
    /// </summary>
    private static ValueTask<T> LeaveWhenCancelled<T>(ValueTask<T> running, CancellationToken cancellationToken)
    {
        if (running.IsCompleted || !cancellationToken.CanBeCanceled)
        {
            return running;
        }

        var task = running.AsTask();
        var left = TokenWait.WaitAsync(task, cancellationToken);
        _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return new ValueTask<T>(left);
    }

    private async ValueTask<T> StepByStepAsync<TState, T>(
        string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory, CacheEntryOptions? entry, HybridLevels levels, CancellationToken cancellationToken)
    {
        try
        {
            var read = await levels.ReadAsync<T>(key, cancellationToken).ConfigureAwait(false);
            if (read.Found)
            {
                return read.Value!;
            }
        }
        catch (Exception ex) when (CachedMethod<T>.IsFault(ex, cancellationToken))
        {
            Log.ReadFailed(CachedLogging.Logger, ex, key, nameof(HybridCache), AliasOf(_cache));
        }

        if (!levels.CallsFactory)
        {
            return default!;
        }

        var value = await LeaveWhenCancelled(factory(state, cancellationToken), cancellationToken).ConfigureAwait(false);
        try
        {
            await levels.WriteAsync(key, value, entry, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (CachedMethod<T>.IsFault(ex, cancellationToken))
        {
            Log.WriteFailed(CachedLogging.Logger, ex, key, nameof(HybridCache), AliasOf(_cache));
        }

        return value;
    }

    private static string AliasOf(ICache cache) => (cache as IAliasedCache)?.Alias ?? "(unnamed)";
}
