using System.Collections.Concurrent;
using Cached.Runtime;
using Cached.Tests.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests;

/// <summary>
/// An outsider's review of replacing the cache configuration (<c>Caches.SetConfig</c>, <c>AddInstance</c>,
/// <c>AddCached</c>) while cached methods run. Each test asserts what docs/configuration.md ("Replacing a
/// configuration", "Dependency injection") says; races are forced with gates, the grace period with a fake clock.
/// </summary>
[NonParallelizable]
public class OutsiderReconfReviewTests
{
    private const string Memory = "Cached.SimpleMemoryCache";
    private static readonly string s_connected = typeof(ConnectedBackend).FullName!;
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(4);

    private FakeTimeProvider _time = null!;

    public enum Replacement
    {
        SetConfig,
        AddInstance,
        AddCached,
    }

    [SetUp]
    public void SetUp()
    {
        Caches.Reset();
        ConnectedBackend.Made.Clear();
        _time = new FakeTimeProvider();
        Caches.TimeProvider = _time;
    }

    [TearDown]
    public void TearDown()
    {
        Caches.Reset();
        ConnectedBackend.Made.Clear();
        CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
    }

    private static CacheConfig Connected(string @namespace) => new() { Cache = s_connected, ["Namespace"] = @namespace };

    private static void Configure(string mainNamespace)
        => Caches.SetConfig(new Dictionary<string, CacheConfig> { ["default"] = new() { Cache = Memory }, ["main"] = Connected(mainNamespace) });

    private void EndTheGracePeriod() => _time.Advance(Caches.ReplacedInstanceGrace);

    /// <summary>Replaces the "main" alias the way <paramref name="how"/> says; returns a container to dispose, if any.</summary>
    private static ServiceProvider? Replace(Replacement how, string @namespace)
    {
        switch (how)
        {
            case Replacement.SetConfig:
                Configure(@namespace);
                return null;
            case Replacement.AddInstance:
                Caches.AddInstance("main", new ConnectedBackend { Namespace = @namespace });
                return null;
            default:
                var services = new ServiceCollection();
                services.AddCached(cached => cached.AddCache("default", new CacheConfig { Cache = Memory }).AddCache("main", Connected(@namespace)));
                return services.BuildServiceProvider();
        }
    }

    private static CachedMethod<string> MainMethod(string name) => new(new CachedMethodOptions { Method = "Outsider.Reconf." + name, Alias = "main" });

    // ---- a miss in flight across a replacement ----

    [TestCase(Replacement.SetConfig)]
    [TestCase(Replacement.AddInstance)]
    [TestCase(Replacement.AddCached)]
    public async Task A_miss_whose_body_runs_across_a_replacement_completes_and_the_next_call_uses_the_new_instance(Replacement how)
    {
        Configure("old");
        var method = MainMethod("Across" + how);
        var old = (ConnectedBackend)Caches.Get("main");
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;

        var running = method.InvokeAsync("k", 0, async (_, _) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                entered.SetResult();
                await release.Task;
            }

            return "v" + Volatile.Read(ref calls);
        }, null, CancellationToken.None).AsTask();
        await entered.Task.WaitAsync(s_wait);

        using var container = Replace(how, "new");
        var current = (ConnectedBackend)Caches.Get("main");
        Assert.That(current, Is.Not.SameAs(old), "the alias was replaced");
        Assert.That(old.DisposeCount, Is.Zero, "not disposed at the change: its grace period has not even begun to run out");

        release.SetResult();
        Assert.That(await running.WaitAsync(s_wait), Is.EqualTo("v1"), "the running call completes with its body's value");

        Assert.That(method.CurrentCache, Is.SameAs(current), "the next call uses the new instance");
        Assert.That(await method.InvokeAsync("k", 0, static (_, _) => new ValueTask<string>("second"), null, CancellationToken.None), Is.EqualTo("second"),
            "the new instance is empty: the next call computes on it");
        Assert.That(current.Get<string>("k"), Is.EqualTo("second"), "and stores in it");

        EndTheGracePeriod();
        await Caches.WhenDisposed(old).WaitAsync(s_wait);
        Assert.That(old.DisposeCount, Is.EqualTo(1),
            "made by Caches and replaced: disposed once the grace period ended");
        Assert.That(current.DisposeCount, Is.Zero, "the current instance stays");
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task A_miss_whose_body_outlives_the_grace_period_still_returns_its_value_and_the_next_call_caches_on_the_new_instance(bool async)
    {
        Configure("old");
        var method = MainMethod("Outlives" + async);
        var old = (ConnectedBackend)Caches.Get("main");
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new ManualResetEventSlim();

        Task<string> running = async
            ? method.InvokeAsync("k", 0, async (_, _) =>
            {
                entered.SetResult();
                await Task.Run(() => release.Wait(s_wait));
                return "slow";
            }, null, CancellationToken.None).AsTask()
            : Task.Run(() => method.Invoke("k", 0, _ =>
            {
                entered.SetResult();
                release.Wait(s_wait);
                return "slow";
            }));
        await entered.Task.WaitAsync(s_wait);

        Configure("new");
        EndTheGracePeriod();
        await Caches.WhenDisposed(old).WaitAsync(s_wait);
        Assert.That(old.DisposeCount, Is.EqualTo(1), "no command ran on it while the body did: disposed at the end of the grace period");

        release.Set();
        string? value = null;
        Assert.DoesNotThrowAsync(async () => value = await running.WaitAsync(s_wait), "a cached method survives every cache fault, the store on a disposed cache included");
        Assert.That(value, Is.EqualTo("slow"));

        var current = (ConnectedBackend)Caches.Get("main");
        Assert.That(method.Invoke("k", 0, static _ => "fresh"), Is.EqualTo("fresh"), "the new instance never had the entry");
        Assert.That(current.Get<string>("k"), Is.EqualTo("fresh"), "the next call stores on the new instance: no outage of the old one stops its writes");
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task A_multi_key_miss_whose_body_runs_across_a_replacement_and_the_grace_period_completes_and_the_next_call_uses_the_new_instance(bool graceEndsFirst)
    {
        Configure("old");
        var method = new MultiCachedMethod<int, string>(new CachedMethodOptions { Method = "Outsider.Reconf.Multi" + graceEndsFirst, Alias = "main" });
        var old = (ConnectedBackend)Caches.Get("main");
        old.Set("p:1", "hit1");
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var asked = new ConcurrentQueue<List<int>>();

        var running = method.InvokeAsync([1, 2, 3], 0, static (_, id) => "p:" + id, async (_, missing, _) =>
        {
            asked.Enqueue([.. missing]);
            if (asked.Count == 1)
            {
                entered.SetResult();
                await release.Task;
            }

            return missing.Select(id => KeyValuePair.Create(id, "computed" + id));
        }, null, CancellationToken.None).AsTask();
        await entered.Task.WaitAsync(s_wait);

        Configure("new");
        if (graceEndsFirst)
        {
            EndTheGracePeriod();
            await Caches.WhenDisposed(old).WaitAsync(s_wait);
        }

        release.SetResult();
        Dictionary<int, string>? result = null;
        Assert.DoesNotThrowAsync(async () => result = await running.WaitAsync(s_wait));
        Assert.That(result, Is.EquivalentTo(new Dictionary<int, string> { [1] = "hit1", [2] = "computed2", [3] = "computed3" }));

        var current = (ConnectedBackend)Caches.Get("main");
        Assert.That(method.CurrentCache, Is.SameAs(current));
        var next = await method.InvokeAsync([1, 2], 0, static (_, id) => "p:" + id, static (_, missing, _) =>
            new ValueTask<IEnumerable<KeyValuePair<int, string>>?>(missing.Select(id => KeyValuePair.Create(id, "again" + id))), null, CancellationToken.None);
        Assert.That(next, Is.EquivalentTo(new Dictionary<int, string> { [1] = "again1", [2] = "again2" }), "the new instance is empty");
        Assert.That(current.Get<string>("p:2"), Is.EqualTo("again2"), "stored on the new instance");

        EndTheGracePeriod();
        await Caches.WhenDisposed(old).WaitAsync(s_wait);
        Assert.That(old.DisposeCount, Is.EqualTo(1));
    }

    [Test]
    public async Task A_read_running_on_a_replaced_instance_under_a_method_keeps_it_undisposed_past_the_grace_period()
    {
        Configure("old");
        var method = MainMethod("ReadRunning");
        var old = (ConnectedBackend)Caches.Get("main");
        old.Set("k", "cached");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        old.ReadGate = gate.Task;
        var bodyCalls = 0;

        var running = method.InvokeAsync("k", 0, (_, _) =>
        {
            Interlocked.Increment(ref bodyCalls);
            return new ValueTask<string>("computed");
        }, null, CancellationToken.None).AsTask();
        Assert.That(running.IsCompleted, Is.False, "the read waits inside the backend");

        Configure("new");
        EndTheGracePeriod();
        Assert.That(old.DisposeCount, Is.Zero, "a command is running on it");

        gate.SetResult();
        Assert.That(await running.WaitAsync(s_wait), Is.EqualTo("cached"), "the read finishes on its connection: a hit");
        Assert.That(bodyCalls, Is.Zero);
        await Caches.WhenDisposed(old).WaitAsync(s_wait);
        Assert.That(old.DisposeCount, Is.EqualTo(1), "disposed once the running read ended");
        Assert.That(method.CurrentCache, Is.SameAs(Caches.Get("main")));
        Assert.That(((ConnectedBackend)method.CurrentCache).DisposeCount, Is.Zero);
    }

    // ---- many callers across a replacement ----

    [TestCase(Replacement.SetConfig)]
    [TestCase(Replacement.AddInstance)]
    [TestCase(Replacement.AddCached)]
    public async Task Many_callers_hits_and_misses_across_a_replacement_all_get_their_value_and_each_missing_key_is_computed_once(Replacement how)
    {
        Configure("old");
        var method = MainMethod("Many" + how);
        var old = (ConnectedBackend)Caches.Get("main");
        const int keys = 20;
        const int missKeys = 10; // keys 0..9 miss, 10..19 are in the old instance
        for (var k = missKeys; k < keys; k++)
        {
            old.Set("k" + k, "hit" + k);
        }

        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var allEntered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bodyCalls = new ConcurrentDictionary<int, int>();
        var entered = 0;

        Func<int, CancellationToken, ValueTask<string>> body = async (k, _) =>
        {
            bodyCalls.AddOrUpdate(k, 1, static (_, n) => n + 1);
            if (k < missKeys)
            {
                if (Interlocked.Increment(ref entered) == missKeys)
                {
                    allEntered.SetResult();
                }

                await release.Task;
            }

            return "computed" + k;
        };

        // Called on this thread: a call returns once it has read and either hit or boarded its key's flight (the reads
        // of this backend complete at once), so every caller below is in before the body is released.
        Task<string> Call(int k) => method.InvokeAsync("k" + k, k, body, null, CancellationToken.None).AsTask();

        var firstWave = new List<(int Key, Task<string> Call)>();
        for (var i = 0; i < 200; i++)
        {
            firstWave.Add((i % keys, Call(i % keys)));
        }

        await allEntered.Task.WaitAsync(s_wait);
        var hits = firstWave.Where(c => c.Key >= missKeys).Select(c => c.Call);
        var hitValues = await Task.WhenAll(hits).WaitAsync(s_wait);
        Assert.That(hitValues.All(v => v.StartsWith("hit", StringComparison.Ordinal)), Is.True, "callers before the change hit the old instance");

        using var container = Replace(how, "new");

        // After the change: callers of the keys still being computed read the new instance, miss, and join the flight.
        var secondWave = new List<(int Key, Task<string> Call)>();
        for (var i = 0; i < 100; i++)
        {
            secondWave.Add((i % missKeys, Call(i % missKeys)));
        }

        release.SetResult();
        foreach (var (key, call) in firstWave.Concat(secondWave))
        {
            Assert.That(await call.WaitAsync(s_wait), Is.EqualTo(key < missKeys ? "computed" + key : "hit" + key));
        }

        Assert.That(bodyCalls.Keys.Order(), Is.EqualTo(Enumerable.Range(0, missKeys)), "the hit keys never reached the body");
        Assert.That(bodyCalls.Values, Is.All.EqualTo(1), "one call of the body per missing key in this process (single-flight)");
        Assert.That(old.DisposeCount, Is.Zero, "within the grace period");
        EndTheGracePeriod();
        await Caches.WhenDisposed(old).WaitAsync(s_wait);
        Assert.That(old.DisposeCount, Is.EqualTo(1));
    }

    // ---- AddInstance of an instance Caches is retiring ----

    [Test]
    public void An_instance_passed_to_AddInstance_is_never_disposed_even_one_Caches_made_and_had_just_replaced()
    {
        // "Instances you pass (Caches.AddInstance, AddCache(alias, instance)) and those Caches.Create returns are yours:
        // Caches never disposes them." Here the instance passed is one Caches made and replaced a moment before.
        Configure("first");
        var made = (ConnectedBackend)Caches.Get("main");
        Configure("second");

        Caches.AddInstance("kept", made);
        EndTheGracePeriod();

        Assert.That(Caches.Get("kept"), Is.SameAs(made));
        Assert.That(made.DisposeCount, Is.Zero, "passed to AddInstance: yours, never disposed by Caches");
        Assert.DoesNotThrow(() => Caches.Get("kept").Set("k", "v"), "the alias's instance still serves");
    }

    [Test]
    public void An_instance_given_to_AddCache_is_never_disposed_even_one_Caches_made_and_had_just_replaced()
    {
        Configure("first");
        var made = (ConnectedBackend)Caches.Get("main");
        Configure("second");

        var services = new ServiceCollection();
        services.AddCached(cached => cached.AddCache("main", made));
        using (var provider = services.BuildServiceProvider())
        {
            Assert.That(provider.GetRequiredKeyedService<ICache>("main"), Is.SameAs(made));
            EndTheGracePeriod();
            Assert.That(made.DisposeCount, Is.Zero, "an instance you pass to AddCache stays yours");
            Assert.That(Caches.Get("main"), Is.SameAs(made));
        }

        Assert.That(made.DisposeCount, Is.Zero, "not disposed by the container either");
    }

    // ---- two containers ----

    [Test]
    public void A_container_whose_factory_runs_after_a_later_AddCached_does_not_take_the_alias_from_the_later_configuration()
    {
        // docs/configuration.md: "Caches is process-wide: the last AddCached call sets it ... (generated methods follow
        // Caches, so the later configuration)"; "Factories run when the host starts, or when a cache is first resolved
        // from a container without a host."
        var first = new ServiceCollection();
        first.AddCached(cached => cached.AddCache("default", _ => new ConnectedBackend { Namespace = "first" }));
        var providerA = first.BuildServiceProvider();

        var second = new ServiceCollection();
        second.AddCached(cached => cached.AddCache("default", Connected("second")));
        using var providerB = second.BuildServiceProvider();
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = "Outsider.Reconf.LateFactory" });

        var fromA = (ConnectedBackend)providerA.GetRequiredService<ICache>(); // A's factory runs now
        Assert.That(fromA.Namespace, Is.EqualTo("first"), "A resolves its own factory's cache");

        // One Assert.Multiple over both stages, so that what happens once A is disposed shows too.
        Assert.Multiple(() =>
        {
            Assert.That(Caches.Get().Namespace, Is.EqualTo("second"), "Caches follows the last AddCached");
            Assert.That(method.CurrentCache.Namespace, Is.EqualTo("second"), "generated methods follow the later configuration");

            providerA.Dispose();
            Assert.That(fromA.DisposeCount, Is.EqualTo(1), "a factory-made cache is disposed with its container");
            Assert.That(Caches.IsDefaultConfigured, Is.True, "after A is disposed, B's configuration is still Caches'");
            Assert.That(Caches.Get(), Is.Not.SameAs(FallbackCache.Shared), "not the unconfigured default");
            Assert.That(Caches.Get().Namespace, Is.EqualTo("second"), "after A is disposed");
            Assert.That(method.CurrentCache, Is.Not.SameAs(fromA));
            Assert.That(method.CurrentCache.Namespace, Is.EqualTo("second"), "generated methods, after A is disposed");
            Assert.That(providerB.GetRequiredService<ICache>().Namespace, Is.EqualTo("second"));
        });
    }

    [TestCase(true)]
    [TestCase(false)]
    public void Two_containers_disposed_in_either_order_dispose_their_own_instances_and_never_leave_a_disposed_one_in_Caches(bool firstDisposedFirst)
    {
        var first = new ServiceCollection();
        first.AddCached(cached => cached.AddCache("default", new CacheConfig { Cache = Memory }).AddCache("main", Connected("a")));
        var providerA = first.BuildServiceProvider();
        var method = MainMethod("TwoContainers" + firstDisposedFirst);

        var mainA = (ConnectedBackend)providerA.GetRequiredKeyedService<ICache>("main");
        Assert.That(method.Invoke("k", 0, static _ => "a"), Is.EqualTo("a"));
        Assert.That(method.CurrentCache, Is.SameAs(mainA), "container and generated methods share one instance");

        var second = new ServiceCollection();
        second.AddCached(cached => cached.AddCache("default", new CacheConfig { Cache = Memory }).AddCache("main", Connected("b")));
        var providerB = second.BuildServiceProvider();

        Assert.That(method.Invoke("k", 0, static _ => "b"), Is.EqualTo("b"), "the later configuration's instance is new and empty");
        var mainB = (ConnectedBackend)method.CurrentCache;
        Assert.That(mainB.Namespace, Is.EqualTo("b"));
        Assert.That(providerB.GetRequiredKeyedService<ICache>("main"), Is.SameAs(mainB));
        Assert.That(providerA.GetRequiredKeyedService<ICache>("main"), Is.SameAs(mainA), "A keeps what it handed out");

        EndTheGracePeriod();
        Assert.That(mainA.DisposeCount, Is.Zero, "A took it over: it lives as long as A, grace period or not");

        void CheckCachesServesALiveInstance()
        {
            var now = (ConnectedBackend)Caches.Get("main");
            Assert.That(now.DisposeCount, Is.Zero, "Caches.Get never returns a disposed cache");
            Assert.That(((ConnectedBackend)method.CurrentCache).DisposeCount, Is.Zero, "nor do generated methods use one");
            Assert.DoesNotThrow(() => method.Invoke("k2", 0, static _ => "x"));
        }

        if (firstDisposedFirst)
        {
            providerA.Dispose();
            Assert.That(mainA.DisposeCount, Is.EqualTo(1), "A disposes its own");
            Assert.That(mainB.DisposeCount, Is.Zero, "not B's");
            Assert.That(Caches.Get("main"), Is.SameAs(mainB));
            CheckCachesServesALiveInstance();
            providerB.Dispose();
            Assert.That(mainB.DisposeCount, Is.EqualTo(1));
            CheckCachesServesALiveInstance();
            Assert.That(Caches.Get("main").Namespace, Is.EqualTo("b"), "a configured alias is made anew from its configuration");
        }
        else
        {
            providerB.Dispose();
            Assert.That(mainB.DisposeCount, Is.EqualTo(1), "B disposes its own");
            Assert.That(mainA.DisposeCount, Is.Zero, "A is alive");
            Assert.That(providerA.GetRequiredKeyedService<ICache>("main"), Is.SameAs(mainA));
            CheckCachesServesALiveInstance();
            providerA.Dispose();
            Assert.That(mainA.DisposeCount, Is.EqualTo(1));
            CheckCachesServesALiveInstance();
        }

        Assert.Throws<ObjectDisposedException>(() => providerA.GetRequiredKeyedService<ICache>("main"));
        Assert.Throws<ObjectDisposedException>(() => providerB.GetRequiredService<ICache>());
    }

    [Test]
    public void A_cache_made_for_the_first_containers_configuration_and_kept_by_the_second_is_disposed_with_the_first_and_forgotten()
    {
        // The second AddCached does not name "side": its instance (made for A's configuration, by a generated method)
        // is kept; A disposes it when A goes, and Caches forgets it.
        var first = new ServiceCollection();
        first.AddCached(cached => cached.AddCache("default", new CacheConfig { Cache = Memory }).AddCache("side", Connected("a")));
        var providerA = first.BuildServiceProvider();
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = "Outsider.Reconf.Side", Alias = "side" });
        Assert.That(method.Invoke("k", 0, static _ => "v"), Is.EqualTo("v"));
        var side = (ConnectedBackend)method.CurrentCache;

        var second = new ServiceCollection();
        second.AddCached(cached => cached.AddCache("default", new CacheConfig { Cache = Memory }));
        using var providerB = second.BuildServiceProvider();
        Assert.That(Caches.Get("side"), Is.SameAs(side), "an alias AddCached does not name keeps its instance");
        Assert.That(providerA.GetRequiredKeyedService<ICache>("side"), Is.SameAs(side), "A resolves it");

        providerA.Dispose();
        Assert.That(side.DisposeCount, Is.EqualTo(1), "made for A's configuration: disposed with A");
        Assert.That(() => Caches.Get("side"), Throws.TypeOf<UnknownCacheAliasException>(), "B's configuration lacks it");
        Assert.DoesNotThrow(() => method.Invoke("k", 0, static _ => "v"), "the method runs uncached, not on the disposed cache");
        Assert.That(method.CurrentCache, Is.Not.SameAs(side));
    }

    [Test]
    public void AddCached_with_a_factory_default_replaces_the_previous_default_at_once_for_Get_and_generated_methods_alike()
    {
        // "SetConfig, AddInstance and AddCached replace the instances of the aliases they set"; "One default ...
        // generated methods without Alias or Cache use it, and Caches.Get("default") returns that same instance".
        Caches.SetConfig(new Dictionary<string, CacheConfig> { ["default"] = Connected("before") });
        var before = (ConnectedBackend)Caches.Get();
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = "Outsider.Reconf.FactoryDefault" });
        Assert.That(method.CurrentCache, Is.SameAs(before));

        var services = new ServiceCollection();
        services.AddCached(cached => cached.AddCache("default", _ => new ConnectedBackend { Namespace = "factory" }));
        using var provider = services.BuildServiceProvider();

        // The container has not resolved anything yet (no host): its factory has not run.
        Assert.Multiple(() =>
        {
            Assert.That(Caches.Get(), Is.Not.SameAs(before), "AddCached set the default alias: the previous instance is replaced");
            Assert.That(Caches.Get(), Is.SameAs(method.CurrentCache), "Caches.Get() and generated methods use one default");
        });

        var fromContainer = provider.GetRequiredService<ICache>();
        Assert.That(Caches.Get(), Is.SameAs(fromContainer));
        Assert.That(method.CurrentCache, Is.SameAs(fromContainer));
    }

    // ---- Get, Create and DI ----

    [Test]
    public void Get_Create_and_the_container_agree_on_instances_and_on_who_disposes_what()
    {
        var mine = new ConnectedBackend { Namespace = "mine" };
        var services = new ServiceCollection();
        services.AddCached(cached => cached
            .AddCache("default", new CacheConfig { Cache = Memory })
            .AddCache("configured", Connected("c"))
            .AddCache("mine", mine)
            .AddCache("factory", _ => new ConnectedBackend { Namespace = "f" }));
        var provider = services.BuildServiceProvider();

        var configured = (ConnectedBackend)provider.GetRequiredKeyedService<ICache>("configured");
        var factory = (ConnectedBackend)provider.GetRequiredKeyedService<ICache>("factory");
        var created = (ConnectedBackend)Caches.Create("configured");
        Assert.Multiple(() =>
        {
            Assert.That(Caches.Get("configured"), Is.SameAs(configured), "one instance per alias");
            Assert.That(Caches.Get("factory"), Is.SameAs(factory));
            Assert.That(Caches.Get("mine"), Is.SameAs(mine));
            Assert.That(provider.GetRequiredKeyedService<ICache>("mine"), Is.SameAs(mine));
            Assert.That(created, Is.Not.SameAs(configured), "Create makes a new one");
            Assert.That(created.Namespace, Is.EqualTo("c"));
        });

        // A change to Caches: the container keeps what it handed out.
        Caches.SetConfig(new Dictionary<string, CacheConfig> { ["default"] = new() { Cache = Memory }, ["configured"] = Connected("c2"), ["mine"] = Connected("m2") });
        EndTheGracePeriod();
        Assert.Multiple(() =>
        {
            Assert.That(configured.DisposeCount, Is.Zero, "the container's: lives as long as the container");
            Assert.That(mine.DisposeCount, Is.Zero, "yours");
            Assert.That(created.DisposeCount, Is.Zero, "Create's are yours");
        });

        provider.Dispose();
        Assert.Multiple(() =>
        {
            Assert.That(configured.DisposeCount, Is.EqualTo(1), "made from configuration: disposed with the container");
            Assert.That(factory.DisposeCount, Is.EqualTo(1), "made by a factory: disposed with the container");
            Assert.That(mine.DisposeCount, Is.Zero, "yours: never disposed by the container");
            Assert.That(created.DisposeCount, Is.Zero, "Create's: never disposed");
            Assert.That(((ConnectedBackend)Caches.Get("configured")).DisposeCount, Is.Zero);
            Assert.That(Caches.Get("configured").Namespace, Is.EqualTo("c2"));
        });
    }

    // ---- a two-level alias ----

    private static CacheConfig TwoLevels(string @namespace) => new()
    {
        Cache = "Cached.MultiLevelCache",
        L1 = new CacheConfig { Cache = Memory },
        L2 = Connected(@namespace),
        Backplane = new ClassConfig("Cached.MemoryBackplane"),
    };

    [Test]
    public async Task A_two_level_alias_replaced_while_a_read_runs_on_its_L2_is_disposed_only_after_that_read_ends()
    {
        Caches.SetConfig(new Dictionary<string, CacheConfig> { ["default"] = new() { Cache = Memory }, ["main"] = TwoLevels("old") });
        var method = MainMethod("TwoLevelsRead");
        var old = (MultiLevelCache)Caches.Get("main");
        var oldL2 = (ConnectedBackend)old.L2;
        oldL2.Set("k", "from-l2"); // behind L1's back: L1 lacks it
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        oldL2.ReadGate = gate.Task;

        var running = method.InvokeAsync("k", 0, static (_, _) => new ValueTask<string>("computed"), null, CancellationToken.None).AsTask();
        Assert.That(running.IsCompleted, Is.False, "the read waits on L2");

        Caches.SetConfig(new Dictionary<string, CacheConfig> { ["default"] = new() { Cache = Memory }, ["main"] = TwoLevels("new") });
        EndTheGracePeriod();
        Assert.That(oldL2.DisposeCount, Is.Zero, "a command is running on its L2");
        Assert.That(old.Set("other", "v"), Is.True, "the replaced two-level cache still serves (and publishes) during its command");

        gate.SetResult();
        Assert.That(await running.WaitAsync(s_wait), Is.EqualTo("from-l2"));
        await Caches.WhenDisposed(old).WaitAsync(s_wait);
        Assert.That(oldL2.DisposeCount, Is.EqualTo(1), "disposing the two-level cache disposes its L2");

        var current = (MultiLevelCache)Caches.Get("main");
        Assert.That(method.CurrentCache, Is.SameAs(current));
        Assert.That(await method.InvokeAsync("k", 0, static (_, _) => new ValueTask<string>("computed"), null, CancellationToken.None), Is.EqualTo("computed"));
        Assert.That(((ConnectedBackend)current.L2).Get<string>("k"), Is.EqualTo("computed"));
    }

    [Test]
    public async Task A_two_level_fill_whose_body_outlives_the_grace_period_returns_its_value()
    {
        Caches.SetConfig(new Dictionary<string, CacheConfig> { ["default"] = new() { Cache = Memory }, ["main"] = TwoLevels("old") });
        var method = MainMethod("TwoLevelsFill");
        var old = (MultiLevelCache)Caches.Get("main");
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var running = method.InvokeAsync("k", 0, async (_, _) =>
        {
            entered.SetResult();
            await release.Task;
            return "slow";
        }, null, CancellationToken.None).AsTask();
        await entered.Task.WaitAsync(s_wait);

        Caches.SetConfig(new Dictionary<string, CacheConfig> { ["default"] = new() { Cache = Memory }, ["main"] = TwoLevels("new") });
        EndTheGracePeriod();
        await Caches.WhenDisposed(old).WaitAsync(s_wait);

        release.SetResult();
        string? value = null;
        Assert.DoesNotThrowAsync(async () => value = await running.WaitAsync(s_wait));
        Assert.That(value, Is.EqualTo("slow"));

        var current = (MultiLevelCache)Caches.Get("main");
        Assert.That(await method.InvokeAsync("k", 0, static (_, _) => new ValueTask<string>("fresh"), null, CancellationToken.None), Is.EqualTo("fresh"));
        Assert.That(((ConnectedBackend)current.L2).Get<string>("k"), Is.EqualTo("fresh"));
    }
}
