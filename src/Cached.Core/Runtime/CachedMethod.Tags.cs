using Cached.Capabilities;
using Cached.Resilience;
using Cached.Tags;
using Cached.Pipeline;

namespace Cached.Runtime;

/// <summary>
/// Tagged calls (<see cref="CachedAttribute.Tags"/>, <see cref="CacheEntryOptions.Tags"/>): the entry points generated
/// code calls with a tag builder, and the three steps tags add to a resilient call: the versions read beside the entry
/// (a remote store's in the same round trip) and checked, the versions observed before the factory, and the records
/// retained before the store.
/// </summary>
public sealed partial class CachedMethod<TResult> : ICachedMethod
{
    /// <summary>Runs a sync cached method whose entries carry the tags <paramref name="tags"/> builds (only when a value is computed).</summary>
    public TResult Invoke<TState>(ReadOnlySpan<char> key, TState state, Func<TState, TResult> body, Func<TState, TResult, bool>? skipWhen, Func<TState, string[]> tags)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(tags);
        // The hit reads with the method's own policy: the one that builds tags is made only when a value is computed.
        var completions = _completions.Note();
        var read = ReadBySpan(key, in _policy, out var hit, out var refresh);
        if (read != SpanRead.Hit)
        {
            return Invoke(key, null, state, body, skipWhen, read, completions, _policy.WithTagSource(tags));
        }

        if (refresh)
        {
            StartRefresh(CurrentCache, key.ToString(), state, body, skipWhen, completions, hit, _policy.WithTagSource(tags));
        }

        return hit;
    }

    /// <inheritdoc cref="Invoke{TState}(ReadOnlySpan{char}, TState, Func{TState, TResult}, Func{TState, TResult, bool}?, Func{TState, string[]})"/>
    public TResult Invoke<TState>(string key, TState state, Func<TState, TResult> body, Func<TState, TResult, bool>? skipWhen, Func<TState, string[]> tags)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(tags);
        return Invoke(key, state, body, skipWhen, _policy.WithTagSource(tags));
    }

    /// <summary>Runs an async cached method whose entries carry the tags <paramref name="tags"/> builds (only when a value is computed).</summary>
    public ValueTask<TResult> InvokeAsync<TState>(ReadOnlySpan<char> key, TState state, Func<TState, CancellationToken, ValueTask<TResult>> body, Func<TState, TResult, bool>? skipWhen, Func<TState, string[]> tags, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(tags);
        var completions = _completions.Note();
        var read = ReadBySpanUnlessCancelled(key, in _policy, out var hit, out var refresh, cancellationToken);
        if (read != SpanRead.Hit)
        {
            return InvokeAsync(key, null, state, body, skipWhen, read, completions, _policy.WithTagSource(tags), cancellationToken);
        }

        if (refresh)
        {
            StartRefresh(CurrentCache, key.ToString(), state, body, skipWhen, completions, hit, _policy.WithTagSource(tags));
        }

        return new ValueTask<TResult>(hit);
    }

    /// <inheritdoc cref="InvokeAsync{TState}(ReadOnlySpan{char}, TState, Func{TState, CancellationToken, ValueTask{TResult}}, Func{TState, TResult, bool}?, Func{TState, string[]}, CancellationToken)"/>
    public ValueTask<TResult> InvokeAsync<TState>(string key, TState state, Func<TState, CancellationToken, ValueTask<TResult>> body, Func<TState, TResult, bool>? skipWhen, Func<TState, string[]> tags, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(tags);
        return InvokeAsync(key, state, body, skipWhen, _policy.WithTagSource(tags), cancellationToken);
    }

    /// <summary>
    /// Starts reading the versions of the call's tags from a remote store, so that they arrive with the entry (one
    /// round trip); <c>null</c> when the call has no tags or the store is in-process.
    /// </summary>
    private static Task<long[]>? StartTagRead(ResilientCall call)
    {
        if (call.TagNames is not { } names)
        {
            return null;
        }

        var store = TagStore.Of(call.Cache);
        return store.IsRemote ? store.ReadTokensAsync(names, CancellationToken.None).AsTask() : null;
    }

    /// <summary>
    /// Whether an entry may answer the call: an entry without tags (a plain <c>Set</c>, or a version of the method from
    /// before it had tags, still running beside this one in a rolling deploy) cannot be invalidated by the call's tags,
    /// so for a call that has tags it is a miss, which the call's value, stamped with them, replaces. A call whose tags
    /// came out empty writes such entries itself, and takes them.
    /// </summary>
    private static bool CanAnswer(ResilientCall call, Stamped<TResult> stamped) => stamped.Tags is not null || call.TagNames is null;

    /// <summary>Checks the tags of an entry read from bytes against the versions read beside it, or reads them now.</summary>
    private static bool CheckTags(ResilientCall call, TagStamp tags, Task<long[]>? read)
    {
        var store = TagStore.Of(call.Cache);
        if (read is not null && !RefusedByBreaker(read))
        {
            var tokens = read.GetAwaiter().GetResult();
            call.Prefetched = tokens;
            return store.Check(tags, call.TagNames!, tokens);
        }

        return store.Check(tags);
    }

    /// <inheritdoc cref="CheckTags"/>
    private static async ValueTask<bool> CheckTagsAsync(ResilientCall call, TagStamp tags, Task<long[]>? read, CancellationToken cancellationToken)
    {
        var store = TagStore.Of(call.Cache);
        if (read is not null && !RefusedByBreaker(read))
        {
            var tokens = await AwaitTokens(read, cancellationToken).ConfigureAwait(false);
            call.Prefetched = tokens;
            return store.Check(tags, call.TagNames!, tokens);
        }

        return await store.CheckAsync(tags, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Whether the versions read beside the entry were refused by the cache's circuit breaker: started before the entry's
    /// read, they met the breaker open, while that read, the breaker's probe, found the backend answering and closed it.
    /// They are read again then (the refusal observed), rather than failing a call whose entry came back.
    /// </summary>
    private static bool RefusedByBreaker(Task<long[]> read)
        => read.IsFaulted && read.Exception!.InnerException is CacheBackendException { CircuitOpen: true };

    /// <summary>Waits for versions read beside the entry; a caller that leaves by its token lets the read end unobserved.</summary>
    private static async ValueTask<long[]> AwaitTokens(Task<long[]> read, CancellationToken cancellationToken)
    {
        try
        {
            return await TokenWait.WaitAsync(read, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Forget(read);
            throw;
        }
    }

    /// <summary>Lets a read of versions that nobody waited for end unobserved without an unobserved-exception report.</summary>
    private static void Forget(Task<long[]>? read)
    {
        if (read is not null && !read.IsCompletedSuccessfully)
        {
            _ = read.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// Notes the versions of the call's tags before its factory runs, so that an invalidation during the run makes the
    /// stored value a miss. Reuses the versions read beside the entry. False on a fault (logged): the value is then
    /// returned but not stored, since it could not carry its tags.
    /// </summary>
    private bool ObserveTags(ResilientCall call)
    {
        if (call.TagNames is not { } names)
        {
            return true;
        }

        try
        {
            var store = TagStore.Of(call.Cache);
            call.Observed = call.Prefetched is { } tokens ? store.FromRead(names, tokens) ?? store.Observe(names) : store.Observe(names);
            return true;
        }
        catch (Exception ex) when (IsFault(ex, CancellationToken.None))
        {
            ReadFailed(call.Cache, ex, call.Key);
            return false;
        }
    }

    /// <inheritdoc cref="ObserveTags"/>
    private async ValueTask<bool> ObserveTagsAsync(ResilientCall call, CancellationToken cancellationToken)
    {
        if (call.TagNames is not { } names)
        {
            return true;
        }

        try
        {
            var store = TagStore.Of(call.Cache);
            call.Observed = call.Prefetched is { } tokens
                ? store.FromRead(names, tokens) ?? await store.ObserveAsync(names, cancellationToken).ConfigureAwait(false)
                : await store.ObserveAsync(names, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (IsFault(ex, cancellationToken))
        {
            ReadFailed(call.Cache, ex, call.Key);
            return false;
        }
    }

    /// <summary>The life a stamped write gives its entry, as tag records take it: <c>null</c> for no expiry.</summary>
    private static TimeSpan? LifeOf(TimeSpan? physicalTtl) => physicalTtl is { } ttl && ttl > TimeSpan.Zero ? ttl : null;
}
