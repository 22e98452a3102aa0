using System.ComponentModel;
using System.Runtime.CompilerServices;
using Cached.Capabilities;
using Cached.Resilience;
using Cached.Pipeline;

namespace Cached.Runtime;

/// <summary>
/// The behaviour of one generated <see cref="CachedAttribute"/> method, shared by all its calls: read the cache, on a
/// miss make one call of the body per key in this process (single-flight; with a lease, one across processes), store
/// the result, and survive every cache fault (fail-open). A cache whose serializer cannot carry the result type is
/// reported once and then left alone: the method runs uncached on it. Used by generated code.
/// </summary>
/// <typeparam name="TResult">The method's result type (<c>T</c> of <c>Task&lt;T&gt;</c>/<c>ValueTask&lt;T&gt;</c>).</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed partial class CachedMethod<TResult>
{
    private static readonly TimeSpan s_firstLeasePoll = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan s_lastLeasePoll = TimeSpan.FromMilliseconds(100);

    private readonly CachedMethodOptions _options;
    private readonly EntryPolicy _policy;
    private readonly FlightBoard _flights = new();
    private CacheResolver _cache;
    private TypeRefusal _refusal;

    // The leaders that stored a result. A caller notes their count before its read; if a leader of its key's stripe
    // stored by the time the caller leads a flight, it may have stored this very key after the read missed, so the
    // leader reads once more.
    private FillCompletions _completions; // a mutable struct: never copy it

    /// <summary>Creates the shared state of one method.</summary>
    public CachedMethod(CachedMethodOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _policy = options.Policy;
    }

    /// <summary>The namespace the entries live in; <c>null</c> for the cache's own.</summary>
    internal string? Namespace => _options.Namespace;

    /// <summary>The cache this method uses, resolved on first use.</summary>
    public ICache CurrentCache => _cache.Get(_options);

    /// <summary>The cache's name in logs; only read on a fault.</summary>
    private string LogAlias => _options.DescribeCache(CurrentCache);

    /// <summary>Runs a sync cached method.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0027:API with optional parameter(s) should have the most parameters amongst its public overloads", Justification = "Called by generated code, which passes every argument; the optional one serves hand-written tests.")]
    public TResult Invoke<TState>(string key, TState state, Func<TState, TResult> body, Func<TState, TResult, bool>? skipWhen = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(body);
        return Invoke(key, state, body, skipWhen, in _policy);
    }

    /// <summary>Runs a sync read-through call with <paramref name="policy"/>: <c>GetOrSet</c>, and generated methods.</summary>
    internal TResult Invoke<TState>(string key, TState state, Func<TState, TResult> body, Func<TState, TResult, bool>? skipWhen, in EntryPolicy policy)
    {
        var completions = _completions.Note();
        var read = ReadBySpan(key, in policy, out var hit, out var refresh);
        if (read != SpanRead.Hit)
        {
            return Invoke(key.AsSpan(), key, state, body, skipWhen, read, completions, in policy);
        }

        if (refresh)
        {
            StartRefresh(CurrentCache, key, state, body, skipWhen, completions, hit, in policy);
        }

        return hit;
    }

    /// <summary>
    /// Runs a sync cached method whose key was built in a stack buffer: a hit on an in-process cache makes no key
    /// string; the string is made only when the ordinary path needs it.
    /// </summary>
    public TResult Invoke<TState>(ReadOnlySpan<char> key, TState state, Func<TState, TResult> body, Func<TState, TResult, bool>? skipWhen)
    {
        ArgumentNullException.ThrowIfNull(body);
        var completions = _completions.Note();
        var read = ReadBySpan(key, in _policy, out var hit, out var refresh);
        if (read != SpanRead.Hit)
        {
            return Invoke(key, null, state, body, skipWhen, read, completions, in _policy);
        }

        if (refresh)
        {
            StartRefresh(CurrentCache, key.ToString(), state, body, skipWhen, completions, hit, in _policy);
        }

        return hit;
    }

    /// <summary>
    /// The ordinary path, after the span read of the entry point: <paramref name="read"/> is its answer (a clean miss
    /// needs no second read) and <paramref name="completions"/> the count noted before it.
    /// </summary>
    private TResult Invoke<TState>(ReadOnlySpan<char> keySpan, string? key, TState state, Func<TState, TResult> body, Func<TState, TResult, bool>? skipWhen, SpanRead read, long completions, in EntryPolicy policy)
    {
        var cache = CurrentCache;
        if (_refusal.Refuses(cache))
        {
            return body(state);
        }

        if (policy.IsResilient)
        {
            return InvokeResilient(cache, key ?? keySpan.ToString(), state, body, skipWhen, read == SpanRead.Miss ? completions : null, in policy);
        }

        long? seen = null;
        FillTicket? opened = null;
        if (!CacheScope.IsReadSkipped)
        {
            key ??= keySpan.ToString();
            if (read == SpanRead.Miss)
            {
                seen = completions;
            }
            else
            {
                // On two levels the read opens the key's fill when L2 lacks it too, for the leader to fill through.
                if (cache is MultiLevelCache twoLevels ? TryReadOrOpen(twoLevels, key, out var cached, out var faulted, out opened) : TryRead(cache, key, out cached, out faulted))
                {
                    return cached!;
                }

                // A leader may read once more after a clean miss, never after a fault: a sick cache is not tried twice.
                seen = faulted ? null : completions;
            }
        }

        key ??= keySpan.ToString();
        ThrowIfOwnKeyInScope(key);
        var startedOver = false;
        while (true)
        {
            var flight = new Flight(key);
            var leader = Board(flight);
            if (leader != flight)
            {
                // The fill this caller's read opened is its leader's to make: the fence stays, for the leader's fill
                // (given up before a refusal too, which must not leave a ticket open).
                opened?.Forgo();
                opened = null;
                ThrowIfOwnFlight(key, blocks: true);

                // The leader runs on its own thread or its own awaits, so blocking here cannot deadlock.
                TResult shared;
                // Counted for good: this caller cannot cancel, so an async leader that leaves no longer stops the body.
                if (!leader.TryJoin(CancellationToken.None, out _))
                {
                    // Every caller left it just now: a new flight.
                    continue;
                }

                try
                {
                    shared = leader.Task.GetAwaiter().GetResult();
                }
                catch (OperationCanceledException) when (leader.Task.IsCanceled && !IsStopping(cache))
                {
                    // An async leader (GetOrSetAsync shares a key's flight with GetOrSet) whose body stopped by its own
                    // token before this caller joined. This caller has no token, so the cancellation is not its own: take
                    // over. Not when the cache's dispose cancelled it: its body may still run, keeping it on the board,
                    // and this caller would find it again and again, spinning.
                    continue;
                }

                if (!leader.Stale || startedOver)
                {
                    return shared;
                }

                // An invalidation overtook that flight, perhaps before this call began: compute anew, once.
                startedOver = true;
                seen = null;
                continue;
            }

            try
            {
                var value = Lead(cache, key, state, body, skipWhen, seen, flight, in policy, FillAfterBoarding(flight, opened));
                flight.TrySetResult(value);
                return value;
            }
            catch (Exception ex)
            {
                Fail(flight, ex, CancellationToken.None);
                throw;
            }
            finally
            {
                Land(flight);
            }
        }
    }

    /// <summary>Runs an async cached method. A hit completes synchronously without allocating.</summary>
    public ValueTask<TResult> InvokeAsync<TState>(string key, TState state, Func<TState, CancellationToken, ValueTask<TResult>> body, Func<TState, TResult, bool>? skipWhen, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(body);
        return InvokeAsync(key, state, body, skipWhen, in _policy, cancellationToken);
    }

    /// <summary>Runs an async read-through call with <paramref name="policy"/>: <c>GetOrSetAsync</c>, and generated methods.</summary>
    internal ValueTask<TResult> InvokeAsync<TState>(string key, TState state, Func<TState, CancellationToken, ValueTask<TResult>> body, Func<TState, TResult, bool>? skipWhen, in EntryPolicy policy, CancellationToken cancellationToken)
    {
        var completions = _completions.Note();
        var read = ReadBySpanUnlessCancelled(key, in policy, out var hit, out var refresh, cancellationToken);
        if (read != SpanRead.Hit)
        {
            return InvokeAsync(key.AsSpan(), key, state, body, skipWhen, read, completions, policy, cancellationToken);
        }

        if (refresh)
        {
            StartRefresh(CurrentCache, key, state, body, skipWhen, completions, hit, in policy);
        }

        return new ValueTask<TResult>(hit);
    }

    /// <summary>
    /// Runs an async cached method whose key was built in a stack buffer: a hit on an in-process cache completes
    /// synchronously and allocates nothing, not even the key string.
    /// </summary>
    public ValueTask<TResult> InvokeAsync<TState>(ReadOnlySpan<char> key, TState state, Func<TState, CancellationToken, ValueTask<TResult>> body, Func<TState, TResult, bool>? skipWhen, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        var completions = _completions.Note();
        var read = ReadBySpanUnlessCancelled(key, in _policy, out var hit, out var refresh, cancellationToken);
        if (read != SpanRead.Hit)
        {
            return InvokeAsync(key, null, state, body, skipWhen, read, completions, _policy, cancellationToken);
        }

        if (refresh)
        {
            StartRefresh(CurrentCache, key.ToString(), state, body, skipWhen, completions, hit, in _policy);
        }

        return new ValueTask<TResult>(hit);
    }

    /// <inheritdoc cref="Invoke{TState}(ReadOnlySpan{char}, string?, TState, Func{TState, TResult}, Func{TState, TResult, bool}?, SpanRead, long, in EntryPolicy)"/>
    private ValueTask<TResult> InvokeAsync<TState>(ReadOnlySpan<char> keySpan, string? key, TState state, Func<TState, CancellationToken, ValueTask<TResult>> body, Func<TState, TResult, bool>? skipWhen, SpanRead read, long completions, in EntryPolicy policy, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<TResult>(cancellationToken);
        }

        if (IsOwnKey(keySpan))
        {
            // Refused before the read, which on a remote cache would only delay the same refusal at the join.
            return ValueTask.FromException<TResult>(OwnKey(keySpan));
        }

        var cache = CurrentCache;
        if (_refusal.Refuses(cache))
        {
            return Uncached(state, body, cancellationToken);
        }

        if (policy.IsResilient)
        {
            return InvokeResilientAsync(cache, key ?? keySpan.ToString(), state, body, skipWhen, read == SpanRead.Miss ? completions : null, policy, cancellationToken);
        }

        if (CacheScope.IsReadSkipped)
        {
            return MissAsync(cache, key ?? keySpan.ToString(), state, body, skipWhen, seen: null, policy.Fill, opened: null, cancellationToken);
        }

        if (read == SpanRead.Miss)
        {
            return MissAsync(cache, key ?? keySpan.ToString(), state, body, skipWhen, completions, policy.Fill, opened: null, cancellationToken);
        }

        key ??= keySpan.ToString();
        if (cache is MultiLevelCache twoLevels)
        {
            return ReadOrOpenThenMissAsync(twoLevels, completions, key, state, body, skipWhen, policy.Fill, cancellationToken);
        }

        if (cache is BaseCache ours)
        {
            // The miss, or the read's fault, follows in the read's own frame: a remote hit costs no frame of this class.
            return ours.ReadThenAsync<TResult, MissAfterRead<TState>, TResult>(key, _options.Namespace, serializer: null, new MissAfterRead<TState>(this, cache, key, state, body, skipWhen, completions, policy.Fill, cancellationToken), cancellationToken);
        }

        ValueTask<CacheResult<TResult>> ordinary;
        try
        {
            ordinary = StartRead(cache, key, cancellationToken);
        }
        catch (Exception ex) when (IsFault(ex, cancellationToken))
        {
            ReadFailed(cache, ex, key);
            return MissAsync(cache, key, state, body, skipWhen, seen: null, policy.Fill, opened: null, cancellationToken);
        }

        if (!ordinary.IsCompletedSuccessfully)
        {
            return ReadThenMissAsync(ordinary, completions, cache, key, state, body, skipWhen, policy.Fill, cancellationToken);
        }

        var result = ordinary.Result;
        NoteAnswer(cache);
        return result.Found
            ? new ValueTask<TResult>(result.Value!)
            : MissAsync(cache, key, state, body, skipWhen, completions, policy.Fill, opened: null, cancellationToken);
    }

    /// <summary>The body alone, its exceptions in the task as on every other path.</summary>
    private static ValueTask<TResult> Uncached<TState>(TState state, Func<TState, CancellationToken, ValueTask<TResult>> body, CancellationToken cancellationToken)
    {
        try
        {
            return body(state, cancellationToken);
        }
        catch (Exception ex)
        {
            return ValueTask.FromException<TResult>(ex);
        }
    }

    // The frame of a remote hit, and of a miss (FlyAsync), comes from a pool: a ValueTask is awaited once (the .NET rule, as
    // for sockets and channels), and a Task-returning method gets its task through AsTask, which consumes it once.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<TResult> ReadThenMissAsync<TState>(ValueTask<CacheResult<TResult>> read, long completions, ICache cache, string key, TState state, Func<TState, CancellationToken, ValueTask<TResult>> body, Func<TState, TResult, bool>? skipWhen, FillPolicy policy, CancellationToken cancellationToken)
    {
        long? seen = completions;
        try
        {
            var result = await read.ConfigureAwait(false);
            NoteAnswer(cache);
            if (result.Found)
            {
                return result.Value!;
            }
        }
        catch (Exception ex) when (IsFault(ex, cancellationToken))
        {
            ReadFailed(cache, ex, key);
            seen = null;
        }

        return await MissAsync(cache, key, state, body, skipWhen, seen, policy, opened: null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The read of a two-level cache, which opens the key's fill in L2's round trip when the key is missing everywhere
    /// (<see cref="MultiLevelCache.TryGetOrOpenFillAsync{T}"/>), then the miss: its leader fills through that ticket, and
    /// a miss costs one round trip less.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<TResult> ReadOrOpenThenMissAsync<TState>(MultiLevelCache cache, long completions, string key, TState state, Func<TState, CancellationToken, ValueTask<TResult>> body, Func<TState, TResult, bool>? skipWhen, FillPolicy policy, CancellationToken cancellationToken)
    {
        long? seen = completions;
        FillTicket? opened = null;
        try
        {
            (var result, opened) = await cache.TryGetOrOpenFillAsync<TResult>(key, _options.Namespace, cancellationToken).ConfigureAwait(false);
            NoteAnswer(cache);
            if (result.Found)
            {
                return result.Value!;
            }
        }
        catch (Exception ex) when (IsFault(ex, cancellationToken))
        {
            ReadFailed(cache, ex, key);
            seen = null;
        }

        return await MissAsync(cache, key, state, body, skipWhen, seen, policy, opened, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A miss in full: join the key's flight or lead one (see <see cref="MissAsync"/> for the leader whose token cannot cancel, which boards there).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<TResult> FlyAsync<TState>(ICache cache, string key, TState state, Func<TState, CancellationToken, ValueTask<TResult>> body, Func<TState, TResult, bool>? skipWhen, long? seen, FillPolicy policy, FillTicket? opened, CancellationToken cancellationToken)
    {
        var startedOver = false;
        while (true)
        {
            var flight = new Flight(key);
            var leader = Board(flight);
            if (leader != flight)
            {
                // The fill this caller's read opened is its leader's to make: the fence stays, for the leader's fill
                // (given up before a refusal too, which must not leave a ticket open).
                opened?.Forgo();
                opened = null;
                ThrowIfOwnFlight(key, blocks: false);
                if (!leader.TryJoin(cancellationToken, out var waiting))
                {
                    // Every caller left it just now: a new flight.
                    continue;
                }

                TResult shared;
                try
                {
                    shared = await TokenWait.WaitAsync(leader.Task, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (leader.Task.IsCanceled && !cancellationToken.IsCancellationRequested && !IsStopping(cache))
                {
                    // Every caller that waited for it cancelled, and its body stopped; not ours: take over (not after
                    // the cache's dispose, as in Invoke).
                    continue;
                }
                finally
                {
                    leader.EndWait(waiting, cancellationToken);
                }

                if (!leader.Stale || startedOver)
                {
                    return shared;
                }

                // An invalidation overtook that flight, perhaps before this call began: compute anew, once.
                startedOver = true;
                seen = null;
                continue;
            }

            opened = FillAfterBoarding(flight, opened);
            return cancellationToken.CanBeCanceled
                ? await LeadForAllAsync(cache, key, state, body, skipWhen, seen, flight, policy, opened, cancellationToken).ConfigureAwait(false)
                : await LeadAsync(cache, key, state, body, skipWhen, seen, flight, policy, opened, cancellationToken).ConfigureAwait(false);
        }
    }
}
