using System.Collections.Concurrent;
using Cached.Runtime;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Configuration;

/// <summary>
/// An outsider's check of configuration and replacement (docs/configuration.md: "Replacing a configuration",
/// "From appsettings.json", "From a URL", "Switching caching off") against the memory backends. Calls are held with
/// gates, never with sleeps; the limits only end waits for something that never comes.
/// </summary>
[NonParallelizable]
public class OutsiderConfigReviewTests
{
    private const string Memory = "Cached.SimpleMemoryCache";
    private static readonly string s_connected = typeof(ConnectedBackend).FullName!;
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(5);

    private FakeTimeProvider _time = null!;

    [SetUp]
    public void SetUp()
    {
        Caches.Reset();
        Cache.Disabled = false;
        ConnectedBackend.Made.Clear();
        _time = new FakeTimeProvider();
        Caches.TimeProvider = _time;
    }

    [TearDown]
    public void TearDown()
    {
        Cache.Disabled = false;
        Caches.Reset();
        ConnectedBackend.Made.Clear();
    }

    private static CacheConfig TwoLevels() => new()
    {
        Cache = "Cached.MultiLevelCache",
        L1 = new CacheConfig { Cache = Memory },
        L2 = new CacheConfig { Cache = s_connected },
    };

    private static void Configure(string alias, CacheConfig config)
        => Caches.SetConfig(new Dictionary<string, CacheConfig> { ["default"] = new() { Cache = Memory }, [alias] = config });

    // ---- 1. Replacing a configuration while calls run ----

    /// <summary>
    /// docs/configuration.md, "Replacing a configuration": the replaced instance "is disposed at the first moment after
    /// [the grace period] when no command is running on it: a command already running finishes on its connection
    /// first". A two-level alias (docs/multilevel.md#configuration) is an instance Caches made like any other, but its
    /// running commands are not waited for: it is disposed, with its L2, under a read still in flight.
    /// </summary>
    [Test]
    public async Task A_read_running_on_a_replaced_two_level_alias_finishes_before_its_levels_are_disposed()
    {
        Configure("two", TwoLevels());
        var old = Caches.Get("two");
        var l2 = ConnectedBackend.Made.Single();
        l2.Set("k", "v");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        l2.ReadGate = gate.Task;
        var running = old.GetAsync<string>("k").AsTask();
        Assert.That(running.IsCompleted, Is.False, "the read waits inside L2");

        Configure("two", TwoLevels());
        _time.Advance(Caches.ReplacedInstanceGrace);
        var disposedUnderTheRead = l2.DisposeCount;
        gate.SetResult();

        string? read = null;
        Exception? failure = null;
        try
        {
            read = await running.WaitAsync(s_limit);
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        Assert.Multiple(() =>
        {
            Assert.That(disposedUnderTheRead, Is.Zero, "L2 must not be disposed while a command runs on the replaced two-level cache");
            Assert.That(failure, Is.Null, "the read already running finishes");
            Assert.That(read, Is.EqualTo("v"));
        });
    }

    /// <summary>
    /// Generated methods (CachedMethod with an alias, what the generator emits) under load while SetConfig and
    /// AddInstance replace the alias over and over, each replacement followed by the end of the grace period: a
    /// backend that throws ObjectDisposedException once disposed (as RedisCache does) must never fail a call.
    /// </summary>
    [Test]
    public async Task Generated_methods_under_load_never_fail_while_the_alias_is_replaced_and_the_old_ones_disposed()
    {
        Configure("main", new CacheConfig { Cache = s_connected, ["Namespace"] = "0" });
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = "Review.Load", Alias = "main", Ttl = 60 });
        var failures = new ConcurrentQueue<Exception>();
        var calls = 0L;
        using var stop = new CancellationTokenSource();

        async Task CallAsync(int worker)
        {
            var i = 0;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var key = $"k{(worker * 7) + (i++ % 5)}";
                    var value = (worker & 1) == 0
                        ? await method.InvokeAsync(key, key, static (k, _) => ValueTask.FromResult("v:" + k), null, CancellationToken.None)
                        : method.Invoke(key, key, static k => "v:" + k);
                    if (value != "v:" + key)
                    {
                        failures.Enqueue(new InvalidOperationException($"{key} read {value}"));
                    }

                    Interlocked.Increment(ref calls);
                }
                catch (Exception ex)
                {
                    failures.Enqueue(ex);
                }

                await Task.Yield();
            }
        }

        var workers = Enumerable.Range(0, 6).Select(w => Task.Run(() => CallAsync(w))).ToArray();
        for (var change = 1; change <= 60; change++)
        {
            if (change % 2 == 0)
            {
                Configure("main", new CacheConfig { Cache = s_connected, ["Namespace"] = change.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            }
            else
            {
                // Replaces the instance Caches made; the passed one is the caller's, and the next SetConfig replaces it.
                Caches.AddInstance("main", new ConnectedBackend());
            }

            // Let calls resolve the new instance, then end the grace period of the replaced one.
            var before = Interlocked.Read(ref calls);
            while (Interlocked.Read(ref calls) < before + 20 && workers.All(w => !w.IsCompleted))
            {
                await Task.Yield();
            }

            _time.Advance(Caches.ReplacedInstanceGrace);
        }

        stop.Cancel();
        await Task.WhenAll(workers).WaitAsync(s_limit);
        TestContext.Out.WriteLine($"{Interlocked.Read(ref calls)} calls over 60 replacements, {failures.Count} failed");
        Assert.That(failures, Is.Empty, "no generated call fails because its alias was replaced");
        Assert.That(Interlocked.Read(ref calls), Is.GreaterThan(60 * 20));
    }

    /// <summary>
    /// A generated method whose body is running when the alias is replaced: its store goes to the instance it read
    /// from (within the grace period) and the call returns the body's result; the next call uses the new instance.
    /// </summary>
    [Test]
    public async Task A_generated_call_whose_body_spans_the_replacement_returns_and_the_next_call_uses_the_new_instance()
    {
        Configure("main", new CacheConfig { Cache = s_connected });
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = "Review.Span", Alias = "main", Ttl = 60 });
        var old = (ConnectedBackend)Caches.Get("main");
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bodies = 0;
        var running = method.InvokeAsync("k", 0, async (_, ct) =>
        {
            Interlocked.Increment(ref bodies);
            entered.TrySetResult();
            await gate.Task;
            return "old-body";
        }, null, CancellationToken.None).AsTask();
        await entered.Task.WaitAsync(s_limit);

        Configure("main", new CacheConfig { Cache = s_connected });
        var fresh = (ConnectedBackend)Caches.Get("main");
        gate.SetResult();

        Assert.That(await running.WaitAsync(s_limit), Is.EqualTo("old-body"));
        var next = await method.InvokeAsync("k", 0, (_, _) => { Interlocked.Increment(ref bodies); return ValueTask.FromResult("new-body"); }, null, CancellationToken.None);
        Assert.Multiple(() =>
        {
            Assert.That(method.CurrentCache, Is.SameAs(fresh), "the next call resolves the new instance");
            Assert.That(next, Is.EqualTo("new-body"), "the new instance starts empty");
            Assert.That(bodies, Is.EqualTo(2));
            Assert.That(old.DisposeCount, Is.Zero, "still in its grace period");
        });
        _time.Advance(Caches.ReplacedInstanceGrace);
        await Caches.WhenDisposed(old).WaitAsync(s_limit);
        Assert.That(old.DisposeCount, Is.EqualTo(1));
    }

    // ---- 2. IConfiguration reload ----

    /// <summary>
    /// docs/configuration.md, "From appsettings.json": "Later changes to the configuration are not followed; call
    /// SetConfig again to apply them." A reload of the source changes nothing until then; after it, Caches.Get,
    /// generated methods and the container agree.
    /// </summary>
    [Test]
    public void A_configuration_reload_is_not_followed_until_SetConfig_and_then_every_consumer_agrees()
    {
        var root = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Cached:default:Cache"] = Memory,
                ["Cached:main:Cache"] = Memory,
                ["Cached:main:Namespace"] = "before",
            })
            .Build();
        var services = new ServiceCollection();
        services.AddCached(root.GetSection("Cached"));
        using var provider = services.BuildServiceProvider();
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = "Review.Reload", Alias = "main" });

        var resolved = provider.GetRequiredKeyedService<ICache>("main");
        root["Cached:main:Namespace"] = "after";
        root.Reload();

        Assert.Multiple(() =>
        {
            Assert.That(Caches.Get("main").Namespace, Is.EqualTo("before"), "not followed");
            Assert.That(Caches.GetAliasConfig("main")["Namespace"], Is.EqualTo("before"));
            Assert.That(method.CurrentCache, Is.SameAs(Caches.Get("main")));
            Assert.That(resolved, Is.SameAs(Caches.Get("main")), "the container and Caches share one instance");
            Assert.That(provider.GetRequiredKeyedService<ICache>("main"), Is.SameAs(resolved));
        });

        Caches.SetConfig(root.GetSection("Cached"));

        Assert.Multiple(() =>
        {
            Assert.That(Caches.Get("main").Namespace, Is.EqualTo("after"));
            Assert.That(method.CurrentCache, Is.SameAs(Caches.Get("main")), "generated methods follow SetConfig");
            Assert.That(resolved.Namespace, Is.EqualTo("before"), "the container keeps what it handed out until it is disposed");
        });
    }

    // ---- 3. From a URL and Create overrides, against pycached ----

    /// <summary>
    /// aiocache's <c>Cache.from_url</c> reads the query with <c>urllib.parse.parse_qsl</c>, which decodes <c>+</c> as a
    /// space (form encoding); the URL's own <c>%20</c> works in both.
    /// </summary>
    [Test]
    public void A_plus_in_a_query_value_is_a_space_as_in_pycacheds_from_url()
    {
        var plus = Cache.FromUrl("memory://?namespace=my+app");
        var escaped = Cache.FromUrl("memory://?namespace=my%20app");

        Assert.Multiple(() =>
        {
            Assert.That(escaped.Namespace, Is.EqualTo("my app"));
            Assert.That(plus.Namespace, Is.EqualTo("my app"), "parse_qsl('namespace=my+app') == [('namespace', 'my app')]");
        });
    }

    [Test]
    public void Ttl_and_timeout_in_a_url_are_seconds_or_hh_mm_ss_and_zero_timeout_means_none()
    {
        var cache = Cache.FromUrl("memory://?ttl=1.5&timeout=0.25");
        var spans = Cache.FromUrl("memory://?ttl=00:01:00&timeout=0");

        Assert.Multiple(() =>
        {
            Assert.That(((BaseCache)cache).Ttl, Is.EqualTo(TimeSpan.FromSeconds(1.5)));
            Assert.That(cache.Timeout, Is.EqualTo(TimeSpan.FromSeconds(0.25)));
            Assert.That(((BaseCache)spans).Ttl, Is.EqualTo(TimeSpan.FromMinutes(1)));
            Assert.That(spans.Timeout, Is.Null.Or.EqualTo(TimeSpan.Zero), "0: no timeout");
        });
    }

    [Test]
    public void A_memory_url_with_a_password_a_bad_ttl_or_an_unknown_parameter_names_the_setting()
    {
        // aiocache: memory://... with a password or an unknown parameter is a TypeError naming the keyword.
        var password = Assert.Throws<CacheConfigurationException>(() => Cache.FromUrl("memory://?password=secret"));
        var ttl = Assert.Throws<CacheConfigurationException>(() => Cache.FromUrl("memory://?ttl=10s"));
        var unknown = Assert.Throws<CacheConfigurationException>(() => Cache.FromUrl("memory://?max_entires=10"));

        Assert.Multiple(() =>
        {
            Assert.That(password!.Message, Does.Contain("password"));
            Assert.That(ttl!.Message, Does.Contain("ttl"));
            Assert.That(unknown!.Message, Does.Contain("max_entires"));
        });
    }

    [Test]
    public void Create_overrides_in_snake_case_or_pycacheds_names_win_over_the_aliases_own_settings()
    {
        // pycached: caches.create('short', max_entries=7) overrides the alias's max_entries whatever its spelling.
        Configure("short", new CacheConfig { Cache = Memory, ["MaxEntries"] = "100", ["Namespace"] = "short" });

        var created = (SimpleMemoryCache)Caches.Create("short", new Dictionary<string, string?> { ["max_entries"] = "7", ["namespace"] = "other" });
        var pascal = (SimpleMemoryCache)Caches.Create("short", new Dictionary<string, string?> { ["MAXENTRIES"] = "8" });

        Assert.Multiple(() =>
        {
            Assert.That(created.MaxEntries, Is.EqualTo(7));
            Assert.That(created.Namespace, Is.EqualTo("other"));
            Assert.That(pascal.MaxEntries, Is.EqualTo(8));
            Assert.That(((SimpleMemoryCache)Caches.Get("short")).MaxEntries, Is.EqualTo(100), "the alias itself is unchanged");
        });
    }

    // ---- 4. Switching caching off ----

    /// <summary>
    /// docs/configuration.md, "Switching caching off": every cache command returns at once "without touching the
    /// backend", and generated methods "call their body every time". A method with a stampede Lease still takes its
    /// lease on the backend while caching is off, so a second process (here a second method over the same store, as
    /// the lease is shared across processes) waits on the first one's body instead of calling its own.
    /// </summary>
    [Test]
    public async Task With_caching_off_a_leased_method_calls_its_body_at_once_rather_than_waiting_for_another_process_lease()
    {
        using var store = new SimpleMemoryCache();
        CachedMethod<string> Process(string name) => new(new CachedMethodOptions { Method = "Review." + name, CacheFactory = () => store, Ttl = 60, Lease = 30 });
        var first = Process("A");
        var second = Process("B");
        Cache.Disabled = true;
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = first.InvokeAsync("k", 0, async (_, _) =>
        {
            entered.TrySetResult();
            await gate.Task;
            return "first";
        }, null, CancellationToken.None).AsTask();
        try
        {
            await entered.Task.WaitAsync(s_limit);

            var other = second.InvokeAsync("k", 0, static (_, _) => ValueTask.FromResult("second"), null, CancellationToken.None).AsTask();
            var sync = Task.Run(() => second.Invoke("k", 0, static _ => "second-sync"));

            Assert.That(await other.WaitAsync(s_limit), Is.EqualTo("second"), "its own body, at once: nothing is cached, so no lease is needed");
            Assert.That(await sync.WaitAsync(s_limit), Is.EqualTo("second-sync"));
            Assert.That(held.IsCompleted, Is.False, "the first call is still held in its body");
        }
        finally
        {
            gate.TrySetResult();
            Assert.That(await held.WaitAsync(s_limit), Is.EqualTo("first"));
        }
    }

    /// <summary>
    /// Caching switched off while a leased call is in its body, and on again before it ends: the call returns its
    /// body's result, stores nothing (the write came while off), and leaves no lease behind that would make the next
    /// caller wait.
    /// </summary>
    [Test]
    public async Task Switching_caching_off_and_on_during_a_leased_body_leaves_no_lease_and_no_entry_behind()
    {
        using var store = new SimpleMemoryCache();
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = "Review.Flip", CacheFactory = () => store, Ttl = 60, Lease = 30 });
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = method.InvokeAsync("k", 0, async (_, _) =>
        {
            entered.TrySetResult();
            await gate.Task;
            return "computed";
        }, null, CancellationToken.None).AsTask();
        await entered.Task.WaitAsync(s_limit);

        Cache.Disabled = true;
        gate.SetResult();
        Assert.That(await running.WaitAsync(s_limit), Is.EqualTo("computed"));
        Cache.Disabled = false;

        var other = new CachedMethod<string>(new CachedMethodOptions { Method = "Review.Flip2", CacheFactory = () => store, Ttl = 60, Lease = 30 });
        var next = await other.InvokeAsync("k", 0, static (_, _) => ValueTask.FromResult("again"), null, CancellationToken.None).AsTask().WaitAsync(s_limit);
        Assert.That(next, Is.EqualTo("again"), "nothing was stored while off, and no lease was left to wait for");
    }

    /// <summary>
    /// Fail-safe while caching is off: reads find nothing, so a failing body fails the call (no stale value is read);
    /// switched on again, the stale value kept from before is served again.
    /// </summary>
    [Test]
    public async Task Fail_safe_with_caching_off_finds_no_stale_value_and_serves_it_again_once_back_on()
    {
        var time = new FakeTimeProvider();
        using var store = new SimpleMemoryCache { TimeProvider = time };
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = "Review.FailSafe", CacheFactory = () => store, Ttl = 10, FailSafe = 3600 });
        Assert.That(await method.InvokeAsync("k", 0, static (_, _) => ValueTask.FromResult("fresh"), null, CancellationToken.None), Is.EqualTo("fresh"));
        time.Advance(TimeSpan.FromSeconds(11));

        Cache.Disabled = true;
        var off = Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await method.InvokeAsync<int>("k", 0, static (_, _) => throw new InvalidOperationException("source down"), null, CancellationToken.None));
        Cache.Disabled = false;

        var on = await method.InvokeAsync<int>("k", 0, static (_, _) => throw new InvalidOperationException("source down"), null, CancellationToken.None);
        Assert.Multiple(() =>
        {
            Assert.That(off!.Message, Is.EqualTo("source down"));
            Assert.That(on, Is.EqualTo("fresh"), "the stale value survived the time caching was off");
        });
    }
}
