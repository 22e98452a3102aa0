using Cached.Distributed;
using Cached.Hybrid;
using Cached.Runtime;
using Cached.Tests.Runtime;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cached.Tests.Ecosystem;

/// <summary>
/// An outsider's check of the ecosystem adapters and of <c>AddCached</c>: two service providers in one process, who
/// disposes what, configuration checks, the IDistributedCache key rules against Microsoft's own implementation, and
/// HybridCache's single flight through the adapter (late callers, failing factories).
/// The tests of two containers found bugs (a container disposing a cache it did not own, another container's
/// configuration hiding an alias, the logs left with a disposed container), fixed since; the others add coverage.
/// </summary>
[NonParallelizable]
public sealed class OutsiderEcosystemReviewTests : Cached.Tests.DependencyInjection.ProcessWideStateFixture
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(5);

    private static IConfiguration Section(params (string Key, string Value)[] settings)
        => new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(static s => new KeyValuePair<string, string?>("Cached:" + s.Key, s.Value)))
            .Build()
            .GetSection("Cached");

    private static TaskCompletionSource Signal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    // ---------------------------------------------------------------------------------------------------------------
    // Two service providers in one process
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>
    /// Two containers configured with the same alias (two test hosts, or a host and a provider built on the side).
    /// Container B resolves its cache first; container A then resolves "default" and gets B's instance from the
    /// process-wide <c>Caches</c>. Disposing A disposed that instance under B, which was still running: the DI container
    /// disposes what its keyed factory returned, though the registry did not take it over: now a hold, let go.
    /// </summary>
    [Test]
    public void Disposing_one_container_does_not_dispose_the_cache_another_live_container_hands_out()
    {
        var config = new CacheConfig { Cache = "Cached.Tests.Runtime.TestBackend" };
        var servicesA = new ServiceCollection();
        servicesA.AddCached(cached => cached.AddCache("default", config));
        var providerA = servicesA.BuildServiceProvider();
        var servicesB = new ServiceCollection();
        servicesB.AddCached(cached => cached.AddCache("default", config));
        using var providerB = servicesB.BuildServiceProvider();

        var inB = (TestBackend)providerB.GetRequiredService<ICache>();
        _ = providerA.GetRequiredService<ICache>();
        providerA.Dispose();

        Assert.Multiple(() =>
        {
            Assert.That(inB.DisposeCount, Is.Zero, "container B's cache was disposed by container A");
            Assert.That(providerB.GetRequiredService<ICache>(), Is.SameAs(inB));
        });
    }

    /// <summary>
    /// Container A registers alias "alpha" (a keyed <see cref="ICache"/>); a second container B is then
    /// configured with AddCached without it. Resolving A's own keyed service throws
    /// <see cref="UnknownCacheAliasException"/>: the keyed factory asks the process-wide <c>Caches</c>, which B's
    /// AddCached replaced at registration time. configuration.md says "Caches is process-wide: the last AddCached call
    /// sets it", which covers generated methods, but a container whose own registration throws on resolve (and
    /// ValidateOnBuild does not see it) is not what a DI user expects.
    /// </summary>
    [Test]
    public void A_container_still_resolves_its_own_aliases_after_another_container_is_configured()
    {
        var servicesA = new ServiceCollection();
        servicesA.AddCached(cached => cached.AddCache("alpha", new CacheConfig { Cache = "Cached.SimpleMemoryCache", ["Namespace"] = "a" }));
        using var providerA = servicesA.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });

        var servicesB = new ServiceCollection();
        servicesB.AddCached(cached => cached.AddCache("beta", new CacheConfig { Cache = "Cached.SimpleMemoryCache", ["Namespace"] = "b" }));
        using var providerB = servicesB.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });

        ICache? alpha = null;
        Assert.That(() => alpha = providerA.GetRequiredKeyedService<ICache>("alpha"), Throws.Nothing);
        Assert.That(alpha?.Namespace, Is.EqualTo("a"));
    }

    /// <summary>
    /// testing.md swaps a cache in with <c>Caches.AddInstance</c>, and configuration.md says instances you pass
    /// there "are yours". A container built with AddCached then resolves the swapped-in instance for the alias, and
    /// disposing the container disposes it (the keyed factory's result is tracked by the container).
    /// </summary>
    [Test]
    public void An_instance_swapped_in_with_AddInstance_is_not_disposed_by_the_container_that_resolved_it()
    {
        var services = new ServiceCollection();
        services.AddCached(cached => cached.AddCache("default", new CacheConfig { Cache = "Cached.Tests.Runtime.TestBackend" }));
        var provider = services.BuildServiceProvider();
        var mine = new TestBackend();
        Caches.AddInstance("default", mine);

        Assert.That(provider.GetRequiredService<ICache>(), Is.SameAs(mine), "the container hands out the swapped-in instance");
        provider.Dispose();

        Assert.That(mine.DisposeCount, Is.Zero, "an instance given to Caches.AddInstance stays the caller's");
    }

    /// <summary>
    /// Each container's registry points the process-wide <see cref="CachedLogging"/> at its logger factory and
    /// did not point it back. Container B is built and disposed while container A keeps running (a provider built on
    /// the side from the application's services, a second test host): from then on A's fail-open faults went to B's
    /// disposed logger factory and A's logs never see them.
    /// </summary>
    [Test]
    public void After_another_container_is_disposed_faults_are_still_logged_to_the_live_container()
    {
        var logsA = new RecordingLoggerFactory();
        var logsB = new RecordingLoggerFactory();
        var servicesA = new ServiceCollection().AddSingleton<ILoggerFactory>(logsA);
        servicesA.AddCached(_ => { });
        using var providerA = servicesA.BuildServiceProvider();
        _ = providerA.GetRequiredService<ICache>();

        var servicesB = new ServiceCollection().AddSingleton<ILoggerFactory>(logsB);
        servicesB.AddCached(_ => { });
        var providerB = servicesB.BuildServiceProvider();
        _ = providerB.GetRequiredService<ICache>();
        providerB.Dispose();

        var flaky = new TestBackend { FailReads = true };
        Caches.AddInstance("flaky", flaky);
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = "Review.Flaky", Alias = "flaky" });
        Assert.That(method.Invoke("k", "fresh", static state => state), Is.EqualTo("fresh"), "fail-open");

        Assert.Multiple(() =>
        {
            Assert.That(logsB.Entries, Is.Empty, "logged to the disposed container's logger factory");
            Assert.That(logsA.Entries.Select(static e => e.Exception), Has.Member(flaky.Fault), "the live container's logs");
        });
    }

    /// <summary>
    /// PASSES: the same alias configured in two containers one after the other: the first container's instance, once
    /// it has handed it out, is not replaced under it by the second's configuration.
    /// </summary>
    [Test]
    public void A_cache_a_container_handed_out_is_kept_when_another_container_is_configured()
    {
        var servicesA = new ServiceCollection();
        servicesA.AddCached(cached => cached.AddCache("default", new CacheConfig { Cache = "Cached.Tests.Runtime.TestBackend" }));
        using var providerA = servicesA.BuildServiceProvider();
        var inA = (TestBackend)providerA.GetRequiredService<ICache>();
        inA.Set("k", "a");

        var servicesB = new ServiceCollection();
        servicesB.AddCached(cached => cached.AddCache("default", new CacheConfig { Cache = "Cached.Tests.Runtime.TestBackend" }));
        using (var providerB = servicesB.BuildServiceProvider())
        {
            _ = providerB.GetRequiredService<ICache>();
        }

        Assert.Multiple(() =>
        {
            Assert.That(providerA.GetRequiredService<ICache>(), Is.SameAs(inA));
            Assert.That(inA.DisposeCount, Is.Zero);
            Assert.That(inA.Get<string>("k"), Is.EqualTo("a"));
        });
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Configuration checks through AddCached, as appsettings.json gives them
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>
    /// PASSES: values that convert but cannot be used fail on the first resolve with a
    /// <see cref="CacheConfigurationException"/> whose path names the setting (configuration.md), nested levels too;
    /// values that do not convert fail at AddCached.
    /// </summary>
    [TestCase("Ttl", "-5", "Cached:default:Ttl")]
    [TestCase("Timeout", "-1", "Cached:default:Timeout")]
    [TestCase("CircuitBreakerDuration", "-1", "Cached:default:CircuitBreakerDuration")]
    [TestCase("MaxEntries", "0", "Cached:default:MaxEntries")]
    [TestCase("MaxEntries", "-1", "Cached:default:MaxEntries")]
    public void A_setting_that_converts_but_cannot_be_used_fails_on_first_resolve_naming_it(string setting, string value, string path)
    {
        var services = new ServiceCollection();
        services.AddCached(Section(("default:Cache", "Cached.SimpleMemoryCache"), ("default:" + setting, value)));
        using var provider = services.BuildServiceProvider();

        Assert.That(
            () => provider.GetRequiredService<ICache>(),
            Throws.InstanceOf<CacheConfigurationException>().With.Property(nameof(CacheConfigurationException.Path)).EqualTo(path)
                .And.Message.Contains(setting));
    }

    [TestCase("L1Ttl", "-3", "Cached:default:L1Ttl")]
    [TestCase("L2:MaxEntries", "0", "Cached:default:L2:MaxEntries")]
    [TestCase("L2:CircuitBreakerDuration", "-2", "Cached:default:L2:CircuitBreakerDuration")]
    public void A_two_level_setting_that_cannot_be_used_fails_on_first_resolve_naming_it(string setting, string value, string path)
    {
        var services = new ServiceCollection();
        services.AddCached(Section(
            ("default:Cache", "Cached.MultiLevelCache"),
            ("default:L1:Cache", "Cached.SimpleMemoryCache"),
            ("default:L2:Cache", "Cached.SimpleMemoryCache"),
            ("default:" + setting, value)));
        using var provider = services.BuildServiceProvider();

        Assert.That(
            () => provider.GetRequiredService<ICache>(),
            Throws.InstanceOf<CacheConfigurationException>().With.Property(nameof(CacheConfigurationException.Path)).EqualTo(path));
    }

    [TestCase("Ttl", "NaN", "Cached:default:Ttl")]
    [TestCase("Ttl", "00:00:-5", "Cached:default:Ttl")]
    [TestCase("Serializer", "Nope.Serializer", "Cached:default:Serializer:Class")]
    [TestCase("Bogus", "1", "Cached:default:Bogus")]
    public void A_setting_that_does_not_convert_fails_at_AddCached_naming_it(string setting, string value, string path)
    {
        var services = new ServiceCollection();

        Assert.That(
            () => services.AddCached(Section(("default:Cache", "Cached.SimpleMemoryCache"), ("default:" + setting, value))),
            Throws.InstanceOf<CacheConfigurationException>().With.Property(nameof(CacheConfigurationException.Path)).EqualTo(path));
        Assert.That(services.Any(static d => d.ServiceType == typeof(ICache)), Is.False, "nothing registered");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // IDistributedCache: key rules against Microsoft's MemoryDistributedCache
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>
    /// <see cref="IDistributedCache"/> only forbids a null key, and Microsoft's MemoryDistributedCache (and its Redis
    /// provider) store and read the empty key. Cached refuses it for every command, the adapter's included, as
    /// docs/microsoft-caching.md says: an <see cref="ArgumentException"/> naming the key, from every method, before the
    /// cache is asked anything.
    /// </summary>
    [Test]
    public void The_empty_key_is_refused_by_every_method_as_the_docs_say_where_Microsoft_s_cache_takes_it([Values] bool async)
    {
        var microsoft = new MemoryDistributedCache(Microsoft.Extensions.Options.Options.Create(new MemoryDistributedCacheOptions()));
        microsoft.Set(string.Empty, [1, 2, 3], new DistributedCacheEntryOptions());
        Assert.That(microsoft.Get(string.Empty), Is.EqualTo(new byte[] { 1, 2, 3 }), "Microsoft's cache takes the empty key");

        using var cache = new TestBackend();
        var adapter = cache.AsDistributedCache();
        var calls = new List<TestDelegate>
        {
            () => Run(async, () => adapter.Set(string.Empty, [1], new DistributedCacheEntryOptions()), () => adapter.SetAsync(string.Empty, [1], new DistributedCacheEntryOptions())),
            () => Run(async, () => adapter.Get(string.Empty), () => adapter.GetAsync(string.Empty)),
            () => Run(async, () => adapter.Refresh(string.Empty), () => adapter.RefreshAsync(string.Empty)),
            () => Run(async, () => adapter.Remove(string.Empty), () => adapter.RemoveAsync(string.Empty)),
        };

        foreach (var call in calls)
        {
            var refused = Assert.Throws<ArgumentException>(call);
            Assert.That(refused!.ParamName, Is.EqualTo("key"));
        }

        Assert.That(cache.ReadKeys, Is.Empty, "nothing reached the cache");
        Assert.That(cache.Store, Is.Empty);

        static void Run(bool async, Action sync, Func<Task> asynchronous)
        {
            if (async)
            {
                asynchronous().GetAwaiter().GetResult();
            }
            else
            {
                sync();
            }
        }
    }

    /// <summary>PASSES: whitespace, control characters, very long keys and empty values behave as on Microsoft's.</summary>
    [Test]
    public void Unusual_keys_and_an_empty_value_round_trip_as_on_Microsofts_MemoryDistributedCache()
    {
        var microsoft = new MemoryDistributedCache(Microsoft.Extensions.Options.Options.Create(new MemoryDistributedCacheOptions()));
        using var cache = new SimpleMemoryCache();
        var adapter = cache.AsDistributedCache("sessions");
        string[] keys = [" ", "a\nb", "\0", new string('x', 100_000), "ключ:🙂"];

        foreach (var distributed in new IDistributedCache[] { microsoft, adapter })
        {
            foreach (var key in keys)
            {
                distributed.Set(key, [7], new DistributedCacheEntryOptions());
                Assert.That(distributed.Get(key), Is.EqualTo(new byte[] { 7 }), $"{distributed.GetType().Name} {key.Length}");
            }

            distributed.Set("empty", [], new DistributedCacheEntryOptions());
            Assert.That(distributed.Get("empty"), Is.Not.Null.And.Empty, distributed.GetType().Name);
            Assert.That(() => distributed.Refresh("missing"), Throws.Nothing);
            Assert.That(() => distributed.Remove("missing"), Throws.Nothing);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // HybridCache through the adapter: single flight, late callers, failing factories
    // ---------------------------------------------------------------------------------------------------------------

    private static ICache MakeCache(bool twoLevels) => twoLevels
        ? new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache())
        : new SimpleMemoryCache();

    /// <summary>
    /// PASSES: the only caller cancels while its factory runs (a factory that looks at its token only after its own
    /// await); a caller arriving after that must not join the cancelled flight and inherit its
    /// <see cref="OperationCanceledException"/>: it runs the factory anew (resilience.md, HybridCache's rule).
    /// </summary>
    [Test]
    public async Task A_caller_arriving_after_every_caller_cancelled_runs_the_factory_anew([Values] bool twoLevels)
    {
        using var cache = MakeCache(twoLevels);
        var hybrid = cache.AsHybridCache();
        var gate = Signal();
        var entered = Signal();
        var calls = 0;
        using var cancel = new CancellationTokenSource();

        var first = hybrid.GetOrCreateAsync("k", async ct =>
        {
            Interlocked.Increment(ref calls);
            entered.TrySetResult();
            await gate.Task;
            ct.ThrowIfCancellationRequested();
            return "first";
        }, cancellationToken: cancel.Token).AsTask();
        await entered.Task.WaitAsync(s_limit);
        cancel.Cancel();
        Assert.That(async () => await first.WaitAsync(s_limit), Throws.InstanceOf<OperationCanceledException>());

        var late = hybrid.GetOrCreateAsync("k", _ => { Interlocked.Increment(ref calls); return ValueTask.FromResult("late"); }).AsTask();
        gate.SetResult();

        Assert.That(await late.WaitAsync(s_limit), Is.EqualTo("late"));
        Assert.That(calls, Is.EqualTo(2));
        Assert.That(await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult("again")), Is.EqualTo("late"), "the late caller's value is stored");
    }

    /// <summary>
    /// PASSES: three callers of one key join one factory call that throws: each gets that exception, nothing is stored,
    /// and the next call runs the factory again (HybridCache does not cache failures).
    /// </summary>
    [Test]
    public async Task Callers_joined_on_a_failing_factory_all_get_its_exception_and_the_next_call_retries([Values] bool twoLevels)
    {
        using var cache = MakeCache(twoLevels);
        var hybrid = cache.AsHybridCache();
        var gate = Signal();
        var entered = Signal();
        var calls = 0;

        async ValueTask<string> Failing(CancellationToken ct)
        {
            Interlocked.Increment(ref calls);
            entered.TrySetResult();
            await gate.Task.WaitAsync(ct);
            throw new InvalidOperationException("source down");
        }

        var callers = new List<Task<string>> { hybrid.GetOrCreateAsync("k", Failing).AsTask() };
        await entered.Task.WaitAsync(s_limit);
        callers.Add(hybrid.GetOrCreateAsync("k", Failing).AsTask());
        callers.Add(hybrid.GetOrCreateAsync("k", Failing).AsTask());
        gate.SetResult();

        foreach (var caller in callers)
        {
            Assert.That(async () => await caller.WaitAsync(s_limit), Throws.InvalidOperationException.With.Message.EqualTo("source down"));
        }

        Assert.That(calls, Is.EqualTo(1), "one flight");
        Assert.That(await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult("recovered")), Is.EqualTo("recovered"));
    }

    /// <summary>
    /// PASSES: the HybridCache adapter and the cache's own GetOrSetAsync on the same key share one flight, and a caller
    /// of either that cancels leaves the other with the value.
    /// </summary>
    [Test]
    public async Task The_adapter_and_GetOrSetAsync_share_one_flight_and_one_cancelling_caller_leaves_the_other([Values] bool twoLevels)
    {
        using var cache = MakeCache(twoLevels);
        var hybrid = cache.AsHybridCache();
        var gate = Signal();
        var entered = Signal();
        var calls = 0;
        var factoryCancelled = false;
        using var cancel = new CancellationTokenSource();

        async ValueTask<string> Factory(CancellationToken ct)
        {
            Interlocked.Increment(ref calls);
            entered.TrySetResult();
            await gate.Task;
            factoryCancelled = ct.IsCancellationRequested;
            return "v";
        }

        var viaHybrid = hybrid.GetOrCreateAsync("k", Factory, cancellationToken: cancel.Token).AsTask();
        await entered.Task.WaitAsync(s_limit);
        var direct = cache.GetOrSetAsync<string>("k", Factory).AsTask();
        cancel.Cancel();
        Assert.That(async () => await viaHybrid.WaitAsync(s_limit), Throws.InstanceOf<OperationCanceledException>());
        gate.SetResult();

        Assert.That(await direct.WaitAsync(s_limit), Is.EqualTo("v"));
        Assert.That(calls, Is.EqualTo(1));
        Assert.That(factoryCancelled, Is.False, "a caller without a token still waits");
    }
}
