using Cached.Runtime;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Runtime;

/// <summary>
/// An outsider's review of the refusal of a body's call for its own key: calls that would not wait for themselves
/// must go through, calls that would must fail fast instead of hanging, and a refused call leaves the cache usable.
/// </summary>
[NonParallelizable]
public sealed class OutsiderReentryReviewTests
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(5);

    private SimpleMemoryCache _cache = null!;

    [SetUp]
    public void SetUp() => _cache = new SimpleMemoryCache();

    [TearDown]
    public void TearDown() => _cache.Dispose();

    private CachedMethod<int> Method(string name = "Tests.Review.Get", double failSafe = 0, double eagerRefresh = 0, double ttl = 10, ICache? cache = null)
        => new(new CachedMethodOptions { Method = name, CacheFactory = () => cache ?? _cache, Ttl = ttl, FailSafe = failSafe, EagerRefresh = eagerRefresh });

    /// <summary>Runs <paramref name="call"/> off the test thread; fails rather than hangs when it never ends.</summary>
    private static async Task<(T? Value, Exception? Failure)> Outcome<T>(Func<Task<T>> call)
    {
        var running = Task.Run(call);
        var ended = await Task.WhenAny(running, Task.Delay(s_patience));
        Assert.That(ended, Is.SameAs(running), "the call never ended: it waited for itself");
        return running.IsCompletedSuccessfully ? (running.Result, null) : (default, running.Exception!.InnerException);
    }

    [Test]
    public async Task An_async_Fibonacci_that_awaits_between_its_recursive_calls_computes_and_caches_every_key()
    {
        var method = Method();
        var calls = 0;
        async ValueTask<int> Fib(int n, CancellationToken token)
        {
            Interlocked.Increment(ref calls);
            await Task.Yield();
            if (n < 2)
            {
                return n;
            }

            var a = await method.InvokeAsync("fib" + (n - 1), n - 1, Fib, skipWhen: null, token);
            await Task.Delay(1, token);
            var b = await method.InvokeAsync("fib" + (n - 2), n - 2, Fib, skipWhen: null, token);
            return a + b;
        }

        var (value, failure) = await Outcome(() => method.InvokeAsync("fib10", 10, Fib, skipWhen: null, CancellationToken.None).AsTask());

        Assert.That(failure, Is.Null);
        Assert.That(value, Is.EqualTo(55));
        Assert.That(calls, Is.EqualTo(11), "each key computed once");
        Assert.That(_cache.Get<int>("fib7"), Is.EqualTo(13));
    }

    [Test]
    public async Task A_body_calling_another_method_instance_for_the_same_key_string_is_not_refused([Values] bool async)
    {
        var outer = Method("Tests.Review.Outer");
        var inner = Method("Tests.Review.Inner", cache: new SimpleMemoryCache { Namespace = "inner" });
        int Body()
            => async
                ? inner.InvokeAsync("k", 0, static (_, _) => new ValueTask<int>(41), skipWhen: null, CancellationToken.None).AsTask().GetAwaiter().GetResult() + 1
                : inner.Invoke("k", 0, static _ => 41) + 1;

        var (value, failure) = await Outcome(() => async
            ? outer.InvokeAsync("k", 0, (_, _) => new ValueTask<int>(Body()), skipWhen: null, CancellationToken.None).AsTask()
            : Task.FromResult(outer.Invoke("k", 0, _ => Body())));

        Assert.That(failure, Is.Null);
        Assert.That(value, Is.EqualTo(42));
    }

    [Test]
    public async Task A_body_that_catches_the_refusal_still_completes_stores_and_the_next_call_hits([Values] bool async, [Values] bool failSafe, [Values] bool cancellable)
    {
        var method = Method(failSafe: failSafe ? 60 : 0);
        Exception? refused = null;
        var bodies = 0;
        using var source = new CancellationTokenSource();
        var token = cancellable ? source.Token : CancellationToken.None;
        async ValueTask<int> AsyncBody(int _, CancellationToken ct)
        {
            bodies++;
            await Task.Yield();
            try
            {
                await method.InvokeAsync("k", 0, AsyncBody, skipWhen: null, ct).AsTask().WaitAsync(s_patience);
            }
            catch (InvalidOperationException ex)
            {
                refused = ex;
            }

            return 5;
        }

        int SyncBody(int _)
        {
            bodies++;
            try
            {
                method.Invoke("k", 0, SyncBody);
            }
            catch (InvalidOperationException ex)
            {
                refused = ex;
            }

            return 5;
        }

        var (value, failure) = await Outcome(() => async
            ? method.InvokeAsync("k", 0, AsyncBody, skipWhen: null, token).AsTask()
            : Task.FromResult(method.Invoke("k", 0, SyncBody)));

        Assert.That(failure, Is.Null);
        Assert.That(value, Is.EqualTo(5));
        Assert.That(refused, Is.InstanceOf<InvalidOperationException>());
        Assert.That(refused!.Message, Does.Contain("'Tests.Review.Get'").And.Contain("'k'").And.Contain("from within its own body"));
        var again = async
            ? await method.InvokeAsync("k", 0, static (_, _) => new ValueTask<int>(-1), skipWhen: null, CancellationToken.None)
            : method.Invoke("k", 0, static _ => -1);
        Assert.That((again, bodies), Is.EqualTo((5, 1)), "the stored value answers the next call");
    }

    [Test]
    public async Task A_two_level_cache_refuses_a_body_asking_for_its_own_key_and_keeps_working([Values] bool async)
    {
        using var twoLevels = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache());
        var method = Method(cache: twoLevels);
        Exception? refused = null;
        int Body()
        {
            try
            {
                _ = async
                    ? method.InvokeAsync("k", 0, static (_, _) => new ValueTask<int>(-1), skipWhen: null, CancellationToken.None).AsTask().WaitAsync(s_patience).GetAwaiter().GetResult()
                    : method.Invoke("k", 0, static _ => -1);
            }
            catch (InvalidOperationException ex)
            {
                refused = ex;
            }

            return 7;
        }

        // The async body is async, so that its call is caught in its flow (a sync body blocking on an async call is the documented limit).
        var (value, failure) = await Outcome(() => async
            ? method.InvokeAsync("k", 0, async (_, _) => { await Task.Yield(); return Body(); }, skipWhen: null, CancellationToken.None).AsTask()
            : Task.FromResult(method.Invoke("k", 0, _ => Body())));

        Assert.That(failure, Is.Null);
        Assert.That(value, Is.EqualTo(7));
        Assert.That(refused, Is.InstanceOf<InvalidOperationException>());
        Assert.That(twoLevels.Get<int>("k"), Is.EqualTo(7));
        Assert.That(method.Invoke("k", 0, static _ => -1), Is.EqualTo(7));
        Assert.That((((BaseCache)twoLevels.L1).OpenFills, ((BaseCache)twoLevels.L2).OpenFills), Is.EqualTo((0, 0)), "the refused call's read left no fill open");
    }

    [Test]
    public async Task A_MultiCached_batch_body_asking_for_one_of_its_own_keys_does_not_hang([Values] bool async)
    {
        var method = new MultiCachedMethod<int, int>(new CachedMethodOptions { Method = "Tests.Review.GetMany", CacheFactory = () => _cache, Ttl = 10 });
        var depth = 0;
        IEnumerable<KeyValuePair<int, int>> Batch(List<int> keys)
        {
            if (Interlocked.Increment(ref depth) == 1)
            {
                // Asks for its own first key once; the nested call computes it itself.
                _ = method.Invoke([keys[0]], 0, static (_, k) => "m" + k, (_, ks) => Batch(ks));
            }

            return keys.Select(k => KeyValuePair.Create(k, k * 10)).ToList();
        }

        async ValueTask<IEnumerable<KeyValuePair<int, int>>?> BatchAsync(List<int> keys, CancellationToken token)
        {
            await Task.Yield();
            if (Interlocked.Increment(ref depth) == 1)
            {
                _ = await method.InvokeAsync([keys[0]], 0, static (_, k) => "m" + k, (_, ks, ct) => BatchAsync(ks, ct), skipWhen: null, token);
            }

            return keys.Select(k => KeyValuePair.Create(k, k * 10)).ToList();
        }

        var (value, failure) = await Outcome(() => async
            ? method.InvokeAsync([1, 2], 0, static (_, k) => "m" + k, (_, ks, ct) => BatchAsync(ks, ct), skipWhen: null, CancellationToken.None).AsTask()
            : Task.FromResult(method.Invoke([1, 2], 0, static (_, k) => "m" + k, (_, ks) => Batch(ks))));

        Assert.That(failure, Is.Null);
        Assert.That(value, Is.EquivalentTo(new Dictionary<int, int> { [1] = 10, [2] = 20 }));
    }

    [Test]
    public async Task A_GetOrSetAsync_factory_asking_for_its_own_key_synchronously_is_refused()
    {
        var (_, failure) = await Outcome(async () =>
            await _cache.GetOrSetAsync("k", async _ => { await Task.Yield(); return _cache.GetOrSet("k", _ => 1) + 1; }));

        Assert.That(failure, Is.InstanceOf<InvalidOperationException>());
        Assert.That(failure!.Message, Does.Contain("'k'"));
        Assert.That(await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(3)), Is.EqualTo(3), "the key is not left blocked");
    }

    [Test]
    public async Task A_tagged_GetOrSet_factory_asking_for_its_own_key_is_refused([Values] bool async)
    {
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), Tags = ["t"] };
        var (_, failure) = await Outcome(async () => async
            ? await _cache.GetOrSetAsync("k", async ct => { await Task.Yield(); return await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), options, cancellationToken: ct) + 1; }, options)
            : _cache.GetOrSet("k", _ => _cache.GetOrSet("k", _ => 1, options) + 1, options));

        Assert.That(failure, Is.InstanceOf<InvalidOperationException>());
        Assert.That(_cache.GetOrSet("k", _ => 3, options), Is.EqualTo(3));
    }

    [Test]
    public async Task Another_caller_whose_continuation_the_body_runs_inline_joins_the_flight_instead_of_being_refused([Values] bool syncBody)
    {
        var method = Method();
        var gate = new TaskCompletionSource(); // continuations inline, on purpose
        var bodies = 0;
        var other = Task.Run(async () =>
        {
            await gate.Task;
            return await method.InvokeAsync("k", 0, static (_, _) => new ValueTask<int>(-1), skipWhen: null, CancellationToken.None);
        });
        await Task.Delay(100);

        int Body()
        {
            bodies++;
            gate.SetResult();
            return 9;
        }

        var (value, failure) = await Outcome(() => syncBody
            ? Task.FromResult(method.Invoke("k", 0, _ => Body()))
            : method.InvokeAsync("k", 0, (_, _) => new ValueTask<int>(Body()), skipWhen: null, CancellationToken.None).AsTask());

        Assert.That(failure, Is.Null);
        Assert.That(value, Is.EqualTo(9));
        Assert.That(await other.WaitAsync(s_patience), Is.EqualTo(9), "the other caller shares the body's value");
        Assert.That(bodies, Is.EqualTo(1));
    }

    [Test]
    public async Task An_async_body_started_under_SuppressFlow_is_refused_before_its_first_await()
    {
        // With the flow suppressed the body's awaits carry no note (the documented limit): before its first await the
        // body still runs in the caller's context, where the note is.
        var method = Method();
        var depth = 0;
        ValueTask<int> Body(CancellationToken token)
        {
            if (++depth > 1)
            {
                return new ValueTask<int>(1);
            }

            return new ValueTask<int>(method.InvokeAsync("k", 0, (_, t) => Body(t), skipWhen: null, token).AsTask().WaitAsync(s_patience).GetAwaiter().GetResult() + 1);
        }

        var (_, failure) = await Outcome(() =>
        {
            ValueTask<int> pending;
            using (ExecutionContext.SuppressFlow())
            {
                pending = method.InvokeAsync("k", 0, (_, t) => Body(t), skipWhen: null, CancellationToken.None);
            }

            return pending.AsTask();
        });

        Assert.That(failure, Is.InstanceOf<InvalidOperationException>());
    }

    [Test]
    public async Task An_eager_refresh_started_inside_a_body_may_wait_for_that_body_s_key([Values] bool async)
    {
        // Key "b" is past its refresh point. The body of "a" reads "b" (a hit, which starts b's refresh in the
        // background) and goes on without waiting for that refresh. The refresh of "b" asks for "a": it only has to
        // wait for a's body, which does not wait for it, so it gets a's value. The clock is a test's: nothing expires.
        var time = new FakeTimeProvider();
        using var timed = new SimpleMemoryCache { TimeProvider = time };
        var method = Method(eagerRefresh: 0.5, ttl: 10, cache: timed);
        var refreshCalls = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var refreshAsked = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        var refreshing = false;

        object Ask(Func<int> call)
        {
            refreshCalls.TrySetResult();
            try
            {
                return call();
            }
            catch (Exception ex)
            {
                return ex;
            }
        }

        int SyncBody(string key)
        {
            if (key == "a")
            {
                _ = method.Invoke("b", "b", SyncBody);
                refreshCalls.Task.Wait(s_patience);
                Thread.Sleep(50);
                return 10;
            }

            if (Volatile.Read(ref refreshing))
            {
                refreshAsked.TrySetResult(Ask(() => method.Invoke("a", "a", SyncBody)));
            }

            return 20;
        }

        async ValueTask<int> AsyncBody(string key, CancellationToken token)
        {
            await Task.Yield();
            if (key == "a")
            {
                _ = await method.InvokeAsync("b", "b", AsyncBody, skipWhen: null, token);
                await refreshCalls.Task.WaitAsync(s_patience, CancellationToken.None);
                await Task.Delay(50, CancellationToken.None);
                return 10;
            }

            if (Volatile.Read(ref refreshing))
            {
                refreshAsked.TrySetResult(Ask(() => method.InvokeAsync("a", "a", AsyncBody, skipWhen: null, CancellationToken.None).AsTask().WaitAsync(s_patience).GetAwaiter().GetResult()));
            }

            return 20;
        }

        Task<int> Call(string key) => async
            ? method.InvokeAsync(key, key, AsyncBody, skipWhen: null, CancellationToken.None).AsTask()
            : Task.Run(() => method.Invoke(key, key, SyncBody));

        Assert.That(await Call("b"), Is.EqualTo(20));
        time.Advance(TimeSpan.FromSeconds(6));
        Volatile.Write(ref refreshing, true);

        var (value, failure) = await Outcome(() => Call("a"));
        var asked = await refreshAsked.Task.WaitAsync(s_patience);

        Assert.That(failure, Is.Null);
        Assert.That(value, Is.EqualTo(10));
        Assert.That(asked, Is.EqualTo(10), "the refresh of b got a's value (it got: " + asked + ")");
    }

    [Test]
    public async Task An_eager_refresh_whose_body_asks_for_its_own_key_after_the_entry_expired_is_refused_instead_of_hanging([Values] bool async)
    {
        // A refresh's call for its own key is a hit while the entry lives; once it has expired the call would join the
        // refresh's own flight and wait for itself.
        var time = new FakeTimeProvider();
        using var timed = new SimpleMemoryCache { TimeProvider = time };
        var method = Method(eagerRefresh: 0.5, ttl: 10, cache: timed);
        var refreshing = 0;
        var expired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inner = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);

        bool IsTheRefresh() => Volatile.Read(ref refreshing) == 1 && Interlocked.Exchange(ref refreshing, 2) == 1;

        async ValueTask<int> AsyncBody(int _, CancellationToken token)
        {
            if (IsTheRefresh())
            {
                await expired.Task.WaitAsync(s_patience, CancellationToken.None);
                try
                {
                    inner.TrySetResult(await method.InvokeAsync("k", 0, static (_, _) => new ValueTask<int>(30), skipWhen: null, CancellationToken.None).AsTask().WaitAsync(s_patience));
                }
                catch (Exception ex)
                {
                    inner.TrySetResult(ex);
                }
            }

            return 1;
        }

        int SyncBody(int _)
        {
            if (IsTheRefresh())
            {
                expired.Task.Wait(s_patience);
                try
                {
                    // On the refresh's own thread: if this joined the refresh's flight, it would block for good.
                    inner.TrySetResult(method.Invoke("k", 0, static _ => 30));
                }
                catch (Exception ex)
                {
                    inner.TrySetResult(ex);
                }
            }

            return 1;
        }

        Task<int> Call() => async
            ? method.InvokeAsync("k", 0, AsyncBody, skipWhen: null, CancellationToken.None).AsTask()
            : Task.Run(() => method.Invoke("k", 0, SyncBody));

        Assert.That(await Call(), Is.EqualTo(1));
        time.Advance(TimeSpan.FromSeconds(6));
        Volatile.Write(ref refreshing, 1);
        Assert.That(await Call(), Is.EqualTo(1), "a hit past the refresh point, which starts the refresh");
        time.Advance(TimeSpan.FromSeconds(5));
        expired.SetResult();

        var ended = await Task.WhenAny(inner.Task, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.That(ended, Is.SameAs(inner.Task), "the refresh's call for its own key never ended: it waited for itself");
        Assert.That(await inner.Task, Is.InstanceOf<InvalidOperationException>(), "refused, as a body's call for its own key is");
    }
}
