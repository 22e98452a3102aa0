using System.Diagnostics;
using Cached.Runtime;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Runtime;

/// <summary>
/// Single-flight in one process and the stampede lease across "processes" (separate <see cref="CachedMethod{TResult}"/>
/// instances sharing one cache), as aiocache's <c>cached_stampede</c> (checks 93-98). A lease runs out on the
/// cache's clock, a <see cref="FakeTimeProvider"/> that only the test moves: a lease that must not run out never
/// does, however slow the machine, and one that must is run out by the test. Waiting for another thread (a poll, a
/// body call) is bounded by <see cref="s_limit"/>, which only ends a wait that would otherwise hang.
/// </summary>
public sealed class CachedMethodConcurrencyTests : RecordedLogsFixture
{
    private const string Method = "Tests.Service.GetReport";
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(5);

    private readonly FakeTimeProvider _time = new();

    private SimpleMemoryCache LeaseCache(CountingPlugin? gets = null)
        => new() { TimeProvider = _time, Plugins = gets is null ? [] : [gets] };

    private static CachedMethod<T> MethodOn<T>(ICache cache, double lease = 0, string? @namespace = null)
        => new(new CachedMethodOptions { Method = Method, CacheFactory = () => cache, Lease = lease, Namespace = @namespace });

    private static void WaitUntil(Func<bool> condition, string what) => Waits.Until(condition, what, s_limit);

    private static void WaitUntilAllBlocked(IReadOnlyList<Thread> threads) => Waits.UntilAllBlocked(threads, s_limit);

    // ---- single-flight ----

    [Test]
    public async Task One_hundred_concurrent_async_callers_on_a_cold_key_make_one_body_call_and_share_its_result()
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<object>(cache);
        var calls = new Calls();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var joined = 0;

        var callers = Enumerable.Range(0, 100).Select(_ => Task.Run(() =>
        {
            var pending = method.InvokeAsync("k", (calls, release), static async (s, ct) =>
            {
                s.calls.Increment();
                await s.release.Task;
                return new object();
            }, null, CancellationToken.None).AsTask();
            Interlocked.Increment(ref joined);
            return pending;
        })).ToArray();

        WaitUntil(() => Volatile.Read(ref joined) == 100, "all callers have started");
        Assert.That(calls.Count, Is.EqualTo(1));
        Assert.That(callers.Any(c => c.IsCompleted), Is.False);

        release.SetResult();
        var results = await Task.WhenAll(callers).WaitAsync(s_limit);

        Assert.That(calls.Count, Is.EqualTo(1));
        Assert.That(results, Has.All.SameAs(results[0]));
        Assert.That(cache.Get<object>("k"), Is.SameAs(results[0]));
    }

    [Test]
    public void Thirty_two_concurrent_sync_callers_on_a_cold_key_make_one_body_call_and_share_its_result()
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<object>(cache);
        var calls = new Calls();
        using var gate = new ManualResetEventSlim();
        var results = new object?[32];
        var errors = new Exception?[32];

        var threads = Enumerable.Range(0, 32).Select(i => new Thread(() =>
        {
            try
            {
                results[i] = method.Invoke("k", (calls, gate), static s =>
                {
                    s.calls.Increment();
                    s.gate.Wait(s_limit);
                    return new object();
                });
            }
            catch (Exception ex)
            {
                errors[i] = ex;
            }
        }) { IsBackground = true }).ToArray();

        foreach (var thread in threads)
        {
            thread.Start();
        }

        WaitUntil(() => calls.Count >= 1, "the body has started");
        WaitUntilAllBlocked(threads);
        Assert.That(calls.Count, Is.EqualTo(1));

        gate.Set();
        Assert.That(threads.All(t => t.Join(s_limit)), Is.True);

        Assert.That(errors, Has.All.Null);
        Assert.That(calls.Count, Is.EqualTo(1));
        Assert.That(results, Has.All.SameAs(results[0]));
        Assert.That(results[0], Is.Not.Null);
    }

    [Test]
    public async Task Concurrent_callers_on_different_keys_do_not_share_a_flight()
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<string>(cache);
        var calls = new Calls();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Func<(Calls calls, TaskCompletionSource release), CancellationToken, ValueTask<string>> body = static async (s, ct) =>
        {
            var n = s.calls.Increment();
            await s.release.Task;
            return "v" + n;
        };
        var a = method.InvokeAsync("a", (calls, release), body, null, CancellationToken.None).AsTask();
        var b = method.InvokeAsync("b", (calls, release), body, null, CancellationToken.None).AsTask();

        Assert.That(calls.Count, Is.EqualTo(2), "both keys run their body before either completes");
        release.SetResult();
        var results = await Task.WhenAll(a, b).WaitAsync(s_limit);

        Assert.That(results, Is.EquivalentTo(new[] { "v1", "v2" }));
        Assert.That(cache.Get<string>("a"), Is.EqualTo(results[0]));
        Assert.That(cache.Get<string>("b"), Is.EqualTo(results[1]));
    }

    [Test]
    public async Task When_the_leader_body_throws_the_waiters_get_the_same_exception_and_a_later_call_retries()
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<string>(cache);
        var calls = new Calls();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var boom = new InvalidOperationException("boom");

        var callers = Enumerable.Range(0, 10).Select(_ => method.InvokeAsync("k", (calls, release, boom), static async (s, ct) =>
        {
            s.calls.Increment();
            await s.release.Task;
            throw s.boom;
        }, null, CancellationToken.None).AsTask()).ToArray();

        Assert.That(calls.Count, Is.EqualTo(1));
        release.SetResult();
        await Task.WhenAny(Task.WhenAll(callers), Task.Delay(s_limit));

        foreach (var caller in callers)
        {
            Assert.That(caller.IsFaulted, Is.True);
            Assert.That(caller.Exception!.InnerException, Is.SameAs(boom));
        }

        Assert.That(calls.Count, Is.EqualTo(1));
        Assert.That(cache.Exists("k"), Is.False);

        var later = await method.InvokeAsync("k", calls, static (s, ct) => { s.Increment(); return new ValueTask<string>("ok"); }, null, CancellationToken.None);
        Assert.That(later, Is.EqualTo("ok"));
        Assert.That(calls.Count, Is.EqualTo(2));
    }

    [Test]
    public void When_the_sync_leader_body_throws_the_blocked_waiters_get_the_same_exception_and_a_later_call_retries()
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<string>(cache);
        var calls = new Calls();
        using var gate = new ManualResetEventSlim();
        var boom = new InvalidOperationException("boom");
        var errors = new Exception?[4];

        var threads = Enumerable.Range(0, 4).Select(i => new Thread(() =>
        {
            try
            {
                method.Invoke("k", (calls, gate, boom), static s =>
                {
                    s.calls.Increment();
                    s.gate.Wait(s_limit);
                    throw s.boom;
                });
            }
            catch (Exception ex)
            {
                errors[i] = ex;
            }
        }) { IsBackground = true }).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        WaitUntil(() => calls.Count >= 1, "the body has started");
        WaitUntilAllBlocked(threads);
        gate.Set();
        Assert.That(threads.All(t => t.Join(s_limit)), Is.True);

        Assert.That(errors, Has.All.SameAs(boom));
        Assert.That(calls.Count, Is.EqualTo(1));
        Assert.That(method.Invoke("k", calls, static s => { s.Increment(); return "ok"; }), Is.EqualTo("ok"));
        Assert.That(calls.Count, Is.EqualTo(2));
    }

    [Test]
    public async Task A_body_that_cancels_itself_fails_every_waiter_of_its_flight_with_one_body_call()
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<string>(cache);
        var calls = new Calls();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var timeout = new OperationCanceledException("the HTTP request timed out");

        Func<(Calls calls, TaskCompletionSource release, OperationCanceledException timeout), CancellationToken, ValueTask<string>> body
            = static async (s, _) =>
            {
                s.calls.Increment();
                await s.release.Task;
                throw s.timeout;
            };
        var callers = Enumerable.Range(0, 20)
            .Select(_ => method.InvokeAsync("k", (calls, release, timeout), body, null, CancellationToken.None).AsTask())
            .ToList();
        // Each call has read, missed and joined the one flight before InvokeAsync returned.
        Assert.That(callers.Any(static c => c.IsCompleted), Is.False);
        Assert.That(calls.Count, Is.EqualTo(1));

        release.SetResult();
        foreach (var caller in callers)
        {
            Assert.That(Assert.CatchAsync<OperationCanceledException>(async () => await caller.WaitAsync(s_limit)), Is.SameAs(timeout));
        }

        Assert.That(calls.Count, Is.EqualTo(1), "no waiter started the body again");
    }

    [Test]
    public void A_sync_body_that_cancels_itself_fails_every_blocked_waiter_with_one_body_call()
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<string>(cache);
        var calls = new Calls();
        using var gate = new ManualResetEventSlim();
        var timeout = new OperationCanceledException("the HTTP request timed out");
        var errors = new Exception?[4];

        var threads = Enumerable.Range(0, 4).Select(i => new Thread(() =>
        {
            try
            {
                method.Invoke("k", (calls, gate, timeout), static s =>
                {
                    s.calls.Increment();
                    s.gate.Wait(s_limit);
                    throw s.timeout;
                });
            }
            catch (Exception ex)
            {
                errors[i] = ex;
            }
        }) { IsBackground = true }).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        WaitUntil(() => calls.Count >= 1, "the body has started");
        WaitUntilAllBlocked(threads);
        gate.Set();
        Assert.That(threads.All(t => t.Join(s_limit)), Is.True);

        Assert.That(errors, Has.All.SameAs(timeout));
        Assert.That(calls.Count, Is.EqualTo(1));
    }

    [Test]
    public async Task Cancelling_the_leader_token_ends_its_wait_at_once_and_the_body_goes_on_for_a_waiter_with_a_live_token()
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<string>(cache);
        var calls = new Calls();
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var tokens = new System.Collections.Concurrent.ConcurrentQueue<CancellationToken>();
        using var leaderCancel = new CancellationTokenSource();

        Func<(Calls calls, TaskCompletionSource<string> release, System.Collections.Concurrent.ConcurrentQueue<CancellationToken> tokens), CancellationToken, ValueTask<string>> body = static async (s, ct) =>
        {
            s.calls.Increment();
            s.tokens.Enqueue(ct);
            return await s.release.Task.WaitAsync(ct);
        };
        var leader = method.InvokeAsync("k", (calls, release, tokens), body, null, leaderCancel.Token).AsTask();
        var waiter = method.InvokeAsync("k", (calls, release, tokens), body, null, CancellationToken.None).AsTask();
        Assert.That(calls.Count, Is.EqualTo(1));

        leaderCancel.Cancel();
        Assert.CatchAsync<OperationCanceledException>(async () => await leader.WaitAsync(s_limit));
        Assert.That(tokens.Single().IsCancellationRequested, Is.False, "the body's token stays live while a caller waits");
        Assert.That(waiter.IsCompleted, Is.False);

        release.SetResult("v");
        Assert.That(await waiter.WaitAsync(s_limit), Is.EqualTo("v"));
        Assert.That(calls.Count, Is.EqualTo(1), "one body call: the waiter was not made to run it again");
        Assert.That(cache.Get<string>("k"), Is.EqualTo("v"));
    }

    [Test]
    public async Task A_cancelled_leader_leaves_at_once_even_when_its_body_ignores_the_token_and_the_result_is_still_stored()
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<string>(cache);
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var leaderCancel = new CancellationTokenSource();

        var leader = method.InvokeAsync("k", release, static async (release, _) => await release.Task, null, leaderCancel.Token).AsTask();
        leaderCancel.Cancel();

        Assert.CatchAsync<OperationCanceledException>(async () => await leader.WaitAsync(s_limit), "not held until the body ends");
        release.SetResult("v");
        WaitUntil(() => cache.Get<string>("k") == "v", "the body's result is stored");
    }

    [Test]
    public async Task A_body_s_throwing_cancellation_callback_does_not_reach_the_caller_who_cancelled()
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<string>(cache);
        using var leaderCancel = new CancellationTokenSource();

        var leader = method.InvokeAsync("k", 0, static async (_, ct) =>
        {
            ct.Register(static () => throw new InvalidOperationException("the body's own callback"));
            await Task.Delay(Timeout.Infinite, ct);
            return "never";
        }, null, leaderCancel.Token).AsTask();

        Assert.DoesNotThrow(leaderCancel.Cancel, "cancelling one's own token does not throw the body's callback");
        Assert.CatchAsync<OperationCanceledException>(async () => await leader.WaitAsync(s_limit));
    }

    [Test]
    public async Task The_body_token_is_cancelled_once_every_caller_waiting_for_it_has_cancelled()
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<string>(cache);
        var calls = new Calls();
        var tokens = new System.Collections.Concurrent.ConcurrentQueue<CancellationToken>();
        using var leaderCancel = new CancellationTokenSource();
        using var waiterCancel = new CancellationTokenSource();

        Func<(Calls calls, System.Collections.Concurrent.ConcurrentQueue<CancellationToken> tokens), CancellationToken, ValueTask<string>> body = static async (s, ct) =>
        {
            s.calls.Increment();
            s.tokens.Enqueue(ct);
            await Task.Delay(Timeout.Infinite, ct);
            return "never";
        };
        var leader = method.InvokeAsync("k", (calls, tokens), body, null, leaderCancel.Token).AsTask();
        var waiter = method.InvokeAsync("k", (calls, tokens), body, null, waiterCancel.Token).AsTask();

        leaderCancel.Cancel();
        Assert.That(tokens.Single().IsCancellationRequested, Is.False, "one caller still waits");
        waiterCancel.Cancel();
        Assert.That(tokens.Single().IsCancellationRequested, Is.True, "nobody waits any more");
        Assert.CatchAsync<OperationCanceledException>(async () => await leader.WaitAsync(s_limit));
        Assert.CatchAsync<OperationCanceledException>(async () => await waiter.WaitAsync(s_limit));
        Assert.That(calls.Count, Is.EqualTo(1));
        Assert.That(cache.Exists("k"), Is.False);
    }

    [Test]
    public async Task With_fail_safe_too_a_cancelled_leader_does_not_stop_the_factory_a_waiter_still_waits_for()
    {
        using var cache = new SimpleMemoryCache();
        var calls = new Calls();
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), FailSafe = TimeSpan.FromMinutes(10) };
        using var leaderCancel = new CancellationTokenSource();

        Func<CancellationToken, ValueTask<string>> factory = async ct =>
        {
            calls.Increment();
            return await release.Task.WaitAsync(ct);
        };
        var leader = cache.GetOrSetAsync("k", factory, options, cancellationToken: leaderCancel.Token).AsTask();
        WaitUntil(() => calls.Count == 1, "the factory runs");
        var waiter = cache.GetOrSetAsync("k", factory, options).AsTask();

        leaderCancel.Cancel();
        Assert.CatchAsync<OperationCanceledException>(async () => await leader.WaitAsync(s_limit));
        release.SetResult("v");
        Assert.That(await waiter.WaitAsync(s_limit), Is.EqualTo("v"));
        Assert.That(calls.Count, Is.EqualTo(1));
    }

    [Test]
    public async Task Cancelling_a_waiter_token_ends_only_its_wait_and_the_leader_completes()
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<string>(cache);
        var calls = new Calls();
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var waiterCancel = new CancellationTokenSource();

        Func<(Calls calls, TaskCompletionSource<string> release), CancellationToken, ValueTask<string>> body = static async (s, ct) =>
        {
            s.calls.Increment();
            return await s.release.Task.WaitAsync(ct);
        };
        var leader = method.InvokeAsync("k", (calls, release), body, null, CancellationToken.None).AsTask();
        var waiter = method.InvokeAsync("k", (calls, release), body, null, waiterCancel.Token).AsTask();

        waiterCancel.Cancel();
        Assert.CatchAsync<OperationCanceledException>(async () => await waiter.WaitAsync(s_limit));
        Assert.That(leader.IsCompleted, Is.False);

        release.SetResult("v");
        Assert.That(await leader.WaitAsync(s_limit), Is.EqualTo("v"));
        Assert.That(calls.Count, Is.EqualTo(1));
    }

    /// <summary>
    /// Runs <paramref name="late"/> on a thread of its own until its first read has missed, then
    /// <paramref name="meanwhile"/> to the end, then lets the late caller go on; returns what the late caller got.
    /// </summary>
    private static string LateCaller(TestBackend backend, Func<string> late, Action meanwhile)
    {
        using var lateReadMissed = new ManualResetEventSlim();
        using var resumeLate = new ManualResetEventSlim();
        var lateThread = 0;
        backend.AfterRead = _ =>
        {
            if (Environment.CurrentManagedThreadId == Volatile.Read(ref lateThread))
            {
                lateReadMissed.Set();
                resumeLate.Wait(s_limit);
            }
        };
        string? lateResult = null;
        var thread = new Thread(() =>
        {
            Volatile.Write(ref lateThread, Environment.CurrentManagedThreadId);
            lateResult = late();
        }) { IsBackground = true };

        thread.Start();
        Assert.That(lateReadMissed.Wait(s_limit), Is.True);
        meanwhile();
        resumeLate.Set();
        Assert.That(thread.Join(s_limit), Is.True);
        return lateResult!;
    }

    [Test]
    public void A_caller_whose_read_missed_while_a_leader_finished_gets_the_stored_value_instead_of_calling_the_body_again()
    {
        // The late caller reads (a miss), then the whole flight of another caller runs and stores its value before
        // the late caller reaches the flight table. It must not run the body a second time: the leader of a new
        // flight should read the cache again (double-checked) before calling the body.
        using var backend = new TestBackend();
        var method = MethodOn<string>(backend);
        var calls = new Calls();
        string? first = null;

        var lateResult = LateCaller(
            backend,
            () => method.Invoke("k", calls, static s => "v" + s.Increment()),
            () => first = method.Invoke("k", calls, static s => "v" + s.Increment()));

        Assert.That(first, Is.EqualTo("v1"));
        Assert.That(lateResult, Is.EqualTo("v1"));
        Assert.That(calls.Count, Is.EqualTo(1));
    }

    /// <summary>A key starting with <paramref name="prefix"/> whose completions are recorded in another stripe than <paramref name="key"/>'s.</summary>
    private static string KeyOfAnotherStripe(string key, string prefix = "other")
        => Enumerable.Range(0, 100).Select(i => prefix + i).First(other => FillCompletions.StripeOf(other) != FillCompletions.StripeOf(key));

    [Test]
    public void A_caller_whose_read_missed_while_a_leader_of_another_key_finished_reads_once()
    {
        // One count of completions for the whole method made the late caller read again whenever any leader stored
        // meanwhile: with 64 callers missing different keys on Redis, 1.98 GETs a miss.
        using var backend = new TestBackend();
        var method = MethodOn<string>(backend);
        var other = KeyOfAnotherStripe("k");

        var lateResult = LateCaller(
            backend,
            () => method.Invoke("k", 0, static _ => "late"),
            () => Assert.That(method.Invoke(other, 0, static _ => "other"), Is.EqualTo("other")));

        Assert.That(lateResult, Is.EqualTo("late"));
        Assert.That(backend.ReadKeys.Count(read => read == "k"), Is.EqualTo(1), "reads of k");
    }

    [Test]
    public async Task An_async_caller_whose_read_missed_while_a_leader_of_another_key_finished_reads_once_and_one_of_its_own_key_twice()
    {
        // The async leader (every remote cache's path): a leader of another stripe's key is no reason to read again;
        // a leader of the same key is, and its value is taken instead of a second body call.
        using var backend = new TestBackend();
        var method = MethodOn<string>(backend);
        var other = KeyOfAnotherStripe("k");
        var same = KeyOfAnotherStripe("k", "same");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Both late reads miss now and answer when the gate opens, after the other callers stored.
        backend.ReadGate = gate.Task;
        backend.LooksUpBeforeGate = true;
        var late = method.InvokeAsync("k", 0, static (_, _) => new ValueTask<string>("late"), null, CancellationToken.None);
        var sameKeyLate = method.InvokeAsync(same, 0, static (_, _) => new ValueTask<string>("second call"), null, CancellationToken.None);
        backend.ReadGate = null;
        Assert.That(await method.InvokeAsync(other, 0, static (_, _) => new ValueTask<string>("other"), null, CancellationToken.None), Is.EqualTo("other"));
        Assert.That(await method.InvokeAsync(same, 0, static (_, _) => new ValueTask<string>("first"), null, CancellationToken.None), Is.EqualTo("first"));
        gate.SetResult();

        Assert.Multiple(async () =>
        {
            Assert.That(await late.AsTask().WaitAsync(s_limit), Is.EqualTo("late"));
            Assert.That(await sameKeyLate.AsTask().WaitAsync(s_limit), Is.EqualTo("first"), "the stored value, not a second body call");
            Assert.That(backend.ReadKeys.Count(read => read == "k"), Is.EqualTo(1), "reads of k");
            Assert.That(backend.ReadKeys.Count(read => read == same), Is.EqualTo(3), "reads of the same key: the late read, the other leader's, the late re-read");
        });
    }

    // ---- stampede lease ----

    [Test]
    public async Task With_a_lease_a_value_stored_under_the_lock_key_does_not_make_callers_wait_and_is_left_alone()
    {
        using var cache = new SimpleMemoryCache();
        cache.Set("sales-lock", "a value named like a lock");
        var method = MethodOn<string>(cache, lease: 600);

        var result = await method.InvokeAsync("sales", 0, static (_, _) => new ValueTask<string>("report"), null, CancellationToken.None)
            .AsTask().WaitAsync(s_limit);

        Assert.That(result, Is.EqualTo("report"), "the call went on without the lease instead of waiting 600 s");
        Assert.That(cache.Get<string>("sales-lock"), Is.EqualTo("a value named like a lock"));
        Assert.That(cache.Get<string>("sales"), Is.EqualTo("report"));
    }

    [Test]
    public async Task With_a_lease_a_lock_entry_exists_while_the_body_runs_and_is_gone_after()
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<string>(cache, lease: 5, @namespace: "reports");
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);

        var pending = method.InvokeAsync("k", release, static (r, ct) => new ValueTask<string>(r.Task), null, CancellationToken.None).AsTask();

        Assert.That(cache.Exists("k-lock", @namespace: "reports"), Is.True);
        release.SetResult("v");
        Assert.That(await pending.WaitAsync(s_limit), Is.EqualTo("v"));
        Assert.That(cache.Exists("k-lock", @namespace: "reports"), Is.False);
        Assert.That(cache.Get<string>("k", @namespace: "reports"), Is.EqualTo("v"));
    }

    [Test]
    public void With_a_lease_a_sync_call_holds_the_lock_entry_while_the_body_runs()
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<string>(cache, lease: 5);
        bool? lockedDuringBody = null;

        var result = method.Invoke("k", (cache, (Action<bool>)(held => lockedDuringBody = held)), static s =>
        {
            s.Item2(s.cache.Exists("k-lock"));
            return "v";
        });

        Assert.That(result, Is.EqualTo("v"));
        Assert.That(lockedDuringBody, Is.True);
        Assert.That(cache.Exists("k-lock"), Is.False);
    }

    [Test]
    public void Without_a_lease_no_lock_entry_is_written()
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<string>(cache, lease: 0);
        bool? lockedDuringBody = null;

        method.Invoke("k", (cache, (Action<bool>)(held => lockedDuringBody = held)), static s =>
        {
            s.Item2(s.cache.Exists("k-lock"));
            return "v";
        });

        Assert.That(lockedDuringBody, Is.False);
    }

    [Test]
    public async Task With_a_lease_the_lock_is_released_when_the_body_throws()
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<string>(cache, lease: 5);
        var boom = new InvalidOperationException("boom");

        var thrown = Assert.ThrowsAsync<InvalidOperationException>(async () => await method.InvokeAsync("k", boom, static async (b, ct) =>
        {
            await Task.Yield();
            throw b;
        }, null, CancellationToken.None));
        Assert.That(thrown, Is.SameAs(boom));
        Assert.That(cache.Exists("k-lock"), Is.False);

        Assert.Throws<InvalidOperationException>(() => method.Invoke("k", boom, static b => throw b));
        Assert.That(cache.Exists("k-lock"), Is.False);

        Assert.That(await method.InvokeAsync("k", 0, static (s, ct) => new ValueTask<string>("ok"), null, CancellationToken.None), Is.EqualTo("ok"));
    }

    [Test]
    public async Task With_a_lease_a_cancelled_leader_leaves_and_its_body_goes_on_for_a_waiter_then_releases_the_lock()
    {
        // The cache's clock never moves here: the lease cannot run out, so only the release lets the waiter in.
        using var cache = LeaseCache();
        var method = MethodOn<string>(cache, lease: 5);
        var calls = new Calls();
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var leaderCancel = new CancellationTokenSource();

        Func<(Calls calls, TaskCompletionSource<string> release), CancellationToken, ValueTask<string>> body = static async (s, ct) =>
        {
            s.calls.Increment();
            return await s.release.Task.WaitAsync(ct);
        };
        var leader = method.InvokeAsync("k", (calls, release), body, null, leaderCancel.Token).AsTask();
        var waiter = method.InvokeAsync("k", (calls, release), body, null, CancellationToken.None).AsTask();
        Assert.That(cache.Exists("k-lock"), Is.True);

        leaderCancel.Cancel();
        Assert.CatchAsync<OperationCanceledException>(async () => await leader.WaitAsync(s_limit));
        Assert.That(cache.Exists("k-lock"), Is.True, "the body still runs under the lease");
        release.SetResult("v");

        Assert.That(await waiter.WaitAsync(s_limit), Is.EqualTo("v"));
        Assert.That(calls.Count, Is.EqualTo(1));
        WaitUntil(() => !cache.Exists("k-lock"), "the lock is released");
    }

    [Test]
    public void With_a_lease_a_cancelled_leader_releases_the_lock()
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<string>(cache, lease: 5);
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cancel = new CancellationTokenSource();

        var pending = method.InvokeAsync("k", release, static async (r, ct) => await r.Task.WaitAsync(ct), null, cancel.Token).AsTask();
        Assert.That(cache.Exists("k-lock"), Is.True);
        cancel.Cancel();

        Assert.CatchAsync<OperationCanceledException>(async () => await pending.WaitAsync(s_limit));
        WaitUntil(() => !cache.Exists("k-lock"), "the body stopped with the only caller's token and released the lock");
        Assert.That(cache.Exists("k"), Is.False);
    }

    [Test]
    public async Task Two_processes_sharing_a_cache_with_a_lease_make_one_body_call_between_them()
    {
        // The cache's clock never moves: B cannot outwait the lease, it can only get A's value.
        var gets = new CountingPlugin();
        using var cache = LeaseCache(gets);
        var processA = MethodOn<string>(cache, lease: 2);
        var processB = MethodOn<string>(cache, lease: 2);
        var callsA = new Calls();
        var callsB = new Calls();
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);

        var inA = Enumerable.Range(0, 3).Select(_ => processA.InvokeAsync("k", (callsA, release), static async (s, ct) =>
        {
            s.callsA.Increment();
            return await s.release.Task;
        }, null, CancellationToken.None).AsTask()).ToArray();
        var inB = Enumerable.Range(0, 3).Select(_ => processB.InvokeAsync("k", callsB, static (s, ct) =>
        {
            s.Increment();
            return new ValueTask<string>("from B");
        }, null, CancellationToken.None).AsTask()).ToArray();

        // B's leader has read, failed to take the lock and is polling: wait for two more reads of its polling.
        var afterStart = gets.Gets;
        WaitUntil(() => gets.Gets >= afterStart + 2, "process B polls the lease");
        Assert.That(inB.Any(t => t.IsCompleted), Is.False);

        release.SetResult("from A");
        var results = await Task.WhenAll(inA.Concat(inB)).WaitAsync(s_limit);

        Assert.That(results, Has.All.EqualTo("from A"));
        Assert.That(callsA.Count, Is.EqualTo(1));
        Assert.That(callsB.Count, Is.Zero);
        Assert.That(cache.Exists("k-lock"), Is.False);
    }

    [Test]
    public void Two_sync_processes_sharing_a_cache_with_a_lease_make_one_body_call_between_them()
    {
        var gets = new CountingPlugin();
        using var cache = LeaseCache(gets);
        var processA = MethodOn<string>(cache, lease: 2);
        var processB = MethodOn<string>(cache, lease: 2);
        var callsA = new Calls();
        var callsB = new Calls();
        using var gate = new ManualResetEventSlim();
        string? resultA = null;
        string? resultB = null;

        var a = new Thread(() => resultA = processA.Invoke("k", (callsA, gate), static s =>
        {
            s.callsA.Increment();
            s.gate.Wait(s_limit);
            return "from A";
        })) { IsBackground = true };
        a.Start();
        WaitUntil(() => callsA.Count == 1, "process A runs its body");

        var beforeB = gets.Gets;
        var b = new Thread(() => resultB = processB.Invoke("k", callsB, static s =>
        {
            s.Increment();
            return "from B";
        })) { IsBackground = true };
        b.Start();
        WaitUntil(() => gets.Gets >= beforeB + 3, "process B polls the lease");
        Assert.That(b.IsAlive, Is.True);

        gate.Set();
        Assert.That(a.Join(s_limit) && b.Join(s_limit), Is.True);

        Assert.That(resultA, Is.EqualTo("from A"));
        Assert.That(resultB, Is.EqualTo("from A"));
        Assert.That(callsB.Count, Is.Zero);
        Assert.That(cache.Exists("k-lock"), Is.False);
    }

    [Test]
    public async Task A_lease_shorter_than_the_body_lets_the_waiter_proceed_after_the_lease()
    {
        var gets = new CountingPlugin();
        using var cache = LeaseCache(gets);
        var processA = MethodOn<string>(cache, lease: 0.2);
        var processB = MethodOn<string>(cache, lease: 0.2);
        var callsB = new Calls();
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);

        var slow = processA.InvokeAsync("k", release, static (r, ct) => new ValueTask<string>(r.Task), null, CancellationToken.None).AsTask();
        var waiter = processB.InvokeAsync("k", callsB, static (s, ct) =>
        {
            s.Increment();
            return new ValueTask<string>("from B");
        }, null, CancellationToken.None).AsTask();

        // 1 ms short of the lease, B still polls; at the lease's end it goes on.
        _time.Advance(TimeSpan.FromMilliseconds(199));
        var polled = gets.Gets;
        WaitUntil(() => gets.Gets >= polled + 2, "process B polls the lease");
        Assert.That(waiter.IsCompleted, Is.False, "B waits while the lease runs");
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.That(await waiter.WaitAsync(s_limit), Is.EqualTo("from B"));
        Assert.That(callsB.Count, Is.EqualTo(1));
        Assert.That(slow.IsCompleted, Is.False);

        release.SetResult("from A");
        Assert.That(await slow.WaitAsync(s_limit), Is.EqualTo("from A"));
    }

    [Test]
    public void A_value_stored_before_the_sync_lease_was_taken_is_answered_even_when_releasing_the_lease_fails()
    {
        // Another process stores the value between this caller's miss and its lease; the lease is taken, the value is
        // read back, and the release of the lease fails: the value found is still the answer, and the body never runs
        // (the async path releases through ReleaseAsync, which survives a fault).
        using var cache = new TestBackend { FailReleases = true };
        var method = MethodOn<string>(cache, lease: 30);
        var fullKey = cache.BuildKey("k");
        cache.AfterRead = key =>
        {
            if (key == fullKey)
            {
                cache.AfterRead = null;
                cache.Set("k", "stored elsewhere");
            }
        };
        var calls = new Calls();

        var result = method.Invoke("k", calls, static c => c.Increment() > 0 ? "computed here" : "?");

        Assert.That(result, Is.EqualTo("stored elsewhere"));
        Assert.That(calls.Count, Is.Zero);
    }

    [Test]
    public void A_sync_lease_shorter_than_the_body_lets_the_waiter_proceed_after_the_lease()
    {
        var gets = new CountingPlugin();
        using var cache = LeaseCache(gets);
        var processA = MethodOn<string>(cache, lease: 0.2);
        var processB = MethodOn<string>(cache, lease: 0.2);
        using var gate = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();

        var a = new Thread(() => processA.Invoke("k", (gate, started), static s =>
        {
            s.started.Set();
            s.gate.Wait(s_limit);
            return "from A";
        })) { IsBackground = true };
        a.Start();
        Assert.That(started.Wait(s_limit), Is.True);

        string? result = null;
        var b = new Thread(() => result = processB.Invoke("k", 0, static _ => "from B")) { IsBackground = true };
        b.Start();
        _time.Advance(TimeSpan.FromMilliseconds(199));
        var polled = gets.Gets;
        WaitUntil(() => gets.Gets >= polled + 2, "process B polls the lease");
        Assert.That(b.IsAlive, Is.True, "B waits while the lease runs");
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.That(b.Join(s_limit), Is.True, "B goes on once the lease has run out");
        Assert.That(result, Is.EqualTo("from B"));
        gate.Set();
        Assert.That(a.Join(s_limit), Is.True);
    }

    [Test]
    public async Task An_async_lease_taken_before_a_failing_read_is_still_released()
    {
        // Reads fail, the lock works: the lock taken by WaitForLeaseAsync must not outlive the call, or other
        // processes wait the whole lease for nothing.
        using var backend = new TestBackend { FailReads = true };
        var method = MethodOn<string>(backend, lease: 10);

        var result = await method.InvokeAsync("k", 0, static (s, ct) => new ValueTask<string>("fresh"), null, CancellationToken.None);

        Assert.That(result, Is.EqualTo("fresh"));
        Assert.That(backend.Store.ContainsKey("k-lock"), Is.False, "the lock entry was left behind");
    }

    [Test]
    public void A_sync_lease_taken_before_a_failing_read_is_released()
    {
        using var backend = new TestBackend { FailReads = true };
        var method = MethodOn<string>(backend, lease: 10);

        var result = method.Invoke("k", 0, static _ => "fresh");

        Assert.That(result, Is.EqualTo("fresh"));
        Assert.That(backend.Store.ContainsKey("k-lock"), Is.False);
        Assert.That(backend.Store["k"], Is.EqualTo("fresh"));
    }
}
