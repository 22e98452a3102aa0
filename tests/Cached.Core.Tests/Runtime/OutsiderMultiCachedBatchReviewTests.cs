using Cached.Runtime;
using Cached.Tests.Commands;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Runtime;

/// <summary>
/// An outsider's review of <see cref="MultiCachedMethod{TKey, TValue}"/> batches: duplicates, keys a key builder folds
/// together, bodies that throw, return extra keys or nothing, cancellation at each step, invalidation while the body
/// runs, concurrent batches, empty input and keys that can have no entry mixed with duplicates.
/// </summary>
public sealed class OutsiderMultiCachedBatchReviewTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private FakeTimeProvider _time = null!;
    private SimpleMemoryCache _cache = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider();
        _cache = new SimpleMemoryCache { TimeProvider = _time };
    }

    [TearDown]
    public void TearDown() => _cache.Dispose();

    private MultiCachedMethod<string, string> Method(double failSafe = 0, string? @namespace = null, ICache? cache = null)
    {
        var target = cache ?? _cache;
        return new(new CachedMethodOptions { Method = "Outsider.Batch.Get", CacheFactory = () => target, Ttl = 10, FailSafe = failSafe, Namespace = @namespace });
    }

    private static string Plain(object state, string key) => key;

    private static string Folded(object state, string key) => key.ToLowerInvariant();

    /// <summary>A body that records what it is asked and answers every key with the current version.</summary>
    private sealed class Source
    {
        public List<string> Calls { get; } = [];

        public int Version { get; set; } = 1;

        public Dictionary<string, string> Load(List<string> keys)
        {
            Calls.Add(string.Join(",", keys.Select(static k => k is null ? "<null>" : "'" + k + "'")));
            return keys.Where(static k => k is not null).ToDictionary(static k => k, k => k + "@" + Version);
        }
    }

    private static async Task<Dictionary<string, string>> Call(bool async, MultiCachedMethod<string, string> method, Source source, Func<object, string, string> keyOf, IEnumerable<string> keys, CancellationToken cancellationToken = default)
        => async
            ? await method.InvokeAsync<object>(keys, source, keyOf, (s, missing, _) => new ValueTask<IEnumerable<KeyValuePair<string, string>>?>(((Source)s).Load(missing)), null, cancellationToken).AsTask().WaitAsync(Bound)
            : await Task.Run(() => method.Invoke<object>(keys, source, keyOf, static (s, missing) => ((Source)s).Load(missing))).WaitAsync(Bound);

    private static string Show(Dictionary<string, string> result)
        => string.Join(";", result.OrderBy(static p => p.Key, StringComparer.Ordinal).Select(static p => p.Key + "=" + p.Value));

    // ---- duplicates and case ----

    [Test]
    public async Task The_same_key_twice_is_computed_once_and_answered_once([Values] bool async)
    {
        var source = new Source();
        var method = Method();

        var result = await Call(async, method, source, Plain, ["a", "b", "a", "b", "a"]);

        Assert.That(source.Calls, Is.EqualTo(new[] { "'a','b'" }));
        Assert.That(Show(result), Is.EqualTo("a=a@1;b=b@1"));
        Assert.That(((BaseCache)_cache).OpenFills, Is.Zero);
    }

    [Test]
    public async Task Keys_that_differ_only_by_case_are_separate_entries_with_the_default_key([Values] bool async)
    {
        var source = new Source();
        var method = Method();

        var cold = await Call(async, method, source, Plain, ["A", "a"]);
        var warm = await Call(async, method, source, Plain, ["a", "A"]);

        Assert.That(Show(cold), Is.EqualTo("A=A@1;a=a@1"));
        Assert.That(Show(warm), Is.EqualTo("A=A@1;a=a@1"));
        Assert.That(source.Calls, Is.EqualTo(new[] { "'A','a'" }), "the second call is all hits");
        Assert.That(_cache.Get<string>("A"), Is.EqualTo("A@1"));
        Assert.That(_cache.Get<string>("a"), Is.EqualTo("a@1"));
    }

    [Test]
    public async Task Two_keys_a_key_builder_folds_into_one_cache_key_leave_no_fill_open([Values] bool async, [Values(0, 60)] double failSafe)
    {
        var source = new Source();
        var method = Method(failSafe);

        var result = await Call(async, method, source, Folded, ["A", "a"]);

        Assert.That(Show(result), Is.EqualTo("A=A@1;a=a@1"), "both keys the caller asked are answered");
        Assert.That(((BaseCache)_cache).OpenFills, Is.Zero, "every fill the batch opened is closed once it returns");
    }

    [Test]
    public async Task After_two_folded_keys_an_invalidation_of_that_key_makes_the_next_call_compute_it_again([Values] bool async)
    {
        var source = new Source();
        var method = Method();
        await Call(async, method, source, Folded, ["A", "a"]);

        method.Invalidate<object>(["A"], source, Folded);
        source.Version = 2;
        var again = await Call(async, method, source, Folded, ["a"]);

        Assert.That(Show(again), Is.EqualTo("a=a@2"));
        Assert.That(_cache.Get<string>("a"), Is.EqualTo("a@2"), "the new value is stored");
    }

    // ---- what the body returns ----

    [Test]
    public async Task A_body_that_throws_stores_nothing_and_the_exception_reaches_the_caller([Values] bool async, [Values(0, 60)] double failSafe)
    {
        var method = Method(failSafe);
        var boom = new InvalidOperationException("source down");
        _cache.Set("hit", "cached");

        Task<Dictionary<string, string>> call = async
            ? method.InvokeAsync<object>(["hit", "x", "y"], boom, static (_, k) => k, static (s, _, _) => throw (Exception)s, null, CancellationToken.None).AsTask()
            : Task.Run(() => method.Invoke<object>(["hit", "x", "y"], boom, static (_, k) => k, static (s, _) => throw (Exception)s));

        var thrown = Assert.ThrowsAsync<InvalidOperationException>(async () => await call.WaitAsync(Bound));
        Assert.That(thrown, Is.SameAs(boom));
        Assert.That(_cache.Exists("x") || _cache.Exists("y"), Is.False);
        Assert.That(_cache.Get<string>("hit"), Is.EqualTo("cached"));
        Assert.That(((BaseCache)_cache).OpenFills, Is.Zero);
    }

    [Test]
    public async Task A_body_returning_null_answers_the_hits_and_stores_nothing([Values] bool async)
    {
        var method = Method();
        _cache.Set("hit", "cached");

        var result = async
            ? await method.InvokeAsync<object>(["hit", "x"], 0, static (_, k) => k, static (_, _, _) => new ValueTask<IEnumerable<KeyValuePair<string, string>>?>((IEnumerable<KeyValuePair<string, string>>?)null), null, CancellationToken.None).AsTask().WaitAsync(Bound)
            : method.Invoke<object>(["hit", "x"], 0, static (_, k) => k, static (_, _) => null);

        Assert.That(Show(result), Is.EqualTo("hit=cached"));
        Assert.That(_cache.Exists("x"), Is.False);
        Assert.That(((BaseCache)_cache).OpenFills, Is.Zero);
    }

    [Test]
    public void Keys_the_body_does_not_return_are_neither_answered_nor_stored()
    {
        var method = Method();
        var calls = 0;

        Dictionary<string, string> Once() => method.Invoke<object>(["a", "gone"], 0, static (_, k) => k, (_, missing) =>
        {
            calls++;
            return missing.Where(static k => k != "gone").ToDictionary(static k => k, static k => "v" + k);
        });

        var first = Once();
        var second = Once();

        Assert.That(Show(first), Is.EqualTo("a=va"));
        Assert.That(Show(second), Is.EqualTo("a=va"));
        Assert.That(calls, Is.EqualTo(2), "the missing key is asked again");
        Assert.That(_cache.Exists("gone"), Is.False);
    }

    [Test]
    public async Task An_extra_key_the_body_returns_is_answered_and_cached_as_in_aiocache([Values] bool async)
    {
        var method = Method();
        var calls = new List<string>();
        IEnumerable<KeyValuePair<string, string>> Body(List<string> missing)
        {
            calls.Add(string.Join(",", missing));
            return missing.Append("extra").ToDictionary(static k => k, static k => "v" + k);
        }

        var result = async
            ? await method.InvokeAsync<object>(["a"], 0, static (_, k) => k, (_, missing, _) => new ValueTask<IEnumerable<KeyValuePair<string, string>>?>(Body(missing)), null, CancellationToken.None).AsTask().WaitAsync(Bound)
            : method.Invoke<object>(["a"], 0, static (_, k) => k, (_, missing) => Body(missing));

        Assert.That(Show(result), Is.EqualTo("a=va;extra=vextra"));
        Assert.That(_cache.Get<string>("extra"), Is.EqualTo("vextra"));
        Assert.That(((BaseCache)_cache).OpenFills, Is.Zero);
    }

    [Test]
    public async Task An_extra_key_invalidated_while_the_body_runs_is_not_stored_stale()
    {
        // The body computes "a" (asked) and "b" (not asked) from the old state; while it runs, the owner of "b"
        // changes it and invalidates "b". The batch must not put the old "b" back after that invalidation.
        var method = Method();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var call = method.InvokeAsync<object>(["a"], 0, static (_, k) => k, async (_, missing, _) =>
        {
            entered.TrySetResult();
            await release.Task.WaitAsync(Bound);
            return new Dictionary<string, string> { ["a"] = "old-a", ["b"] = "old-b" };
        }, null, CancellationToken.None).AsTask();

        await entered.Task.WaitAsync(Bound);
        await method.InvalidateAsync<object>(["b"], 0, static (_, k) => k, CancellationToken.None).AsTask().WaitAsync(Bound);
        release.TrySetResult();
        await call.WaitAsync(Bound);

        Assert.That(_cache.Exists("b"), Is.False, "an invalidation that came after the body read its state holds");
    }

    // ---- cancellation ----

    [Test]
    public async Task Cancelling_while_the_body_runs_ends_the_call_and_stores_nothing()
    {
        var method = Method();
        using var cts = new CancellationTokenSource();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var call = method.InvokeAsync<object>(["x", "y"], 0, static (_, k) => k, async (_, missing, ct) =>
        {
            entered.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return missing.ToDictionary(static k => k, static k => k);
        }, null, cts.Token).AsTask();

        await entered.Task.WaitAsync(Bound);
        await cts.CancelAsync();

        Assert.That(async () => await call.WaitAsync(Bound), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(_cache.Exists("x") || _cache.Exists("y"), Is.False);
        Assert.That(((BaseCache)_cache).OpenFills, Is.Zero);
    }

    [Test]
    public async Task Cancelling_while_the_MultiGet_waits_ends_the_call_without_calling_the_body()
    {
        using var gated = new GatedCache();
        var method = Method(cache: gated);
        using var cts = new CancellationTokenSource();
        var bodyCalls = 0;

        var call = method.InvokeAsync<object>(["x", "y"], 0, static (_, k) => k, (_, missing, _) =>
        {
            bodyCalls++;
            return new ValueTask<IEnumerable<KeyValuePair<string, string>>?>(missing.ToDictionary(static k => k, static k => k));
        }, null, cts.Token).AsTask();

        await Task.Yield();
        Assert.That(call.IsCompleted, Is.False, "the read waits at the gate");
        await cts.CancelAsync();

        Assert.That(async () => await call.WaitAsync(Bound), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(bodyCalls, Is.Zero);
        Assert.That(gated.OpenFills, Is.Zero);
        gated.Open();
    }

    [Test]
    public async Task Cancelling_while_the_MultiSet_waits_ends_the_call_and_leaves_no_fill_open()
    {
        using var gated = new GatedCache();
        var method = Method(cache: gated);
        using var cts = new CancellationTokenSource();
        var bodyDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task<Dictionary<string, string>> call;
        using (CacheScope.SkipRead())
        {
            call = method.InvokeAsync<object>(["x", "y"], 0, static (_, k) => k, (_, missing, _) =>
            {
                bodyDone.TrySetResult();
                return new ValueTask<IEnumerable<KeyValuePair<string, string>>?>(missing.ToDictionary(static k => k, static k => k));
            }, null, cts.Token).AsTask();
        }

        await bodyDone.Task.WaitAsync(Bound);
        await Task.Yield();
        Assert.That(call.IsCompleted, Is.False, "the write waits at the gate");
        await cts.CancelAsync();

        Assert.That(async () => await call.WaitAsync(Bound), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(gated.OpenFills, Is.Zero);
        gated.Open();
    }

    // ---- invalidation and concurrency ----

    [Test]
    public async Task An_invalidation_while_the_body_runs_keeps_that_key_out_and_stores_the_others([Values(0, 60)] double failSafe)
    {
        var method = Method(failSafe);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var call = method.InvokeAsync<object>(["a", "b"], 0, static (_, k) => k, async (_, missing, _) =>
        {
            entered.TrySetResult();
            await release.Task.WaitAsync(Bound);
            return missing.ToDictionary(static k => k, static k => "old-" + k);
        }, null, CancellationToken.None).AsTask();

        await entered.Task.WaitAsync(Bound);
        await method.InvalidateAsync<object>(["a"], 0, static (_, k) => k, CancellationToken.None).AsTask().WaitAsync(Bound);
        release.TrySetResult();
        var result = await call.WaitAsync(Bound);

        Assert.That(Show(result), Is.EqualTo("a=old-a;b=old-b"), "the caller still gets what the body returned");
        var next = await method.InvokeAsync<object>(["a", "b"], 0, static (_, k) => k, static (_, missing, _) => new ValueTask<IEnumerable<KeyValuePair<string, string>>?>(missing.ToDictionary(static k => k, static k => "new-" + k)), null, CancellationToken.None).AsTask().WaitAsync(Bound);
        Assert.That(Show(next), Is.EqualTo("a=new-a;b=old-b"));
    }

    [Test]
    public async Task A_slow_batch_does_not_overwrite_a_newer_entry_a_single_key_batch_stored_meanwhile()
    {
        var method = Method();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var slow = method.InvokeAsync<object>(["k", "j"], 0, static (_, k) => k, async (_, missing, _) =>
        {
            entered.TrySetResult();
            await release.Task.WaitAsync(Bound);
            return missing.ToDictionary(static k => k, static k => "old-" + k);
        }, null, CancellationToken.None).AsTask();

        await entered.Task.WaitAsync(Bound);
        _cache.Delete("k"); // the source changed k
        var single = method.Invoke<object>(["k"], 0, static (_, k) => k, static (_, missing) => missing.ToDictionary(static k => k, static k => "new-" + k));
        release.TrySetResult();
        await slow.WaitAsync(Bound);

        Assert.That(single["k"], Is.EqualTo("new-k"));
        Assert.That(_cache.Get<string>("k"), Is.EqualTo("new-k"), "the older value computed before the change does not win");
        Assert.That(_cache.Get<string>("j"), Is.EqualTo("old-j"));
    }

    [Test]
    public async Task Invalidate_with_duplicates_nulls_and_empty_keys_drops_each_entry_once([Values] bool async)
    {
        var method = Method(@namespace: "ns");
        _cache.Set("a", "1", null, "ns");
        _cache.Set("b", "2", null, "ns");

        if (async)
        {
            await method.InvalidateAsync<object>(["a", null!, "a", "", null!], 0, static (_, k) => k, CancellationToken.None).AsTask().WaitAsync(Bound);
        }
        else
        {
            method.Invalidate<object>(["a", null!, "a", "", null!], 0, static (_, k) => k);
        }

        Assert.That(_cache.Exists("a", "ns"), Is.False);
        Assert.That(_cache.Exists("b", "ns"), Is.True);
    }

    // ---- empty, null, uncacheable ----

    [Test]
    public async Task An_empty_or_null_key_collection_calls_the_body_once_with_no_keys_and_answers_nothing([Values] bool async, [Values] bool isNull)
    {
        var source = new Source();
        var method = Method();

        var result = await Call(async, method, source, Plain, isNull ? null! : Array.Empty<string>());

        Assert.That(result, Is.Empty);
        Assert.That(source.Calls, Is.EqualTo(new[] { string.Empty }), "as aiocache: no read, the function still called");
    }

    [Test]
    public async Task Uncacheable_keys_mixed_with_duplicates_go_to_the_body_once_each_in_order_on_every_call([Values] bool async, [Values(0, 60)] double failSafe)
    {
        var source = new Source();
        var method = Method(failSafe);
        string[] keys = ["a", null!, "a", "", null!, "b", ""];

        var cold = await Call(async, method, source, Plain, keys);
        var warm = await Call(async, method, source, Plain, keys);

        Assert.That(source.Calls, Is.EqualTo(new[] { "'a',<null>,'','b'", "<null>,''" }));
        Assert.That(Show(cold), Is.EqualTo("=@1;a=a@1;b=b@1"));
        Assert.That(Show(warm), Is.EqualTo("=@1;a=a@1;b=b@1"));
        Assert.That(((BaseCache)_cache).OpenFills, Is.Zero);
    }

    // ---- TTL, namespace, skip ----

    [Test]
    public async Task Entries_expire_after_the_ttl_and_live_in_the_methods_namespace([Values] bool async)
    {
        var source = new Source();
        var method = Method(@namespace: "batch");

        await Call(async, method, source, Plain, ["a"]);
        Assert.That(_cache.Get<string>("a", null, "batch"), Is.EqualTo("a@1"));
        Assert.That(_cache.Exists("a"), Is.False, "not outside the namespace");

        _time.Advance(TimeSpan.FromSeconds(11));
        source.Version = 2;
        var later = await Call(async, method, source, Plain, ["a"]);

        Assert.That(Show(later), Is.EqualTo("a=a@2"));
    }

    [Test]
    public async Task A_skipped_value_is_answered_but_not_stored([Values] bool async)
    {
        var method = Method();
        Func<object, string, string, bool> skip = static (_, _, v) => v.StartsWith("skip", StringComparison.Ordinal);

        var result = async
            ? await method.InvokeAsync<object>(["a", "b"], 0, static (_, k) => k, static (_, missing, _) => new ValueTask<IEnumerable<KeyValuePair<string, string>>?>(new Dictionary<string, string> { ["a"] = "skip-a", ["b"] = "keep-b" }), skip, CancellationToken.None).AsTask().WaitAsync(Bound)
            : method.Invoke<object>(["a", "b"], 0, static (_, k) => k, static (_, missing) => new Dictionary<string, string> { ["a"] = "skip-a", ["b"] = "keep-b" }, skip);

        Assert.That(Show(result), Is.EqualTo("a=skip-a;b=keep-b"));
        Assert.That(_cache.Exists("a"), Is.False);
        Assert.That(_cache.Get<string>("b"), Is.EqualTo("keep-b"));
        Assert.That(((BaseCache)_cache).OpenFills, Is.Zero);
    }

    // ---- shared entries with a single-key method (docs/decorators.md "One set of entries") ----

    [Test]
    public async Task A_batch_fills_the_entries_a_single_key_method_with_the_same_key_builder_reads([Values] bool async)
    {
        // NullValuesMiss: what generated code sets for a dictionary whose values are declared non-nullable.
        var batch = new MultiCachedMethod<int, string>(new CachedMethodOptions { Method = "Outsider.Customers.GetMany", CacheFactory = () => _cache, Ttl = 300, NullValuesMiss = true });
        var single = new CachedMethod<string?>(new CachedMethodOptions { Method = "Outsider.Customers.Get", CacheFactory = () => _cache, Ttl = 300 });
        var singleCalls = 0;

        var many = async
            ? await batch.InvokeAsync<object>([1, 2], 0, static (_, id) => "customer:" + id, static (_, ids, _) => new ValueTask<IEnumerable<KeyValuePair<int, string>>?>(ids.ToDictionary(static id => id, static id => "c" + id)), null, CancellationToken.None).AsTask().WaitAsync(Bound)
            : batch.Invoke<object>([1, 2], 0, static (_, id) => "customer:" + id, static (_, ids) => ids.ToDictionary(static id => id, static id => "c" + id));
        var one = single.Invoke("customer:2", 0, _ => { singleCalls++; return "fresh"; });

        Assert.That((many.Count, one, singleCalls), Is.EqualTo((2, "c2", 0)));
    }

    [Test]
    public async Task A_missing_item_the_single_key_method_cached_as_null_is_not_answered_as_a_null_value_by_the_batch([Values] bool async)
    {
        // The documented pattern: Customer? Get(int id) caches a null for an unknown id ("A null result is cached like
        // any other"); Dictionary<int, Customer> GetMany(int[] ids) answers only the customers that exist (its body
        // returns no entry for an unknown id, and "Keys the body does not return are not ... in the result"). Once Get(7)
        // has run, GetMany([7]) must not hand its caller a Dictionary<int, Customer> holding a null Customer.
        // NullValuesMiss: what generated code sets for a dictionary whose values are declared non-nullable.
        var batch = new MultiCachedMethod<int, string>(new CachedMethodOptions { Method = "Outsider.Customers.GetMany", CacheFactory = () => _cache, Ttl = 300, NullValuesMiss = true });
        var single = new CachedMethod<string?>(new CachedMethodOptions { Method = "Outsider.Customers.Get", CacheFactory = () => _cache, Ttl = 300 });
        Assert.That(single.Invoke("customer:7", 0, static _ => (string?)null), Is.Null);

        var many = async
            ? await batch.InvokeAsync<object>([7, 1], 0, static (_, id) => "customer:" + id, static (_, ids, _) => new ValueTask<IEnumerable<KeyValuePair<int, string>>?>(ids.Where(static id => id == 1).ToDictionary(static id => id, static id => "c" + id)), null, CancellationToken.None).AsTask().WaitAsync(Bound)
            : batch.Invoke<object>([7, 1], 0, static (_, id) => "customer:" + id, static (_, ids) => ids.Where(static id => id == 1).ToDictionary(static id => id, static id => "c" + id));

        Assert.That(many.Values, Has.None.Null, "the batch's values are non-nullable Customers: " + string.Join(";", many.Select(static p => p.Key + "=" + (p.Value ?? "<null>"))));
    }

    [Test]
    public async Task A_null_the_single_key_method_cached_is_a_miss_for_the_batch_also_when_every_key_hits([Values] bool async)
    {
        // Regression: the all-hit path of an in-process cache (every key found, no MultiGet) answered the null.
        var batch = new MultiCachedMethod<int, string>(new CachedMethodOptions { Method = "Outsider.Customers.GetMany", CacheFactory = () => _cache, Ttl = 300, NullValuesMiss = true });
        var single = new CachedMethod<string?>(new CachedMethodOptions { Method = "Outsider.Customers.Get", CacheFactory = () => _cache, Ttl = 300 });
        Assert.That(single.Invoke("customer:7", 0, static _ => (string?)null), Is.Null);
        var asked = new List<int>();

        var many = async
            ? await batch.InvokeAsync<object>([7], 0, static (_, id) => "customer:" + id, (_, ids, _) => { asked.AddRange(ids); return new ValueTask<IEnumerable<KeyValuePair<int, string>>?>(new Dictionary<int, string>()); }, null, CancellationToken.None).AsTask().WaitAsync(Bound)
            : batch.Invoke<object>([7], 0, static (_, id) => "customer:" + id, (_, ids) => { asked.AddRange(ids); return new Dictionary<int, string>(); });

        Assert.That(many, Is.Empty);
        Assert.That(asked, Is.EqualTo(new[] { 7 }), "the body was asked for the key whose entry holds null");
    }

    [Test]
    public async Task Fail_safe_does_not_answer_last_values_when_the_callers_own_token_cancels_the_body()
    {
        var source = new Source();
        var method = Method(failSafe: 60);
        await Call(true, method, source, Plain, ["a"]);
        _time.Advance(TimeSpan.FromSeconds(11));
        using var cts = new CancellationTokenSource();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var call = method.InvokeAsync<object>(["a"], 0, static (_, k) => k, async (_, missing, ct) =>
        {
            entered.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return missing.ToDictionary(static k => k, static k => k);
        }, null, cts.Token).AsTask();

        await entered.Task.WaitAsync(Bound);
        await cts.CancelAsync();

        Assert.That(async () => await call.WaitAsync(Bound), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(((BaseCache)_cache).OpenFills, Is.Zero);
    }

    [Test]
    public async Task A_slow_batch_does_not_overwrite_what_a_concurrent_single_key_call_stored_after_a_change()
    {
        // NullValuesMiss: what generated code sets for a dictionary whose values are declared non-nullable.
        var batch = new MultiCachedMethod<int, string>(new CachedMethodOptions { Method = "Outsider.Customers.GetMany", CacheFactory = () => _cache, Ttl = 300, NullValuesMiss = true });
        var single = new CachedMethod<string>(new CachedMethodOptions { Method = "Outsider.Customers.Get", CacheFactory = () => _cache, Ttl = 300 });
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var slow = batch.InvokeAsync<object>([1, 2], 0, static (_, id) => "customer:" + id, async (_, ids, _) =>
        {
            entered.TrySetResult();
            await release.Task.WaitAsync(Bound);
            return ids.ToDictionary(static id => id, static id => "old" + id);
        }, null, CancellationToken.None).AsTask();

        await entered.Task.WaitAsync(Bound);
        _cache.Delete("customer:1"); // customer 1 renamed: [InvalidateCache] drops its entry
        var fresh = await single.InvokeAsync("customer:1", 0, static (_, _) => new ValueTask<string>("new1"), null, CancellationToken.None).AsTask().WaitAsync(Bound);
        release.TrySetResult();
        var answered = await slow.WaitAsync(Bound);

        Assert.That((fresh, answered[1]), Is.EqualTo(("new1", "old1")));
        Assert.That(_cache.Get<string>("customer:1"), Is.EqualTo("new1"), "the value read before the rename does not replace the one after it");
        Assert.That(_cache.Get<string>("customer:2"), Is.EqualTo("old2"));
    }

    [Test]
    public async Task Fail_safe_answers_the_last_values_when_the_body_fails_even_with_duplicates_in_the_input([Values] bool async)
    {
        var source = new Source();
        var method = Method(failSafe: 60);
        await Call(async, method, source, Plain, ["a", "b"]);
        _time.Advance(TimeSpan.FromSeconds(11));

        Task<Dictionary<string, string>> call = async
            ? method.InvokeAsync<object>(["a", "b", "a"], 0, static (_, k) => k, static (_, _, _) => throw new InvalidOperationException("down"), null, CancellationToken.None).AsTask()
            : Task.Run(() => method.Invoke<object>(["a", "b", "a"], 0, static (_, k) => k, static (_, _) => throw new InvalidOperationException("down")));

        var result = await call.WaitAsync(Bound);
        Assert.That(Show(result), Is.EqualTo("a=a@1;b=b@1"));
        Assert.That(((BaseCache)_cache).OpenFills, Is.Zero);
    }

    [Test]
    public async Task Ten_thousand_keys_are_read_with_one_MultiGet_and_stored_with_one_fill([Values] bool async)
    {
        var source = new Source();
        var method = Method();
        var keys = Enumerable.Range(0, 10_000).Select(static i => "k" + i).ToArray();

        var cold = await Call(async, method, source, Plain, keys);
        var warm = await Call(async, method, source, Plain, keys);

        Assert.That(cold, Has.Count.EqualTo(10_000));
        Assert.That(warm, Has.Count.EqualTo(10_000));
        Assert.That(source.Calls, Has.Count.EqualTo(1));
        Assert.That(((BaseCache)_cache).OpenFills, Is.Zero);
    }
}
