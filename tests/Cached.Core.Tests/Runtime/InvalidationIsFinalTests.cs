using Cached.Capabilities;
using Cached.Runtime;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Runtime;

/// <summary>
/// An invalidation is final (issue 13, item 1): a body that began before a Delete, Clear, Expire or another writer's Set
/// of its key never stores its result after it, and no call that begins after the invalidation returned gets that
/// body's result. Each race is forced with gates inside the body, never with sleeps.
/// </summary>
public sealed class InvalidationIsFinalTests
{
    private const string Method = "Tests.Service.GetUser";
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);

    public enum Invalidation
    {
        Delete,
        Clear,
        ClearNamespace,
        Set,
        Expire,
        MultiSet,
        Add,

        // Raw writes on backend keys (regression: a raw write moved no fence, so the older body stored over it).
        RawSet,
        RawPop,
        RawClear,
    }

    private static CachedMethod<string> MethodOn(ICache cache, string? @namespace = "users")
        => new(new CachedMethodOptions { Method = Method, CacheFactory = () => cache, Namespace = @namespace });

    /// <summary>What the key holds after the invalidation: nothing, or the other writer's value.</summary>
    private static string? Invalidate(ICache cache, Invalidation how)
    {
        switch (how)
        {
            case Invalidation.Delete:
                cache.Delete("k", "users");
                return null;
            case Invalidation.Clear:
                cache.Clear();
                return null;
            case Invalidation.ClearNamespace:
                cache.Clear("users");
                return null;
            case Invalidation.Set:
                cache.Set("k", "newer", null, "users");
                return "newer";
            case Invalidation.Expire:
                cache.Set("k", "newer", null, "users");
                cache.Expire("k", TimeSpan.FromMilliseconds(1), "users");
                return null;
            case Invalidation.MultiSet:
                cache.MultiSet([new KeyValuePair<string, string>("k", "newer")], null, "users");
                return "newer";
            case Invalidation.RawSet:
                cache.Raw("set", cache.BuildKey("k", "users"), "newer");
                return "newer";
            case Invalidation.RawPop:
                // Of a key not stored yet: the pop itself must refuse the fill.
                cache.Raw("pop", cache.BuildKey("k", "users"));
                return null;
            case Invalidation.RawClear:
                cache.Raw("clear");
                return null;
            default:
                cache.Add("k", "newer", null, "users");
                return "newer";
        }
    }

    /// <summary>A body that reports it started and returns <paramref name="value"/> only once released.</summary>
    private sealed class GatedBody(string value)
    {
        public readonly TaskCompletionSource Started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly TaskCompletionSource Release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Calls;

        public async ValueTask<string> RunAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            Started.TrySetResult();
            await Release.Task.WaitAsync(s_limit, cancellationToken);
            return value;
        }

        public string Run()
        {
            Interlocked.Increment(ref Calls);
            Started.TrySetResult();
            Release.Task.Wait(s_limit);
            return value;
        }
    }

    private static ValueTask<string> CallAsync(CachedMethod<string> method, GatedBody body)
        => method.InvokeAsync("k", body, static (b, ct) => b.RunAsync(ct), null, CancellationToken.None);

    [Test]
    public async Task A_body_overtaken_by_an_invalidation_does_not_store_its_result([Values] Invalidation how)
    {
        var time = new FakeTimeProvider();
        using var cache = new SimpleMemoryCache { TimeProvider = time };
        var method = MethodOn(cache);
        var body = new GatedBody("old");

        var leader = CallAsync(method, body).AsTask();
        await body.Started.Task.WaitAsync(s_limit);
        var expected = Invalidate(cache, how);
        body.Release.SetResult();

        // A write's value stands in the cache, and the flight hands it to its callers rather than a value it could not
        // store; so does a write whose expiry is yet to come (the clock stands still here).
        var answer = how is Invalidation.Expire ? "newer" : expected ?? "old";
        Assert.That(await leader.WaitAsync(s_limit), Is.EqualTo(answer), "the caller whose call began before the invalidation gets its result, or the value that overtook it");
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(cache.Get<string>("k", null, "users"), Is.EqualTo(expected), "the invalidation stands: the older result was not stored over it");
    }

    [Test]
    public async Task A_raw_read_leaves_the_fill_alone([Values("get", "contains", "keys", "count")] string command)
    {
        // Only a raw command that may write refuses the fills open: a read would otherwise cost the flight its store.
        using var cache = new SimpleMemoryCache();
        var method = MethodOn(cache);
        var body = new GatedBody("value");

        var leader = CallAsync(method, body).AsTask();
        await body.Started.Task.WaitAsync(s_limit);
        _ = command is "get" or "contains" ? cache.Raw(command, cache.BuildKey("k", "users")) : cache.Raw(command);
        body.Release.SetResult();

        Assert.That(await leader.WaitAsync(s_limit), Is.EqualTo("value"));
        Assert.That(cache.Get<string>("k", null, "users"), Is.EqualTo("value"));
    }

    [Test]
    public async Task A_raw_command_refused_for_its_arguments_leaves_the_fill_alone()
    {
        // From the review of raw fences: the command and its arguments were checked where the command ran, after every
        // open fill had been refused, so a misspelt command cost every cached body in flight its store.
        using var cache = new SimpleMemoryCache();
        var method = MethodOn(cache);
        var body = new GatedBody("value");

        var leader = CallAsync(method, body).AsTask();
        await body.Started.Task.WaitAsync(s_limit);
        Assert.That(() => cache.Raw("sett", "k", 1), Throws.ArgumentException.With.Property("ParamName").EqualTo("command"));
        Assert.That(() => cache.Raw("set", "k"), Throws.ArgumentException.With.Property("ParamName").EqualTo("args"));
        Assert.That(async () => await cache.RawAsync("clear", ["extra"]), Throws.ArgumentException.With.Property("ParamName").EqualTo("args"));
        body.Release.SetResult();

        Assert.That(await leader.WaitAsync(s_limit), Is.EqualTo("value"));
        Assert.That(cache.Get<string>("k", null, "users"), Is.EqualTo("value"));
    }

    [Test]
    public void A_sync_body_overtaken_by_a_delete_does_not_store_its_result()
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn(cache);
        var body = new GatedBody("old");

        var leader = Task.Factory.StartNew(() => method.Invoke("k", body, static b => b.Run()), TaskCreationOptions.LongRunning);
        Assert.That(body.Started.Task.Wait(s_limit), Is.True);
        cache.Delete("k", "users");
        body.Release.SetResult();

        Assert.That(leader.Wait(s_limit), Is.True);
        Assert.That(leader.Result, Is.EqualTo("old"));
        Assert.That(cache.Exists("k", "users"), Is.False);
    }

    [Test]
    public async Task A_body_that_no_invalidation_overtook_stores_its_result()
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn(cache);
        var body = new GatedBody("value");

        var leader = CallAsync(method, body).AsTask();
        await body.Started.Task.WaitAsync(s_limit);
        cache.Delete("other", "users");
        cache.Set("k", "elsewhere", null, "products");
        body.Release.SetResult();

        Assert.That(await leader.WaitAsync(s_limit), Is.EqualTo("value"));
        Assert.That(cache.Get<string>("k", null, "users"), Is.EqualTo("value"), "invalidations of other keys leave the fill alone");
    }

    [Test]
    public async Task A_call_that_begins_after_an_invalidation_returned_does_not_join_the_older_flight()
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn(cache);
        var older = new GatedBody("old");
        var olderCall = CallAsync(method, older).AsTask();
        await older.Started.Task.WaitAsync(s_limit);

        await cache.DeleteAsync("k", "users");
        var newer = new GatedBody("new");
        newer.Release.SetResult();
        var newerCall = CallAsync(method, newer).AsTask();

        Assert.That(await newerCall.WaitAsync(s_limit), Is.EqualTo("new"), "the call after the delete computed anew instead of waiting for the older body");
        Assert.That(olderCall.IsCompleted, Is.False, "the older body was still running");
        older.Release.SetResult();
        Assert.That(await olderCall.WaitAsync(s_limit), Is.EqualTo("new"), "the older call answers with the value that stands, not the one it could not store");
        Assert.That(cache.Get<string>("k", null, "users"), Is.EqualTo("new"), "the newer computation stands");
    }

    [Test]
    public async Task A_waiter_of_a_flight_that_was_overtaken_computes_anew_instead_of_taking_its_result()
    {
        // The waiter boards before the delete; the delete then overtakes the flight. The waiter may not be able to
        // tell when the delete came (on Redis it may come from another process), so it computes anew, once.
        using var cache = new SimpleMemoryCache();
        var method = MethodOn(cache);
        var body = new GatedBody("old");
        var leader = CallAsync(method, body).AsTask();
        await body.Started.Task.WaitAsync(s_limit);
        // A memory read completes synchronously, so the call has boarded the flight by the time it returns.
        var waiter = CallAsync(method, body).AsTask();
        Assert.That(body.Calls, Is.EqualTo(1), "the second call waits for the flight");

        cache.Delete("k", "users");
        body.Release.SetResult();

        Assert.That(await leader.WaitAsync(s_limit), Is.EqualTo("old"));
        Assert.That(await waiter.WaitAsync(s_limit), Is.EqualTo("old"));
        Assert.That(body.Calls, Is.EqualTo(2), "the waiter ran the body again rather than take the overtaken result");
        Assert.That(cache.Get<string>("k", null, "users"), Is.EqualTo("old"), "its own, newer computation was stored");
    }

    [Test]
    public async Task A_flight_whose_fill_a_write_refused_answers_every_caller_with_the_written_value([Values] bool resilient)
    {
        // An outside check saw one process answer its callers with two values: the leader its own result, the waiters
        // (who computed anew) another. The value that stands in the cache is what the whole flight answers with.
        using var cache = new SimpleMemoryCache();
        var method = resilient
            ? new CachedMethod<string>(new CachedMethodOptions { Method = Method, CacheFactory = () => cache, Namespace = "users", Ttl = 60, FailSafe = 600 })
            : MethodOn(cache);
        var body = new GatedBody("old");
        var leader = CallAsync(method, body).AsTask();
        await body.Started.Task.WaitAsync(s_limit);
        var waiter = CallAsync(method, body).AsTask();
        Assert.That(body.Calls, Is.EqualTo(1), "the second call waits for the flight");

        cache.Set("k", "newer", null, "users");
        body.Release.SetResult();

        Assert.That(await leader.WaitAsync(s_limit), Is.EqualTo("newer"));
        Assert.That(await waiter.WaitAsync(s_limit), Is.EqualTo("newer"));
        Assert.That(body.Calls, Is.EqualTo(1), "nobody computed again: the cache held a value newer than the flight's");
        Assert.That(cache.Get<string>("k", null, "users"), Is.EqualTo("newer"));
    }

    [Test]
    public void A_sync_flight_whose_fill_a_write_refused_answers_with_the_written_value([Values] bool resilient)
    {
        using var cache = new SimpleMemoryCache();
        var method = resilient
            ? new CachedMethod<string>(new CachedMethodOptions { Method = Method, CacheFactory = () => cache, Namespace = "users", Ttl = 60, FailSafe = 600 })
            : MethodOn(cache);
        var body = new GatedBody("old");

        var leader = Task.Factory.StartNew(() => method.Invoke("k", body, static b => b.Run()), TaskCreationOptions.LongRunning);
        Assert.That(body.Started.Task.Wait(s_limit), Is.True);
        cache.Set("k", "newer", null, "users");
        body.Release.SetResult();

        Assert.That(leader.Wait(s_limit), Is.True);
        Assert.That(leader.Result, Is.EqualTo("newer"));
        Assert.That(cache.Get<string>("k", null, "users"), Is.EqualTo("newer"));
    }

    [Test]
    public async Task A_flight_whose_fill_a_skip_read_scope_refused_keeps_its_own_result()
    {
        // A call that skips reads (a forced refresh) never answers with what the cache holds.
        using var cache = new SimpleMemoryCache();
        var method = MethodOn(cache);
        var body = new GatedBody("computed");
        using (CacheScope.SkipRead())
        {
            var leader = CallAsync(method, body).AsTask();
            await body.Started.Task.WaitAsync(s_limit);
            cache.Set("k", "newer", null, "users");
            body.Release.SetResult();

            Assert.That(await leader.WaitAsync(s_limit), Is.EqualTo("computed"));
        }
    }

    [Test]
    public async Task With_caching_switched_off_a_waiter_shares_the_flight_and_the_body_runs_once()
    {
        // Nothing is stored when caching is off, and that is no invalidation: the flight's result is current.
        using var cache = new SimpleMemoryCache();
        var method = MethodOn(cache);
        var body = new GatedBody("value");
        Cache.Disabled = true;
        try
        {
            var leader = CallAsync(method, body).AsTask();
            await body.Started.Task.WaitAsync(s_limit);
            var waiter = CallAsync(method, body).AsTask();
            body.Release.SetResult();

            Assert.That(await leader.WaitAsync(s_limit), Is.EqualTo("value"));
            Assert.That(await waiter.WaitAsync(s_limit), Is.EqualTo("value"));
            Assert.That(body.Calls, Is.EqualTo(1));
            using var fill = ((IFencedFillCache)cache).OpenFill("k");
            Assert.That(((IFencedFillCache)cache).TryFill(fill, "v"), Is.True, "a write answers true while caching is off");
        }
        finally
        {
            Cache.Disabled = false;
        }
    }

    [Test]
    public async Task A_call_that_skips_the_read_never_joins_an_older_flight()
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn(cache);
        var older = new GatedBody("old");
        var olderCall = CallAsync(method, older).AsTask();
        await older.Started.Task.WaitAsync(s_limit);

        var refresh = new GatedBody("refreshed");
        refresh.Release.SetResult();
        string refreshed;
        using (CacheScope.SkipRead())
        {
            refreshed = await CallAsync(method, refresh).AsTask().WaitAsync(s_limit);
        }

        Assert.That(refreshed, Is.EqualTo("refreshed"));
        Assert.That(refresh.Calls, Is.EqualTo(1));
        older.Release.SetResult();
        await olderCall.WaitAsync(s_limit);
    }

    [Test]
    public async Task A_multi_cached_batch_does_not_restore_an_entry_deleted_while_its_body_ran()
    {
        using var cache = new SimpleMemoryCache();
        var method = new MultiCachedMethod<string, string>(new CachedMethodOptions { Method = Method, CacheFactory = () => cache, Namespace = "users" });
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var call = method.InvokeAsync(
            ["a", "b"],
            (started, release),
            static (_, key) => key,
            static async (gates, keys, ct) =>
            {
                gates.started.SetResult();
                await gates.release.Task.WaitAsync(s_limit, ct);
                return keys.Select(static key => new KeyValuePair<string, string>(key, "old " + key));
            },
            null,
            CancellationToken.None).AsTask();
        await started.Task.WaitAsync(s_limit);
        cache.Delete("a", "users");
        release.SetResult();

        var result = await call.WaitAsync(s_limit);
        Assert.That(result, Has.Count.EqualTo(2));
        Assert.That(cache.Exists("a", "users"), Is.False, "the deleted entry stays deleted");
        Assert.That(cache.Get<string>("b", null, "users"), Is.EqualTo("old b"), "the entry nothing invalidated is stored");
    }

    [Test]
    public void A_sync_multi_cached_batch_does_not_restore_an_entry_overwritten_while_its_body_ran()
    {
        using var cache = new SimpleMemoryCache();
        var method = new MultiCachedMethod<string, string>(new CachedMethodOptions { Method = Method, CacheFactory = () => cache, Namespace = "users" });
        var result = method.Invoke(
            ["a", "b"],
            cache,
            static (_, key) => key,
            static (c, keys) =>
            {
                c.Set("a", "newer", null, "users");
                return keys.Select(static key => new KeyValuePair<string, string>(key, "old " + key));
            });

        Assert.That(result["a"], Is.EqualTo("old a"));
        Assert.That(cache.Get<string>("a", null, "users"), Is.EqualTo("newer"), "the newer Set wins over the older computation");
        Assert.That(cache.Get<string>("b", null, "users"), Is.EqualTo("old b"));
    }

    // ---- the capability itself ----

    [Test]
    public async Task A_fill_stores_only_while_its_key_is_untouched()
    {
        using var cache = new SimpleMemoryCache();
        IFencedFillCache fills = cache;

        using (var fill = fills.OpenFill("k"))
        {
            Assert.That(fills.IsCurrent(fill), Is.True);
            Assert.That(fills.TryFill(fill, "first"), Is.True);
        }

        using (var fill = await fills.OpenFillAsync("k"))
        {
            await cache.DeleteAsync("k");
            Assert.That(fills.IsCurrent(fill), Is.False);
            Assert.That(await fills.TryFillAsync(fill, "stale"), Is.False);
        }

        Assert.That(cache.Exists("k"), Is.False);
    }

    [Test]
    public async Task An_async_fill_on_a_shared_store_reports_what_goes_wrong_in_its_task_not_at_the_call()
    {
        using var cache = new Cached.Distributed.DistributedCacheBackend(
            new Microsoft.Extensions.Caching.Distributed.MemoryDistributedCache(Microsoft.Extensions.Options.Options.Create(new Microsoft.Extensions.Caching.Memory.MemoryDistributedCacheOptions())));
        IFencedFillCache fills = cache;
        using var fill = await fills.OpenFillAsync("k");
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var refused = fills.TryFillAsync(fill, "v", serializer: new RefusingSerializer());
        var stopped = fills.TryFillAsync(fill, "v", cancellationToken: cancelled.Token);
        var foreign = fills.TryFillManyAsync([KeyValuePair.Create(fill, "v"), KeyValuePair.Create(((IFencedFillCache)new SimpleMemoryCache()).OpenFill("x"), "w")]);

        Assert.That(refused.IsFaulted, Is.True);
        Assert.That(async () => await refused, Throws.InstanceOf<CacheSerializationException>().Or.InstanceOf<NotSupportedException>());
        Assert.That(stopped.IsCanceled, Is.True);
        Assert.That(foreign.IsFaulted, Is.True);
        Assert.That(async () => await foreign, Throws.ArgumentException);
        Assert.That(await fills.TryFillAsync(fill, "v"), Is.True, "the ticket is still good");
    }

    private sealed class RefusingSerializer : Cached.Serializers.ISerializer
    {
        public bool StoresReferences => false;

        public void Serialize<T>(System.Buffers.IBufferWriter<byte> destination, T value) => throw new NotSupportedException("refused");

        public T? Deserialize<T>(System.Buffers.ReadOnlySequence<byte> payload) => throw new NotSupportedException("refused");
    }

    [Test]
    public void A_fill_ticket_works_only_with_the_cache_that_opened_it()
    {
        using var one = new SimpleMemoryCache();
        using var other = new SimpleMemoryCache();
        using var fill = ((IFencedFillCache)one).OpenFill("k");

        var refused = Assert.Throws<ArgumentException>(() => ((IFencedFillCache)other).TryFill(fill, "v"));
        Assert.That(refused!.ParamName, Is.EqualTo("ticket"));
    }

    [Test]
    public void Fills_of_one_key_that_overlap_are_each_fenced_until_the_last_closes()
    {
        using var cache = new SimpleMemoryCache();
        IFencedFillCache fills = cache;
        var first = fills.OpenFill("k");
        var second = fills.OpenFill("k");
        first.Dispose();
        cache.Set("k", "newer");

        Assert.That(fills.TryFill(second, "stale"), Is.False, "the fence outlives the first fill while the second is open");
        second.Dispose();
        using var third = fills.OpenFill("k");
        Assert.That(fills.TryFill(third, "fresh"), Is.True, "a fill opened after the set stores");
        Assert.That(cache.Get<string>("k"), Is.EqualTo("fresh"));
    }
}
