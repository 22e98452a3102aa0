using System.Collections.Concurrent;
using Cached.Runtime;
using Cached.Tests.Capabilities;

namespace Cached.Tests.Runtime;

/// <summary>
/// Single flight across overlapping batches of one <see cref="MultiCachedMethod{TKey, TValue}"/>: a key another batch
/// is computing is waited for, not asked of the body again; the races are forced with gates, not timing.
/// </summary>
public sealed class MultiCachedFlightTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private SimpleMemoryCache _cache = null!;

    [SetUp]
    public void SetUp() => _cache = new SimpleMemoryCache();

    [TearDown]
    public void TearDown() => _cache.Dispose();

    /// <summary>A body that records every call's keys and, unless told not to, waits at one gate until <see cref="Release"/>.</summary>
    private sealed class Source
    {
        private readonly ConcurrentQueue<int[]> _calls = new();
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Hold { get; init; } = true;

        /// <summary>A call whose keys include this one throws once past the gate.</summary>
        public int FailKey { get; init; } = -1;

        /// <summary>A key the body leaves out of its answer.</summary>
        public int Omit { get; init; } = -1;

        public int[][] Calls => [.. _calls];

        public void Release() => _gate.TrySetResult();

        public async ValueTask<IEnumerable<KeyValuePair<int, string>>?> BodyAsync(List<int> keys, CancellationToken ct)
        {
            _calls.Enqueue([.. keys]);
            if (Hold)
            {
                await _gate.Task.WaitAsync(ct);
            }

            await Task.Yield();
            return Answer(keys);
        }

        public IEnumerable<KeyValuePair<int, string>>? Body(List<int> keys)
        {
            _calls.Enqueue([.. keys]);
            if (Hold)
            {
                Assert.That(_gate.Task.Wait(Patience), Is.True, "the gate was never opened");
            }

            return Answer(keys);
        }

        private Dictionary<int, string> Answer(List<int> keys)
            => keys.Contains(FailKey)
                ? throw new InvalidOperationException("database down")
                : keys.Where(key => key != Omit).ToDictionary(key => key, key => $"v{key}");
    }

    private MultiCachedMethod<int, string> NewMethod(bool failSafe = false, ICache? cache = null)
        => new(new CachedMethodOptions
        {
            Method = "Tests.Flights.GetMany",
            CacheFactory = () => cache ?? _cache,
            Ttl = 60,
            FailSafe = failSafe ? 300 : 0,
        });

    private static ValueTask<Dictionary<int, string>> CallAsync(MultiCachedMethod<int, string> method, Source source, int[] keys, CancellationToken ct = default)
        => method.InvokeAsync(keys, source, static (_, key) => $"k{key}", static (s, missing, token) => s.BodyAsync(missing, token), null, ct);

    private static Dictionary<int, string> Call(MultiCachedMethod<int, string> method, Source source, int[] keys)
        => method.Invoke(keys, source, static (_, key) => $"k{key}", static (s, missing) => s.Body(missing));

    private static Dictionary<int, string> Values(params int[] keys) => keys.ToDictionary(key => key, key => $"v{key}");

    [Test]
    public async Task An_async_batch_waits_for_the_keys_another_batch_is_computing_and_asks_its_body_for_the_rest([Values] bool failSafe)
    {
        var method = NewMethod(failSafe);
        var source = new Source();
        var first = CallAsync(method, source, [1, 2, 3]).AsTask();
        await WaitForCalls(source, 1);

        // The second batch leads key 4 before its body is called: its call with [4] alone shows it waits for 2 and 3.
        var second = CallAsync(method, source, [2, 3, 4]).AsTask();
        await WaitForCalls(source, 2);
        source.Release();

        Assert.That(await first.WaitAsync(Patience), Is.EqualTo(Values(1, 2, 3)));
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(Values(2, 3, 4)));
        Assert.That(source.Calls, Is.EqualTo(new[] { new[] { 1, 2, 3 }, new[] { 4 } }));
        Assert.That(_cache.Get<string>("k4"), Is.EqualTo("v4"));
    }

    [Test]
    public async Task A_sync_batch_whose_keys_are_all_in_flight_calls_no_body_and_gets_the_other_batch_answers([Values] bool leaderAsync)
    {
        var method = NewMethod();
        var source = new Source();
        var first = leaderAsync ? CallAsync(method, source, [1, 2, 3]).AsTask() : Task.Run(() => Call(method, source, [1, 2, 3]));
        await WaitForCalls(source, 1);

        var second = Task.Run(() => Call(method, source, [2, 3]));
        await WaitUntil(() => method.WaitingBatches == 1);
        Assert.That(second.IsCompleted, Is.False);
        source.Release();

        Assert.That(await first.WaitAsync(Patience), Is.EqualTo(Values(1, 2, 3)));
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(Values(2, 3)));
        Assert.That(source.Calls, Is.EqualTo(new[] { new[] { 1, 2, 3 } }));
        Assert.That(method.WaitingBatches, Is.Zero);
    }

    [Test]
    public async Task When_the_leading_batch_fails_a_waiting_batch_computes_those_keys_itself_and_does_not_get_the_failure([Values] bool failSafe)
    {
        var method = NewMethod(failSafe);
        var source = new Source { FailKey = 1 };
        var first = CallAsync(method, source, [1, 2]).AsTask();
        await WaitForCalls(source, 1);
        var second = CallAsync(method, source, [2, 3]).AsTask();
        await WaitForCalls(source, 2);
        source.Release();

        Assert.ThrowsAsync<InvalidOperationException>(() => first.WaitAsync(Patience));
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(Values(2, 3)));
        Assert.That(source.Calls, Is.EqualTo(new[] { new[] { 1, 2 }, new[] { 3 }, new[] { 2 } }));
        Assert.That(_cache.Exists("k2"), Is.True, "the waiting batch stores what it computed itself");
    }

    [Test]
    public async Task When_the_leading_caller_cancels_a_waiting_batch_is_not_cancelled()
    {
        var method = NewMethod();
        var source = new Source();
        using var leaderLeaves = new CancellationTokenSource();
        var first = CallAsync(method, source, [1, 2], leaderLeaves.Token).AsTask();
        await WaitForCalls(source, 1);
        var second = CallAsync(method, source, [2]).AsTask();
        await WaitUntil(() => method.WaitingBatches == 1);
        leaderLeaves.Cancel();

        Assert.CatchAsync<OperationCanceledException>(() => first.WaitAsync(Patience));
        await WaitForCalls(source, 2);
        source.Release();
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(Values(2)));
        Assert.That(source.Calls, Is.EqualTo(new[] { new[] { 1, 2 }, new[] { 2 } }));
    }

    [Test]
    public async Task A_batch_body_that_ignores_its_cancelled_token_keeps_its_caller_until_it_returns_and_its_answers_are_handed_on_but_not_stored()
    {
        // The documented difference from a call of one key (which leaves at once while its body runs on for the others).
        var method = NewMethod();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = new ConcurrentQueue<int[]>();
        using var cts = new CancellationTokenSource();
        var first = method.InvokeAsync([1, 2], calls, static (_, key) => $"k{key}", async (c, keys, _) =>
        {
            c.Enqueue([.. keys]);
            await gate.Task;
            return keys.ToDictionary(static key => key, static key => $"v{key}");
        }, null, cts.Token).AsTask();
        await WaitUntil(() => calls.Count == 1);
        var second = method.InvokeAsync([2], calls, static (_, key) => $"k{key}", static (c, keys, _) =>
        {
            c.Enqueue([.. keys]);
            return ValueTask.FromResult<IEnumerable<KeyValuePair<int, string>>?>(keys.ToDictionary(static key => key, static key => $"v{key}"));
        }, null, CancellationToken.None).AsTask();
        await WaitUntil(() => method.WaitingBatches == 1);

        cts.Cancel();
        Assert.That(first.IsCompleted, Is.False, "the caller waits for its body, which is held");
        gate.SetResult();

        Assert.That(() => first.WaitAsync(Patience), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(Values(2)));
        Assert.That(calls, Is.EqualTo(new[] { new[] { 1, 2 } }), "the waiting batch took key 2 from the body that returned");
        Assert.That(_cache.Exists("k1") || _cache.Exists("k2"), Is.False, "the cancelled caller's batch stored nothing");
    }

    [Test]
    public async Task A_waiting_batch_that_cancels_leaves_at_once_and_the_leader_still_stores_its_keys()
    {
        var method = NewMethod();
        var source = new Source();
        var first = CallAsync(method, source, [1, 2]).AsTask();
        await WaitForCalls(source, 1);
        using var waiterLeaves = new CancellationTokenSource();
        var second = CallAsync(method, source, [2], waiterLeaves.Token).AsTask();
        await WaitUntil(() => method.WaitingBatches == 1);
        waiterLeaves.Cancel();

        Assert.CatchAsync<OperationCanceledException>(() => second.WaitAsync(Patience));
        Assert.That(method.WaitingBatches, Is.Zero);
        Assert.That(first.IsCompleted, Is.False);
        source.Release();
        Assert.That(await first.WaitAsync(Patience), Is.EqualTo(Values(1, 2)));
        Assert.That(_cache.Get<string>("k2"), Is.EqualTo("v2"));
    }

    [Test]
    public async Task A_key_the_leading_body_leaves_out_is_left_out_for_the_waiting_batch_too()
    {
        var method = NewMethod();
        var source = new Source { Omit = 3 };
        var first = CallAsync(method, source, [2, 3]).AsTask();
        await WaitForCalls(source, 1);
        var second = CallAsync(method, source, [3]).AsTask();
        await WaitUntil(() => method.WaitingBatches == 1);
        source.Release();

        Assert.That(await first.WaitAsync(Patience), Is.EqualTo(Values(2)));
        Assert.That(await second.WaitAsync(Patience), Is.Empty);
        Assert.That(source.Calls, Has.Length.EqualTo(1));
    }

    [Test]
    public async Task A_batch_does_not_wait_for_a_key_whose_computation_an_invalidation_overtook_and_computes_it_itself()
    {
        var method = NewMethod();
        var source = new Source();
        var first = CallAsync(method, source, [1, 2]).AsTask();
        await WaitForCalls(source, 1);
        _cache.Delete("k2");

        // Asked for [2] before the first batch lands: it leads key 2 anew rather than wait for the older computation.
        var second = CallAsync(method, source, [2]).AsTask();
        await WaitForCalls(source, 2);
        source.Release();

        Assert.That(await first.WaitAsync(Patience), Is.EqualTo(Values(1, 2)));
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(Values(2)));
        Assert.That(source.Calls, Is.EqualTo(new[] { new[] { 1, 2 }, new[] { 2 } }));
    }

    [Test]
    public async Task A_batch_waiting_for_a_key_that_is_then_invalidated_computes_that_key_anew([Values] bool sync)
    {
        var method = NewMethod();
        var source = new Source();
        var first = CallAsync(method, source, [1, 2]).AsTask();
        await WaitForCalls(source, 1);
        var second = sync ? Task.Run(() => Call(method, source, [2])) : CallAsync(method, source, [2]).AsTask();
        await WaitUntil(() => method.WaitingBatches == 1);
        _cache.Delete("k2");
        source.Release();

        Assert.That(await first.WaitAsync(Patience), Is.EqualTo(Values(1, 2)));
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(Values(2)));
        Assert.That(source.Calls, Is.EqualTo(new[] { new[] { 1, 2 }, new[] { 2 } }), "the answer computed before the change is not handed on");
        Assert.That(_cache.Get<string>("k2"), Is.EqualTo("v2"), "the second batch stores its own computation");
    }

    [Test]
    public async Task A_body_that_calls_its_own_method_for_a_key_it_computes_computes_it_instead_of_waiting_for_itself([Values] bool sync)
    {
        var method = NewMethod();
        var nested = new ConcurrentQueue<int[]>();
        Dictionary<int, string> Inner(List<int> keys)
        {
            nested.Enqueue([.. keys]);
            return keys.ToDictionary(key => key, key => $"v{key}");
        }

        Dictionary<int, string> result;
        if (sync)
        {
            result = await Task.Run(() => method.Invoke([1, 2], method, static (_, key) => $"k{key}", (m, keys) =>
            {
                var inner = m.Invoke([2], m, static (_, key) => $"k{key}", (_, ks) => Inner(ks));
                return keys.ToDictionary(key => key, key => inner.TryGetValue(key, out var value) ? value : $"v{key}");
            })).WaitAsync(Patience);
        }
        else
        {
            result = await method.InvokeAsync([1, 2], method, static (_, key) => $"k{key}", async (m, keys, ct) =>
            {
                await Task.Yield();
                var inner = await m.InvokeAsync([2], m, static (_, key) => $"k{key}", (_, ks, _) => ValueTask.FromResult<IEnumerable<KeyValuePair<int, string>>?>(Inner(ks)), null, ct);
                return keys.ToDictionary(key => key, key => inner.TryGetValue(key, out var value) ? value : $"v{key}");
            }, null, CancellationToken.None).AsTask().WaitAsync(Patience);
        }

        Assert.That(result, Is.EqualTo(Values(1, 2)));
        Assert.That(nested, Is.EqualTo(new[] { new[] { 2 } }));
    }

    [Test]
    public async Task A_key_builder_that_throws_while_keys_board_leaves_no_flight_behind()
    {
        var method = NewMethod();
        var calls = 0;
        // Answers the read's call for each key, then throws for key 3 when the batch boards its keys.
        string Flaky(int key) => key == 3 && Interlocked.Increment(ref calls) > 1 ? throw new FormatException("builder") : $"k{key}";

        Assert.ThrowsAsync<FormatException>(async () => await method.InvokeAsync([2, 3], 0, (_, key) => Flaky(key), static (_, keys, _) => ValueTask.FromResult<IEnumerable<KeyValuePair<int, string>>?>(keys.ToDictionary(k => k, k => $"v{k}")), null, CancellationToken.None));

        var source = new Source { Hold = false };
        Assert.That(await CallAsync(method, source, [2]).AsTask().WaitAsync(Patience), Is.EqualTo(Values(2)), "key 2 boarded before the builder threw, and is free again");
        Assert.That(source.Calls, Is.EqualTo(new[] { new[] { 2 } }));
    }

    [Test]
    public async Task Once_a_batch_has_landed_a_later_miss_of_its_keys_asks_the_body_again()
    {
        var method = NewMethod();
        var source = new Source { Hold = false };
        await CallAsync(method, source, [1, 2]);
        _cache.Clear();
        Call(method, source, [1, 2]);
        await CallAsync(method, source, [2, 3]);

        Assert.That(source.Calls, Is.EqualTo(new[] { new[] { 1, 2 }, new[] { 1, 2 }, new[] { 3 } }));
    }

    [Test]
    public async Task A_batch_that_misses_while_another_batch_stores_the_key_takes_its_answer_without_waiting_for_the_store([Values] bool sync, [Values] bool failSafe)
    {
        using var backend = new ShortBackend();
        var method = NewMethod(failSafe, backend);
        var source = new Source { Hold = false };
        backend.HoldNextWrite("k1");
        var first = Task.Run(() => CallAsync(method, source, [1, 2]).AsTask());
        Assert.That(backend.WriteEntered.Wait(Patience), Is.True, "the first batch never stored");

        // The first batch has landed and stores: the second batch's read misses key 1, and the first batch's answer is
        // what it gets, while that store still waits.
        var second = sync ? Task.Run(() => Call(method, source, [1])) : CallAsync(method, source, [1]).AsTask();
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(Values(1)));
        backend.WriteGate.Set();

        Assert.That(await first.WaitAsync(Patience), Is.EqualTo(Values(1, 2)));
        Assert.That(source.Calls, Is.EqualTo(new[] { new[] { 1, 2 } }), "key 1 was computed once");
        Assert.That(backend.Exists("k1"), Is.True, "the first batch stored key 1");
    }

    [Test]
    public async Task A_batch_that_misses_while_another_batch_stores_a_key_an_invalidation_overtook_computes_that_key_itself([Values] bool sync)
    {
        using var backend = new ShortBackend();
        var method = NewMethod(cache: backend);
        var source = new Source();
        backend.HoldNextWrite("k2");
        var first = CallAsync(method, source, [1, 2]).AsTask();
        await WaitForCalls(source, 1);
        backend.Delete("k1");
        source.Release();
        Assert.That(backend.WriteEntered.Wait(Patience), Is.True, "the first batch never stored");

        // The first batch stores key 2 (not key 1: the delete moved its fence) and is still on the board.
        var second = sync ? Task.Run(() => Call(method, source, [1])) : CallAsync(method, source, [1]).AsTask();
        await WaitForCalls(source, 2);
        backend.WriteGate.Set();

        Assert.That(await first.WaitAsync(Patience), Is.EqualTo(Values(1, 2)));
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(Values(1)));
        Assert.That(source.Calls, Is.EqualTo(new[] { new[] { 1, 2 }, new[] { 1 } }), "the answer computed before the delete is not handed on");
        Assert.That(backend.Get<string>("k1"), Is.EqualTo("v1"), "the second batch stores its own computation");
    }

    [Test]
    public async Task A_batch_whose_read_missed_before_another_batch_stored_the_key_reads_it_again_rather_than_compute_it([Values] bool sync, [Values] bool failSafe)
    {
        using var backend = new ShortBackend();
        var method = NewMethod(failSafe, backend);
        var source = new Source { Hold = false };
        // Held after reading key 3, the last of its keys: its read of key 1 has missed by then.
        backend.HoldNextReadAfterReading("k3");
        var second = sync ? Task.Run(() => Call(method, source, [1, 3])) : Task.Run(() => CallAsync(method, source, [1, 3]).AsTask());
        Assert.That(backend.ReadEntered.Wait(Patience), Is.True, "the batch never read");

        // Another batch computes key 1, stores it and leaves the board before this one boards.
        Assert.That(await CallAsync(method, source, [1, 2]).AsTask().WaitAsync(Patience), Is.EqualTo(Values(1, 2)));
        backend.ReadGate.Set();

        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(Values(1, 3)));
        Assert.That(source.Calls, Is.EqualTo(new[] { new[] { 1, 2 }, new[] { 3 } }), "key 1 was computed once");
    }

    [Test]
    public async Task A_key_a_second_read_found_leaves_the_board_so_a_batch_that_misses_it_later_does_not_wait_for_that_body([Values] bool deleted, [Values] bool sync)
    {
        using var backend = new ShortBackend();
        var method = NewMethod(cache: backend);
        var held = new Source();
        var quick = new Source { Hold = false };
        backend.HoldNextReadAfterReading("k3");
        var first = Task.Run(() => CallAsync(method, held, [1, 3]).AsTask());
        Assert.That(backend.ReadEntered.Wait(Patience), Is.True, "the batch never read");
        Assert.That(await CallAsync(method, quick, [1, 2]).AsTask().WaitAsync(Patience), Is.EqualTo(Values(1, 2)));
        backend.ReadGate.Set();
        await WaitForCalls(held, 1);
        Assert.That(held.Calls, Is.EqualTo(new[] { new[] { 3 } }), "the first batch read key 1 again and found it");

        // Key 1 goes while the first batch's body computes key 3: deleted (its fence moves) or expired (nothing moves).
        if (deleted)
        {
            backend.Delete("k1");
        }
        else
        {
            backend.Evict("k1");
        }

        var third = sync ? Task.Run(() => Call(method, quick, [1])) : CallAsync(method, quick, [1]).AsTask();
        Assert.That(await third.WaitAsync(Patience), Is.EqualTo(Values(1)), "it computed key 1 without waiting for the first batch");
        Assert.That(quick.Calls, Is.EqualTo(new[] { new[] { 1, 2 }, new[] { 1 } }));
        held.Release();
        Assert.That(await first.WaitAsync(Patience), Is.EqualTo(Values(1, 3)));
    }

    [Test]
    public async Task On_a_cache_without_fenced_fills_a_landed_batch_leaves_the_board_at_once_so_a_miss_after_a_delete_computes_the_key([Values] bool sync)
    {
        using var inner = new SimpleMemoryCache();
        var cache = new DelegatingCache(inner);
        var method = NewMethod(cache: cache);
        var source = new Source { Hold = false };
        using var entered = new ManualResetEventSlim();
        using var gate = new ManualResetEventSlim();
        cache.BeforeNextMultiSet = () =>
        {
            entered.Set();
            gate.Wait(Patience);
        };
        var first = Task.Run(() => CallAsync(method, source, [1, 2]).AsTask());
        Assert.That(entered.Wait(Patience), Is.True, "the first batch never stored");

        // The first batch has landed and stores; without fills nothing tells it of this delete, so its answer for key 1
        // is not handed to a batch that misses the key after it.
        cache.Delete("k1");
        var second = sync ? Task.Run(() => Call(method, source, [1])) : CallAsync(method, source, [1]).AsTask();
        Assert.That(await second.WaitAsync(Patience), Is.EqualTo(Values(1)));
        gate.Set();

        Assert.That(await first.WaitAsync(Patience), Is.EqualTo(Values(1, 2)));
        Assert.That(source.Calls, Is.EqualTo(new[] { new[] { 1, 2 }, new[] { 1 } }));
    }

    [Test]
    public async Task A_batch_whose_read_missed_reads_again_only_when_a_batch_stored_a_key_of_its_stripe_since()
    {
        using var backend = new ShortBackend();
        var method = NewMethod(cache: backend);
        var source = new Source { Hold = false };
        await CallAsync(method, source, [1, 2]);
        var reads = backend.SingleReads;

        // Nothing stored since this batch's read began: one read of each key, no second one.
        Assert.That(await CallAsync(method, source, [3, 4]), Is.EqualTo(Values(3, 4)));
        Assert.That(backend.SingleReads - reads, Is.EqualTo(2));
        Assert.That(source.Calls, Is.EqualTo(new[] { new[] { 1, 2 }, new[] { 3, 4 } }));
    }

    [Test]
    public async Task Inside_SkipRead_a_batch_computes_its_keys_itself_even_while_another_batch_computes_them()
    {
        var method = NewMethod();
        var source = new Source();
        var first = CallAsync(method, source, [1, 2]).AsTask();
        await WaitForCalls(source, 1);

        Task<Dictionary<int, string>> fresh;
        using (CacheScope.SkipRead())
        {
            fresh = CallAsync(method, source, [2]).AsTask();
        }

        await WaitForCalls(source, 2);
        source.Release();
        await first.WaitAsync(Patience);
        Assert.That(await fresh.WaitAsync(Patience), Is.EqualTo(Values(2)));
        Assert.That(source.Calls, Is.EqualTo(new[] { new[] { 1, 2 }, new[] { 2 } }));
    }

    [Test]
    public async Task A_batch_inside_SkipWrite_is_not_waited_for_so_a_key_deleted_while_it_computes_is_computed_anew([Values] bool deleteMeanwhile)
    {
        // Found by a review of decorators.md: a batch inside SkipWrite opened no fills, so nothing told those waiting for
        // it that a key was deleted (or written) while it computed, and they took its answer. It now computes for itself
        // alone, as calls of one key inside SkipWrite do not hand a stale answer on either.
        var method = NewMethod();
        var source = new Source();
        // The scope stays open until its call ends (a scope counts only while open), in a flow of its own.
        var skipping = Task.Run(async () =>
        {
            using (CacheScope.SkipWrite())
            {
                return await CallAsync(method, source, [1, 2]);
            }
        });

        await WaitForCalls(source, 1);
        if (deleteMeanwhile)
        {
            _cache.Delete("k2");
        }

        var after = CallAsync(method, source, [2, 3]).AsTask();
        await WaitForCalls(source, 2);
        source.Release();

        Assert.That(await skipping.WaitAsync(Patience), Is.EqualTo(Values(1, 2)));
        Assert.That(await after.WaitAsync(Patience), Is.EqualTo(Values(2, 3)));
        Assert.That(source.Calls, Is.EqualTo(new[] { new[] { 1, 2 }, new[] { 2, 3 } }), "the second batch asked its own body for 2");
        Assert.That(_cache.Exists("k1"), Is.False, "the batch inside SkipWrite stored nothing");
        Assert.That(_cache.Get<string>("k2"), Is.EqualTo("v2"), "the second batch stored what it computed");
    }

    [Test]
    public async Task Many_overlapping_batches_compute_each_key_once()
    {
        var method = NewMethod();
        var source = new Source();
        var leader = CallAsync(method, source, [.. Enumerable.Range(0, 50)]).AsTask();
        await WaitForCalls(source, 1);
        // Each follower overlaps every batch before it and brings five keys of its own, which its body is asked for.
        var followers = new List<Task<Dictionary<int, string>>>();
        for (var i = 0; i < 10; i++)
        {
            var keys = Enumerable.Range(5 * i, 55).ToArray();
            followers.Add(Task.Run(() => CallAsync(method, source, keys).AsTask()));
            await WaitForCalls(source, i + 2);
        }

        source.Release();
        await leader.WaitAsync(Patience);
        var results = await Task.WhenAll(followers).WaitAsync(Patience);
        for (var i = 0; i < results.Length; i++)
        {
            Assert.That(results[i], Is.EqualTo(Values([.. Enumerable.Range(5 * i, 55)])));
        }

        var computed = source.Calls.SelectMany(call => call).ToList();
        Assert.That(computed, Is.Unique, "no key is computed twice");
        Assert.That(computed, Is.EquivalentTo(Enumerable.Range(0, 100)));
    }

    [Test]
    public async Task Many_concurrent_sync_and_async_batches_of_random_keys_compute_each_key_once([Values] bool failSafe)
    {
        // No gate: without invalidations a key is computed once whatever the interleaving (see the Redis twin of this test).
        var method = NewMethod(failSafe);
        var computed = new ConcurrentDictionary<int, int>();
        Dictionary<int, string> Compute(List<int> missing)
        {
            foreach (var key in missing)
            {
                computed.AddOrUpdate(key, 1, static (_, n) => n + 1);
            }

            return missing.ToDictionary(static key => key, static key => $"v{key}");
        }

        var callers = Enumerable.Range(0, 8).Select(caller => Task.Run(async () =>
        {
            var random = new Random(caller);
            for (var call = 0; call < 200; call++)
            {
                var keys = Enumerable.Range(0, 8).Select(_ => random.Next(400)).ToArray();
                var result = caller % 2 == 0
                    ? method.Invoke(keys, 0, static (_, key) => $"k{key}", (_, missing) => Compute(missing))
                    : await method.InvokeAsync(keys, 0, static (_, key) => $"k{key}", async (_, missing, _) =>
                    {
                        await Task.Yield();
                        return Compute(missing);
                    }, null, CancellationToken.None);
                Assert.That(result, Is.EqualTo(Values([.. keys.Distinct()])));
            }
        })).ToArray();

        await Task.WhenAll(callers).WaitAsync(Patience);
        Assert.That(computed.Where(static pair => pair.Value > 1).Select(static pair => $"{pair.Key} x{pair.Value}"), Is.Empty, "keys computed more than once");
    }

    /// <summary>Waits until the body has been called <paramref name="count"/> times.</summary>
    private static Task WaitForCalls(Source source, int count) => WaitUntil(() => source.Calls.Length >= count);

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the condition never held");
            await Task.Delay(5);
        }
    }
}
