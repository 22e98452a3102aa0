using System.Collections.Concurrent;
using Cached.Runtime;

namespace Cached.Tests;

/// <summary>
/// An outsider's review of today's flight changes, memory only: single flight across overlapping [MultiCached]
/// batches (decorators.md "Batches that overlap share their work"), abandoned single-key flights and dispose
/// (resilience.md "The factory's token"), and infinite timeouts. Races are forced with gates; every wait is bounded.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderBatchFlightsReviewTests
{
    // 10 s: every wait on it ends at once when the code is right; a loaded CI machine can stall a few seconds.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private SimpleMemoryCache _cache = null!;

    [SetUp]
    public void SetUp() => _cache = new SimpleMemoryCache();

    [TearDown]
    public void TearDown() => _cache.Dispose();

    /// <summary>A body that records its calls and, while <see cref="Hold"/>, waits at a gate (per key when asked).</summary>
    private sealed class Source
    {
        private readonly ConcurrentQueue<int[]> _calls = new();
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Hold { get; set; } = true;

        /// <summary>Only calls whose keys include one of these wait at the gate (empty: every call waits).</summary>
        public HashSet<int> HoldOnly { get; init; } = [];

        public int FailKey { get; set; } = int.MinValue;

        public Func<List<int>, ValueTask>? Inside { get; set; }

        public int[][] Calls => [.. _calls];

        public int[] AllKeys => [.. _calls.SelectMany(static c => c)];

        public void Release() => _gate.TrySetResult();

        private bool Holds(List<int> keys) => Hold && (HoldOnly.Count == 0 || keys.Any(HoldOnly.Contains));

        public async ValueTask<IEnumerable<KeyValuePair<int, string>>?> BodyAsync(List<int> keys, CancellationToken ct)
        {
            _calls.Enqueue([.. keys]);
            if (Inside is not null)
            {
                await Inside(keys);
            }

            if (Holds(keys))
            {
                await _gate.Task.WaitAsync(ct);
            }

            await Task.Yield();
            return Answer(keys);
        }

        public IEnumerable<KeyValuePair<int, string>>? Body(List<int> keys)
        {
            _calls.Enqueue([.. keys]);
            if (Holds(keys))
            {
                if (!_gate.Task.Wait(Patience))
                {
                    throw new TimeoutException("the gate was never opened");
                }
            }

            return Answer(keys);
        }

        private Dictionary<int, string> Answer(List<int> keys)
            => keys.Contains(FailKey)
                ? throw new InvalidOperationException("database down")
                : keys.ToDictionary(static key => key, static key => $"v{key}");
    }

    private MultiCachedMethod<int, string> NewMethod(double failSafe = 0)
        => new(new CachedMethodOptions { Method = "Outsider.BatchFlights.GetMany", CacheFactory = () => _cache, Ttl = 60, FailSafe = failSafe });

    // A negative key has an empty cache key: it can have no entry (decorators.md).
    private static string KeyOf(Source _, int key) => key < 0 ? "" : $"k{key}";

    private static Task<Dictionary<int, string>> CallAsync(MultiCachedMethod<int, string> method, Source source, int[] keys, CancellationToken ct = default, bool tagged = false)
        => tagged
            ? method.InvokeAsync(keys, source, KeyOf, static (s, missing, token) => s.BodyAsync(missing, token), null, static (_, key) => [$"t:{key}"], ct).AsTask()
            : method.InvokeAsync(keys, source, KeyOf, static (s, missing, token) => s.BodyAsync(missing, token), null, ct).AsTask();

    private static Task<Dictionary<int, string>> CallSync(MultiCachedMethod<int, string> method, Source source, int[] keys, bool tagged = false)
        => Task.Run(() => tagged
            ? method.Invoke(keys, source, KeyOf, static (s, missing) => s.Body(missing), null, static (_, key) => [$"t:{key}"])
            : method.Invoke(keys, source, KeyOf, static (s, missing) => s.Body(missing)));

    private static Task<Dictionary<int, string>> Call(bool async, MultiCachedMethod<int, string> method, Source source, int[] keys, bool tagged = false)
        => async ? CallAsync(method, source, keys, tagged: tagged) : CallSync(method, source, keys, tagged);

    private static Dictionary<int, string> Values(params int[] keys) => keys.ToDictionary(static key => key, static key => $"v{key}");

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail("never happened: " + what);
            }

            await Task.Delay(2);
        }
    }

    /// <summary>No stuck flight: a later miss of each key calls the body again, and nobody is left waiting.</summary>
    private async Task AssertNoLeak(MultiCachedMethod<int, string> method, Source source, params int[] keys)
    {
        Assert.That(method.WaitingBatches, Is.Zero, "WaitingBatches returns to 0");
        foreach (var key in keys)
        {
            _cache.Delete($"k{key}");
        }

        source.Hold = false;
        var before = source.Calls.Length;
        Assert.That(await CallAsync(method, source, keys).WaitAsync(Patience), Is.EqualTo(Values(keys)), "a later miss is answered");
        Assert.That(source.Calls.Length, Is.EqualTo(before + 1), "a later miss calls the body again (no stuck flight)");
        Assert.That(source.Calls[^1], Is.EquivalentTo(keys));
    }

    // ================================================================= overlapping batches

    [Test]
    public async Task Many_concurrent_overlapping_batches_sync_and_async_call_the_body_once_per_key_while_gated([Values] bool leaderAsync)
    {
        // decorators.md: "a batch asks its body only for the missing keys no other batch of the method is computing,
        // and waits for the others' answers."
        var method = NewMethod();
        var source = new Source();
        var leader = Call(leaderAsync, method, source, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        await WaitUntil(() => source.Calls.Length == 1, "the leader's body runs");

        var batches = new List<(int[] Keys, Task<Dictionary<int, string>> Call)>();
        for (var i = 0; i < 8; i++)
        {
            // Each batch overlaps the leader (two keys) and owns one key of its own (100 + i).
            int[] keys = [i, i + 2, 100 + i];
            batches.Add((keys, Call(i % 2 == 0, method, source, keys)));
            var expected = 2 + i;
            await WaitUntil(() => source.Calls.Length == expected, $"batch {i} asks its body for its own key");
        }

        Assert.That(source.Calls.Skip(1), Is.EqualTo(Enumerable.Range(0, 8).Select(static i => new[] { 100 + i })));
        source.Release();

        Assert.That(await leader.WaitAsync(Patience), Is.EqualTo(Values(0, 1, 2, 3, 4, 5, 6, 7, 8, 9)));
        foreach (var (keys, call) in batches)
        {
            Assert.That(await call.WaitAsync(Patience), Is.EqualTo(Values(keys)));
        }

        Assert.That(source.AllKeys, Is.Unique, "each key's body called exactly once");
        await AssertNoLeak(method, source, 1, 100);
    }

    [Test]
    public async Task Ungated_overlapping_batches_racing_boarding_against_landing_always_answer_every_key_and_leave_nothing_waiting()
    {
        // Many rounds where batches board while others land, store or fail: every call answers its keys (or fails with
        // its own body's failure), nothing hangs, and WaitingBatches returns to 0.
        var method = NewMethod();
        var source = new Source { Hold = false };
        for (var round = 0; round < 150; round++)
        {
            _cache.Clear();
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var calls = Enumerable.Range(0, 6).Select(i =>
            {
                int[] keys = [i % 3, (i + 1) % 3, 10 + (i % 2)];
                return Task.Run(async () =>
                {
                    await start.Task;
                    return (keys, await Call(i % 2 == 0, method, source, keys));
                });
            }).ToArray();
            start.SetResult();
            foreach (var call in calls)
            {
                var (keys, got) = await call.WaitAsync(Patience);
                Assert.That(got, Is.EqualTo(Values(keys)), $"round {round}");
            }

            Assert.That(method.WaitingBatches, Is.Zero, $"round {round}");
        }

        await AssertNoLeak(method, source, 0, 1, 2, 10, 11);
    }

    [Test]
    public async Task A_batch_with_duplicate_keys_overlapping_an_inflight_batch_asks_only_for_its_new_key_once([Values] bool async)
    {
        var method = NewMethod();
        var source = new Source();
        var first = CallAsync(method, source, [1, 2]);
        await WaitUntil(() => source.Calls.Length == 1, "first body");
        var second = Call(async, method, source, [2, 3, 2, 3, 2]);
        await WaitUntil(() => source.Calls.Length == 2, "second body");
        source.Release();

        Assert.That(await first.WaitAsync(Patience), Is.EqualTo(Values(1, 2)));
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(Values(2, 3)));
        Assert.That(source.Calls, Is.EqualTo(new[] { new[] { 1, 2 }, new[] { 3 } }));
        await AssertNoLeak(method, source, 2, 3);
    }

    [Test]
    public async Task Two_keys_folded_to_one_cache_key_by_the_key_builder_are_not_asked_of_the_body_while_another_batch_computes_it([Values] bool async)
    {
        // Key builder: k % 10, so 1 and 11 share the cache key "f1".
        var method = NewMethod();
        var source = new Source();
        static string Folded(Source _, int key) => $"f{key % 10}";
        var first = method.InvokeAsync([1], source, Folded, static (s, missing, ct) => s.BodyAsync(missing, ct), null, CancellationToken.None).AsTask();
        await WaitUntil(() => source.Calls.Length == 1, "first body");
        var second = async
            ? method.InvokeAsync([11, 1, 2], source, Folded, static (s, missing, ct) => s.BodyAsync(missing, ct), null, CancellationToken.None).AsTask()
            : Task.Run(() => method.Invoke([11, 1, 2], source, Folded, static (s, missing) => s.Body(missing)));
        await WaitUntil(() => source.Calls.Length == 2, "second body");
        source.Release();

        Assert.That(await first.WaitAsync(Patience), Is.EqualTo(Values(1)));
        var got = await second.WaitAsync(Patience);
        Assert.That(got.Keys, Is.EquivalentTo(new[] { 11, 1, 2 }));
        Assert.That(source.Calls, Is.EqualTo(new[] { new[] { 1 }, new[] { 2 } }), "f1 is computed once, by the first batch");
        Assert.That(method.WaitingBatches, Is.Zero);
    }

    [Test]
    public async Task Keys_that_can_have_no_entry_go_to_the_body_while_the_inflight_key_is_waited_for([Values] bool async, [Values] bool tagged)
    {
        // decorators.md: a key whose cache key is empty "goes to the body on every call"; an in-flight key is waited for.
        var method = NewMethod();
        var source = new Source { HoldOnly = [1] };
        var first = Call(true, method, source, [1, 2], tagged);
        await WaitUntil(() => source.Calls.Length == 1, "first body");
        var second = Call(async, method, source, [-5, 2, -6], tagged);
        await WaitUntil(() => method.WaitingBatches == 1, "the second batch waits for key 2");
        Assert.That(second.IsCompleted, Is.False, "the second batch waits for key 2");
        Assert.That(source.Calls, Is.EqualTo(new[] { new[] { 1, 2 }, new[] { -5, -6 } }));
        source.Release();

        Assert.That(await first.WaitAsync(Patience), Is.EqualTo(Values(1, 2)));
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(Values(-5, 2, -6)));
        Assert.That(source.Calls, Has.Length.EqualTo(2));
        await AssertNoLeak(method, source, 1, 2);
    }

    [Test]
    public async Task A_body_that_calls_its_own_method_with_overlapping_keys_does_not_hang([Values] bool async)
    {
        // decorators.md: "A body's own calls of its method never wait for a batch (they could wait for themselves)."
        var method = NewMethod();
        var source = new Source { Hold = false };
        var inner = new TaskCompletionSource<Dictionary<int, string>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = 0;
        source.Inside = async keys =>
        {
            if (Interlocked.Increment(ref entered) == 1)
            {
                // From a new task (the flow goes with it) and after an await, as a real body would.
                await Task.Yield();
                inner.SetResult(async
                    ? await CallAsync(method, source, [2, 3])
                    : await Task.Run(() => method.Invoke([2, 3], source, KeyOf, static (s, missing) => s.Body(missing))));
            }
        };

        var outer = CallAsync(method, source, [1, 2]);
        Assert.That(await outer.WaitAsync(Patience), Is.EqualTo(Values(1, 2)));
        Assert.That(await inner.Task.WaitAsync(Patience), Is.EqualTo(Values(2, 3)));
        source.Inside = null;
        await AssertNoLeak(method, source, 1, 2, 3);
    }

    [Test]
    public async Task A_waiting_batch_cancelled_while_its_own_body_runs_ends_and_leaves_no_flight()
    {
        var method = NewMethod();
        var source = new Source();
        var first = CallAsync(method, source, [1, 2]);
        await WaitUntil(() => source.Calls.Length == 1, "first body");
        using var leave = new CancellationTokenSource();
        var second = CallAsync(method, source, [2, 3], leave.Token);
        await WaitUntil(() => source.Calls.Length == 2, "second body, for key 3");
        leave.Cancel();

        Assert.CatchAsync<OperationCanceledException>(() => second.WaitAsync(Patience));
        source.Release();
        Assert.That(await first.WaitAsync(Patience), Is.EqualTo(Values(1, 2)));
        // Key 3's flight (led by the cancelled batch) must be gone: a new call computes it.
        source.Hold = false;
        Assert.That(await CallAsync(method, source, [3]).WaitAsync(Patience), Is.EqualTo(Values(3)));
        Assert.That(source.Calls[^1], Is.EqualTo(new[] { 3 }));
        await AssertNoLeak(method, source, 1, 2, 3);
    }

    [Test]
    public async Task A_sync_batch_waiting_for_a_leader_that_is_cancelled_computes_the_key_itself()
    {
        // decorators.md: "When the first batch's body fails or its caller cancels, the batches waiting for it are not
        // failed: each computes those keys itself."
        var method = NewMethod();
        var source = new Source { HoldOnly = [1] };
        using var leaderLeaves = new CancellationTokenSource();
        var first = CallAsync(method, source, [1, 2], leaderLeaves.Token);
        await WaitUntil(() => source.Calls.Length == 1, "first body");
        var waiters = Enumerable.Range(0, 3).Select(i => CallSync(method, source, [2])).ToArray();
        await WaitUntil(() => method.WaitingBatches == 3, "three sync waiters");
        leaderLeaves.Cancel();

        Assert.CatchAsync<OperationCanceledException>(() => first.WaitAsync(Patience));
        foreach (var waiter in waiters)
        {
            Assert.That(await waiter.WaitAsync(Patience), Is.EqualTo(Values(2)));
        }

        Assert.That(_cache.Get<string>("k2"), Is.EqualTo("v2"));
        source.Release();
        await AssertNoLeak(method, source, 1, 2);
    }

    [Test]
    public async Task When_the_leader_fails_with_fail_safe_and_tags_every_waiter_computes_the_key_itself([Values] bool async, [Values] bool tagged)
    {
        var method = NewMethod(failSafe: 300);
        var source = new Source { FailKey = 1 };
        var first = Call(true, method, source, [1, 2], tagged);
        await WaitUntil(() => source.Calls.Length == 1, "first body");
        var second = Call(async, method, source, [2], tagged);
        await WaitUntil(() => method.WaitingBatches == 1, "second waits");
        source.Release();

        Assert.CatchAsync<InvalidOperationException>(() => first.WaitAsync(Patience));
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(Values(2)));
        Assert.That(source.Calls, Is.EqualTo(new[] { new[] { 1, 2 }, new[] { 2 } }));
        source.FailKey = int.MinValue;
        await AssertNoLeak(method, source, 1, 2);
    }

    [Test]
    public async Task When_the_leader_body_fails_and_fail_safe_serves_its_last_values_a_waiting_batch_gets_them_too([Values] bool async)
    {
        // decorators.md: with fail-safe, a batch whose body failed for keys that all have a last value answers with them,
        // to the batches waiting for it too, as the passengers of a one-key flight get them (resilience.md); the values
        // are fresh again for the throttle, so a waiter computing the key itself would read them back anyway.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        using var cache = new SimpleMemoryCache { TimeProvider = time };
        var method = new MultiCachedMethod<int, string>(new CachedMethodOptions { Method = "Outsider.BatchFlights.Stale", CacheFactory = () => cache, Ttl = 10, FailSafe = 300 });
        var generation = "old";
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = new ConcurrentQueue<int[]>();
        var failKey = int.MinValue;
        async ValueTask<IEnumerable<KeyValuePair<int, string>>?> Body(List<int> keys)
        {
            calls.Enqueue([.. keys]);
            if (keys.Contains(1))
            {
                await gate.Task;
            }

            return keys.Contains(failKey) ? throw new InvalidOperationException("source down for 1") : keys.ToDictionary(static k => k, k => $"{generation}{k}");
        }

        Task<Dictionary<int, string>> Run(int[] keys, bool isAsync) => isAsync
            ? method.InvokeAsync(keys, 0, static (_, k) => $"k{k}", (_, missing, _) => Body(missing), null, CancellationToken.None).AsTask()
            : Task.Run(() => method.Invoke(keys, 0, static (_, k) => $"k{k}", (_, missing) => Body(missing).AsTask().GetAwaiter().GetResult()));

        gate.SetResult();
        Assert.That(await Run([1, 2], true).WaitAsync(Patience), Is.EqualTo(new Dictionary<int, string> { [1] = "old1", [2] = "old2" }));
        gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        time.Advance(TimeSpan.FromSeconds(11));
        generation = "new";
        failKey = 1;
        calls.Clear();

        var first = Run([1, 2], true);
        await WaitUntil(() => calls.Count == 1, "first body");
        var second = Run([2], async);
        await WaitUntil(() => method.WaitingBatches == 1, "second waits for 2");
        gate.SetResult();

        Assert.That(await first.WaitAsync(Patience), Is.EqualTo(new Dictionary<int, string> { [1] = "old1", [2] = "old2" }), "fail-safe answers the leader with its last values");
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(new Dictionary<int, string> { [2] = "old2" }), "the waiting batch gets the last value fail-safe answered with");
        Assert.That(calls, Has.Count.EqualTo(1), "the waiting batch called no body: every key it missed was the first batch's");
    }

    [Test]
    public async Task A_key_deleted_while_a_sync_batch_waits_for_it_is_computed_anew_by_that_batch([Values] bool viaInvalidate, [Values] bool tagged)
    {
        // decorators.md: "A key invalidated in this process while it is computed is not waited for: ... and so does a
        // batch already waiting for it." [InvalidateCache] of a [MultiCached] target goes through Invalidate.
        var method = NewMethod();
        var source = new Source { HoldOnly = [1] };
        var first = Call(true, method, source, [1, 2], tagged);
        await WaitUntil(() => source.Calls.Length == 1, "first body");
        var second = Call(false, method, source, [2], tagged);
        await WaitUntil(() => method.WaitingBatches == 1, "second waits");
        if (viaInvalidate)
        {
            await method.InvalidateAsync([2], source, KeyOf, CancellationToken.None);
        }
        else
        {
            _cache.Delete("k2");
        }

        source.Release();
        Assert.That(await first.WaitAsync(Patience), Is.EqualTo(Values(1, 2)));
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(Values(2)));
        Assert.That(source.Calls, Is.EqualTo(new[] { new[] { 1, 2 }, new[] { 2 } }), "the waiting batch computes 2 anew");
        await AssertNoLeak(method, source, 1, 2);
    }

    [Test]
    public async Task A_tag_invalidated_while_a_batch_waits_for_a_key_carrying_it_is_computed_anew([Values] bool async)
    {
        // decorators.md / tags.md: an invalidated tag invalidates its entries; a key invalidated in this process
        // while it is computed is not waited for.
        var method = NewMethod();
        var source = new Source { HoldOnly = [1] };
        var first = CallAsync(method, source, [1, 2], tagged: true);
        await WaitUntil(() => source.Calls.Length == 1, "first body");
        var second = Call(async, method, source, [2], tagged: true);
        await WaitUntil(() => method.WaitingBatches == 1, "second waits");
        await _cache.InvalidateTagsAsync(["t:2"]);
        source.Release();

        Assert.That(await first.WaitAsync(Patience), Is.EqualTo(Values(1, 2)));
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(Values(2)));
        Assert.That(source.Calls, Is.EqualTo(new[] { new[] { 1, 2 }, new[] { 2 } }), "the waiting batch computes 2 anew after the tag's invalidation");
    }

    [Test]
    public async Task A_batch_asked_for_a_key_after_its_tag_was_invalidated_mid_computation_computes_it_anew([Values] bool async)
    {
        // decorators.md: "a batch asked for it after the invalidation computes it anew"; tags.md: "A caller that joins a
        // computation begun before an invalidation this process made ... computes anew once instead of taking its value."
        var method = NewMethod();
        var source = new Source { HoldOnly = [1] };
        var first = CallAsync(method, source, [1, 2], tagged: true);
        await WaitUntil(() => source.Calls.Length == 1, "first body");
        await _cache.InvalidateTagsAsync(["t:2"]);
        var second = Call(async, method, source, [2], tagged: true);
        await WaitUntil(() => source.Calls.Length == 2 || method.WaitingBatches == 1, "second batch boards");
        source.Release();

        Assert.That(await first.WaitAsync(Patience), Is.EqualTo(Values(1, 2)));
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(Values(2)));
        Assert.That(source.Calls, Is.EqualTo(new[] { new[] { 1, 2 }, new[] { 2 } }), "the batch asked after the tag's invalidation computes 2 anew");
    }

    [Test]
    public async Task Single_key_reference_a_caller_joining_before_a_tag_invalidation_computes_anew()
    {
        // The same race on a single key (GetOrSetAsync with tags), for comparison with the batch test above.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = 0;
        var options = new CacheEntryOptions { Tags = ["t:2"] };
        async ValueTask<string> Factory(CancellationToken _)
        {
            if (Interlocked.Increment(ref runs) == 1)
            {
                await gate.Task;
            }

            return "v2";
        }

        var first = _cache.GetOrSetAsync("single", Factory, options).AsTask();
        await WaitUntil(() => Volatile.Read(ref runs) == 1, "first factory");
        var second = _cache.GetOrSetAsync("single", Factory, options).AsTask();
        await Task.Delay(50);
        await _cache.InvalidateTagsAsync(["t:2"]);
        gate.SetResult();
        await first.WaitAsync(Patience);
        await second.WaitAsync(Patience);
        Assert.That(runs, Is.EqualTo(2), "the waiting caller computes anew");
    }

    [Test]
    public async Task A_skip_read_batch_computes_every_key_itself_while_another_batch_computes_them()
    {
        var method = NewMethod();
        var source = new Source { HoldOnly = [1] };
        var first = CallAsync(method, source, [1, 2]);
        await WaitUntil(() => source.Calls.Length == 1, "first body");
        Task<Dictionary<int, string>> second;
        using (CacheScope.SkipRead())
        {
            second = CallAsync(method, source, [2, 3]);
        }

        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(Values(2, 3)));
        source.Release();
        Assert.That(await first.WaitAsync(Patience), Is.EqualTo(Values(1, 2)));
        Assert.That(source.Calls, Is.EqualTo(new[] { new[] { 1, 2 }, new[] { 2, 3 } }));
        await AssertNoLeak(method, source, 1, 2, 3);
    }

    [Test]
    public async Task A_key_builder_that_throws_once_inside_a_call_leaves_no_stuck_flight()
    {
        // A key builder's exception reaches its caller; a later call of the same key must still be served (a flight no
        // batch will ever land would hold every later caller of that key forever).
        var method = NewMethod();
        var source = new Source { Hold = false };
        var calls = 0;
        string Flaky(Source _, int key)
        {
            // The third cache key built in the call: after the read, while the batch boards its flights.
            if (key == 2 && Interlocked.Increment(ref calls) == 2)
            {
                throw new FormatException("bad key");
            }

            return $"k{key}";
        }

        Assert.Catch(() => method.Invoke([1, 2], source, Flaky, static (s, missing) => s.Body(missing)));
        var later = Task.Run(() => method.Invoke([1], source, KeyOf, static (s, missing) => s.Body(missing)));
        Assert.That(await later.WaitAsync(Patience), Is.EqualTo(Values(1)), "key 1 is not held by a flight that never lands");
    }

    // ================================================================= single-key flights

    [Test]
    public async Task A_caller_racing_the_last_caller_leaving_gets_the_value_the_cache_ends_up_with()
    {
        // resilience.md: when no caller waits any more, "a caller that comes later then runs the factory anew, without
        // waiting for that one (which, if it ignores its token and finishes, does not store over the newer value)".
        for (var i = 0; i < 60; i++)
        {
            var key = $"race{i}";
            var oldGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var oldStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var options = i % 2 == 0 ? null : new CacheEntryOptions { FailSafe = TimeSpan.FromMinutes(5), Tags = ["race"] };
            using var leave = new CancellationTokenSource();
            var leaving = _cache.GetOrSetAsync(key, async _ =>
            {
                oldStarted.TrySetResult();
                await oldGate.Task; // ignores its token
                return "old";
            }, options, cancellationToken: leave.Token).AsTask();
            await oldStarted.Task.WaitAsync(Patience);

            using var barrier = new Barrier(2);
            var newFactoryRuns = 0;
            var cancel = Task.Run(() =>
            {
                barrier.SignalAndWait();
                leave.Cancel();
            });
            var newcomer = Task.Run(async () =>
            {
                barrier.SignalAndWait();
                return await _cache.GetOrSetAsync(key, _ =>
                {
                    Interlocked.Increment(ref newFactoryRuns);
                    return new ValueTask<string>("new");
                }, options);
            });
            await cancel.WaitAsync(Patience);
            Assert.CatchAsync<OperationCanceledException>(() => leaving.WaitAsync(Patience));
            // The newcomer may have joined the old flight in time (it then keeps it going): let the old body finish.
            oldGate.SetResult();
            var got = await newcomer.WaitAsync(Patience);
            await Task.Delay(20);
            var stored = _cache.Get<string>(key);
            Assert.That(got, Is.EqualTo(newFactoryRuns == 1 ? "new" : "old"), $"iteration {i}");
            Assert.That(stored, Is.EqualTo(got), $"iteration {i}: the cache holds what the newcomer was answered");
        }
    }

    [Test]
    public async Task A_sync_caller_after_every_async_caller_cancelled_runs_the_factory_anew_without_waiting([Values] bool withOptions)
    {
        var options = withOptions ? new CacheEntryOptions { FailSafe = TimeSpan.FromMinutes(5), Tags = ["t"] } : null;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var a = new CancellationTokenSource();
        using var b = new CancellationTokenSource();
        async ValueTask<string> Old(CancellationToken _)
        {
            started.TrySetResult();
            await gate.Task;
            return "old";
        }

        var first = _cache.GetOrSetAsync("s", Old, options, cancellationToken: a.Token).AsTask();
        await started.Task.WaitAsync(Patience);
        var second = _cache.GetOrSetAsync("s", Old, options, cancellationToken: b.Token).AsTask();
        a.Cancel();
        b.Cancel();
        Assert.CatchAsync<OperationCanceledException>(() => first.WaitAsync(Patience));
        Assert.CatchAsync<OperationCanceledException>(() => second.WaitAsync(Patience));

        var sync = Task.Run(() => _cache.GetOrSet("s", _ => "new", options));
        Assert.That(await sync.WaitAsync(Patience), Is.EqualTo("new"));
        gate.SetResult();
        await Task.Delay(50);
        Assert.That(_cache.Get<string>("s"), Is.EqualTo("new"), "the abandoned factory does not store over the newer value");
    }

    [Test]
    public async Task Disposing_the_cache_ends_a_sync_caller_waiting_on_an_async_flight_with_options()
    {
        // resilience.md: with options, the factory's token is also cancelled "by the cache's dispose, which then ends
        // every caller waiting for it (an OperationCanceledException, even while a factory that ignores its token runs on)".
        var cache = new SimpleMemoryCache();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new CacheEntryOptions { FailSafe = TimeSpan.FromMinutes(5) };
        var leader = cache.GetOrSetAsync("d", async _ =>
        {
            started.TrySetResult();
            await gate.Task; // ignores its token
            return "v";
        }, options).AsTask();
        await started.Task.WaitAsync(Patience);
        Exception? syncFailure = null;
        var syncWaiter = new Thread(() =>
        {
            try
            {
                cache.GetOrSet("d", _ => "sync", options);
            }
            catch (Exception ex)
            {
                syncFailure = ex;
            }
        }) { IsBackground = true };
        syncWaiter.Start();
        var asyncWaiter = cache.GetOrSetAsync("d", _ => new ValueTask<string>("async"), options).AsTask();
        // The sync caller has boarded the flight once its thread blocks there (a fixed wait was outlasted on a loaded machine).
        Cached.Tests.Runtime.Waits.UntilAllBlocked([syncWaiter], Patience);
        cache.Dispose();
        try
        {
            Assert.CatchAsync<OperationCanceledException>(() => leader.WaitAsync(Patience));
            Assert.CatchAsync<OperationCanceledException>(() => asyncWaiter.WaitAsync(Patience));
            Assert.That(syncWaiter.Join(Patience), Is.True, "the sync caller waiting for the flight ends too");
            Assert.That(syncFailure, Is.InstanceOf<OperationCanceledException>(), "the sync caller waiting for the flight ends too");
        }
        finally
        {
            gate.SetResult();
        }
    }

    [Test]
    public async Task Infinite_soft_and_hard_timeouts_mean_no_timeout()
    {
        var options = new CacheEntryOptions { FailSafe = TimeSpan.FromMinutes(5), SoftTimeout = Timeout.InfiniteTimeSpan, HardTimeout = Timeout.InfiniteTimeSpan };
        Assert.That(await _cache.GetOrSetAsync("inf", async _ =>
        {
            await Task.Delay(150);
            return "slow";
        }, options).AsTask().WaitAsync(Patience), Is.EqualTo("slow"));
        Assert.That(_cache.GetOrSet("inf2", _ =>
        {
            Thread.Sleep(150);
            return "slow";
        }, options), Is.EqualTo("slow"));
    }
}
