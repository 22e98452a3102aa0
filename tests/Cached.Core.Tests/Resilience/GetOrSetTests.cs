using Cached.Tests.Runtime;

namespace Cached.Tests.Resilience;

/// <summary>GetOrSet without options: the read-through generated methods run, for code that calls the cache.</summary>
public sealed class GetOrSetTests : ResilienceFixture
{

    [Test]
    public async Task A_miss_calls_the_factory_once_and_stores_its_result([Values] bool async)
    {
        var calls = 0;
        int Factory() => ++calls * 10;

        var first = async ? await Cache.GetOrSetAsync("k", _ => new ValueTask<int>(Factory())) : Cache.GetOrSet("k", _ => Factory());
        var second = async ? await Cache.GetOrSetAsync("k", _ => new ValueTask<int>(Factory())) : Cache.GetOrSet("k", _ => Factory());

        Assert.That((first, second, calls), Is.EqualTo((10, 10, 1)));
        Assert.That(Cache.Get<int>("k"), Is.EqualTo(10), "stored as the plain value");
    }

    [Test]
    public async Task Callers_naming_the_cache_s_own_namespace_share_the_flight_of_those_naming_none([Values("main", "")] string own)
    {
        // One key as stored, one factory call: "main" (or "", no namespace) on a cache whose namespace it is resolves
        // to the same entry as no namespace given.
        using var cache = new SimpleMemoryCache { Namespace = own };
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        async ValueTask<int> Factory(CancellationToken _)
        {
            Interlocked.Increment(ref calls);
            await gate.Task;
            return 7;
        }

        var unnamed = cache.GetOrSetAsync("k", Factory).AsTask();
        var named = cache.GetOrSetAsync("k", Factory, @namespace: own).AsTask();
        gate.SetResult();

        Assert.That(await Task.WhenAll(unnamed, named), Is.All.EqualTo(7));
        Assert.That(calls, Is.EqualTo(1));
    }

    [Test]
    public async Task The_state_overloads_hand_the_state_to_the_factory([Values] bool async)
    {
        var value = async
            ? await Cache.GetOrSetAsync("k", 21, static (state, _) => new ValueTask<int>(state * 2))
            : Cache.GetOrSet("k", 21, static (state, _) => state * 2);

        Assert.That(value, Is.EqualTo(42));
    }

    [Test]
    public void The_time_to_live_of_the_options_is_the_entry_s()
    {
        var calls = 0;
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10) };

        Cache.GetOrSet("k", _ => ++calls, options);
        Time.Advance(TimeSpan.FromSeconds(9.9));
        Cache.GetOrSet("k", _ => ++calls, options);
        Assert.That(calls, Is.EqualTo(1));

        Time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.That(Cache.GetOrSet("k", _ => ++calls, options), Is.EqualTo(2), "expired after 10 s");
    }

    [Test]
    public void Without_options_the_cache_s_default_time_to_live_applies()
    {
        using var cache = new SimpleMemoryCache { TimeProvider = Time, Ttl = TimeSpan.FromSeconds(5) };
        var calls = 0;

        cache.GetOrSet("k", _ => ++calls);
        Time.Advance(TimeSpan.FromSeconds(5));

        Assert.That(cache.GetOrSet("k", _ => ++calls), Is.EqualTo(2));
    }

    [Test]
    public async Task Concurrent_misses_of_a_key_make_one_factory_call()
    {
        var calls = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async ValueTask<int> Factory(CancellationToken _)
        {
            Interlocked.Increment(ref calls);
            await release.Task;
            return 7;
        }

        var callers = Enumerable.Range(0, 20).Select(_ => Cache.GetOrSetAsync("k", Factory).AsTask()).ToArray();
        await Task.Delay(50);
        release.SetResult();

        Assert.That(await Task.WhenAll(callers), Has.All.EqualTo(7));
        Assert.That(calls, Is.EqualTo(1));
    }

    [Test]
    public void The_namespace_keeps_entries_and_flights_apart()
    {
        Cache.GetOrSet("k", _ => "users", null, "users");
        var other = Cache.GetOrSet("k", _ => "products", null, "products");

        Assert.That(other, Is.EqualTo("products"));
        Assert.That(Cache.Get<string>("k", null, "users"), Is.EqualTo("users"));
    }

    [Test]
    public void A_stored_null_is_a_hit()
    {
        var calls = 0;
        Cache.GetOrSet<string?>("k", _ => { calls++; return null; });

        Assert.That(Cache.GetOrSet<string?>("k", _ => { calls++; return "x"; }), Is.Null);
        Assert.That(calls, Is.EqualTo(1));
    }

    [Test]
    public void The_factory_s_exception_propagates_and_nothing_is_stored()
    {
        Assert.That(() => Cache.GetOrSet<int>("k", _ => throw new InvalidOperationException("source down")), Throws.InvalidOperationException.With.Message.EqualTo("source down"));
        Assert.That(Cache.Exists("k"), Is.False);
    }

    [Test]
    public async Task ACache_fault_never_fails_the_call([Values] bool async)
    {
        using var broken = new TestBackend { FailAll = true };

        var value = async ? await broken.GetOrSetAsync("k", _ => new ValueTask<int>(5)) : broken.GetOrSet("k", _ => 5);

        Assert.That(value, Is.EqualTo(5));
    }

    [Test]
    public void A_null_or_empty_key_is_refused_naming_the_argument()
    {
        Assert.That(() => Cache.GetOrSet<int>(null!, _ => 1), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("key"));
        Assert.That(() => Cache.GetOrSet("", _ => 1), Throws.ArgumentException.With.Property("ParamName").EqualTo("key"));
        Assert.That(() => Cache.GetOrSetAsync("", _ => new ValueTask<int>(1)), Throws.ArgumentException.With.Property("ParamName").EqualTo("key"));
        Assert.That(() => Cache.GetOrSet<int>("k", null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("factory"));
    }

    [Test]
    public async Task A_cancelled_waiter_leaves_while_the_factory_goes_on_for_the_others()
    {
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var leaving = new CancellationTokenSource();
        var leader = Cache.GetOrSetAsync("k", _ => new ValueTask<int>(release.Task)).AsTask();
        var waiter = Cache.GetOrSetAsync("k", _ => new ValueTask<int>(-1), cancellationToken: leaving.Token).AsTask();

        leaving.Cancel();
        Assert.That(async () => await waiter, Throws.InstanceOf<OperationCanceledException>());
        release.SetResult(3);
        Assert.That(await leader, Is.EqualTo(3));
    }

    [Test]
    public async Task The_leader_s_cancellation_leaves_the_factory_running_for_a_waiter([Values] bool failSafe)
    {
        var options = failSafe ? new CacheEntryOptions { FailSafe = TimeSpan.FromMinutes(1) } : null;
        using var leaving = new CancellationTokenSource();
        var (leader, factoryToken, release) = await Lead(leaving.Token, options);
        var waiter = Cache.GetOrSetAsync("k", _ => new ValueTask<int>(9), options).AsTask();

        leaving.Cancel();

        Assert.That(async () => await leader.WaitAsync(Limit), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(factoryToken.IsCancellationRequested, Is.False, "a caller still waits for the factory");
        release.SetResult(5);
        Assert.That(await waiter.WaitAsync(Limit), Is.EqualTo(5), "the waiter got the factory's result, not a second call's");
        Assert.That(Cache.GetOrSet("k", _ => -2, options), Is.EqualTo(5), "and it was stored");
    }

    [Test]
    public async Task Once_every_caller_has_cancelled_the_factory_stops_and_a_later_caller_leads_again([Values] bool failSafe)
    {
        var options = failSafe ? new CacheEntryOptions { FailSafe = TimeSpan.FromMinutes(1) } : null;
        using var leaving = new CancellationTokenSource();
        using var waiterLeaving = new CancellationTokenSource();
        var (leader, factoryToken, _) = await Lead(leaving.Token, options);
        var waiter = Cache.GetOrSetAsync("k", _ => new ValueTask<int>(9), options, cancellationToken: waiterLeaving.Token).AsTask();

        leaving.Cancel();
        Assert.That(factoryToken.IsCancellationRequested, Is.False, "the waiter still waits");
        waiterLeaving.Cancel();
        Waits.Until(() => factoryToken.IsCancellationRequested, "the factory's token is cancelled", Limit);

        Assert.That(async () => await leader.WaitAsync(Limit), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(async () => await waiter.WaitAsync(Limit), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(await Cache.GetOrSetAsync("k", _ => new ValueTask<int>(7), options).AsTask().WaitAsync(Limit), Is.EqualTo(7));
    }

    [Test]
    public async Task A_sync_caller_waiting_on_an_async_leader_that_cancels_gets_the_factory_s_result([Values] bool failSafe)
    {
        // GetOrSet and GetOrSetAsync of a key share one flight. The sync caller has no token, so it keeps the factory
        // going when the async leader leaves, and must not end with that leader's cancellation.
        var options = failSafe ? new CacheEntryOptions { FailSafe = TimeSpan.FromMinutes(1) } : null;
        using var leaving = new CancellationTokenSource();
        var (leader, factoryToken, release) = await Lead(leaving.Token, options);

        int? answer = null;
        Exception? failure = null;
        var waiter = new Thread(() =>
        {
            try
            {
                answer = Cache.GetOrSet("k", _ => 9, options);
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        });
        waiter.Start();
        Waits.UntilAllBlocked([waiter], Limit);

        leaving.Cancel();

        Assert.That(async () => await leader.WaitAsync(Limit), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(factoryToken.IsCancellationRequested, Is.False, "the sync caller keeps the factory going");
        release.SetResult(5);
        Assert.That(waiter.Join(Limit), Is.True, "the sync caller returned");
        Assert.That(failure, Is.Null, "the leader's cancellation did not end the sync caller");
        Assert.That(answer, Is.EqualTo(5));
        Assert.That(Cache.GetOrSet("k", _ => -2, options), Is.EqualTo(5), "its result was stored");
    }

    [Test]
    public async Task Disposing_the_cache_ends_a_resilient_caller_waiting_on_its_factory([Values] bool token)
    {
        var cache = new SimpleMemoryCache();
        using var caller = new CancellationTokenSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = cache.GetOrSetAsync("k", async ct =>
        {
            started.SetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return 1;
        }, new CacheEntryOptions { FailSafe = TimeSpan.FromMinutes(1) }, cancellationToken: token ? caller.Token : default).AsTask();
        await started.Task.WaitAsync(Limit);

        cache.Dispose();

        Assert.That(async () => await call.WaitAsync(Limit), Throws.InstanceOf<OperationCanceledException>(), "not left waiting for a factory the dispose stopped");
    }

    /// <summary>
    /// Starts a <c>GetOrSetAsync</c> of "k" whose factory waits for <c>release</c> (or its token); returns once it runs,
    /// with the token the factory got.
    /// </summary>
    private async Task<(Task<int> Leader, CancellationToken FactoryToken, TaskCompletionSource<int> Release)> Lead(CancellationToken token, CacheEntryOptions? options)
    {
        var started = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var leader = Cache.GetOrSetAsync("k", async ct =>
        {
            started.SetResult(ct);
            return await release.Task.WaitAsync(ct);
        }, options, cancellationToken: token).AsTask();
        var factoryToken = await started.Task.WaitAsync(Limit);
        return (leader, factoryToken, release);
    }

    [Test]
    public void Works_through_the_interface_on_any_ICache()
    {
        ICache cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache());
        using (cache)
        {
            Assert.That(cache.GetOrSet("k", _ => "v"), Is.EqualTo("v"));
            Assert.That(cache.Get<string>("k"), Is.EqualTo("v"));
        }
    }

    [Test]
    public void Set_with_null_options_is_a_plain_write_with_the_cache_s_defaults()
    {
        using var cache = new SimpleMemoryCache { TimeProvider = Time, Ttl = TimeSpan.FromSeconds(5) };

        cache.Set("k", "v", null, "users");
        Time.Advance(TimeSpan.FromSeconds(5));

        Assert.That(cache.Exists("k", "users"), Is.False);
    }
}
