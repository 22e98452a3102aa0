using System.Text;
using Cached.Distributed;
using Cached.Hybrid;
using Cached.Runtime;
using Cached.Tests.Configuration;
using Cached.Tests.Runtime;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests;

/// <summary>
/// An outsider's review of how Cached meets a .NET host: appsettings.json binding, <c>Caches</c>' named caches,
/// <c>AddCached</c> and a generic host. Each test asserts what docs/configuration.md (or the aiocache inventory) says.
/// </summary>
[NonParallelizable]
public class OutsiderHostingReviewTests
{
    private static readonly string s_connected = typeof(ConnectedBackend).FullName!;
    private static readonly string s_tracked = typeof(TestBackend).FullName!;

    private FakeTimeProvider _time = null!;

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

    private static IConfigurationSection Section(string json, string section = "Cached")
        => new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build().GetSection(section);

    // ---- appsettings.json ----

    [Test]
    public void An_alias_spelled_Default_in_appsettings_is_the_default_alias_since_keys_are_case_insensitive()
    {
        // docs/configuration.md, "From appsettings.json": "Keys are case-insensitive". .NET configuration itself treats
        // "Default" and "default" as one key (an environment variable Cached__DEFAULT__Namespace overrides either).
        var section = Section("""{ "Cached": { "Default": { "Cache": "Cached.SimpleMemoryCache", "Namespace": "app" } } }""");

        Assert.DoesNotThrow(() => Caches.SetConfig(section), "the section has a default alias, spelled as .NET configuration allows");
        Assert.That(Caches.Get("default").Namespace, Is.EqualTo("app"));
    }

    [Test]
    public void AddCached_with_an_alias_spelled_Default_serves_that_configuration_as_ICache()
    {
        var section = Section("""{ "Cached": { "Default": { "Cache": "Cached.SimpleMemoryCache", "Namespace": "app" } } }""");
        var services = new ServiceCollection();
        services.AddCached(section);
        using var provider = services.BuildServiceProvider();

        // The configured entry (keys are case-insensitive), not silently the unconfigured default.
        Assert.That(provider.GetRequiredService<ICache>().Namespace, Is.EqualTo("app"));
    }

    [Test]
    public void A_level_or_backplane_given_to_a_single_level_cache_is_refused_naming_it()
    {
        // "Every entry is checked when SetConfig runs (types exist and fit, each setting names a property ...), so a typo
        // fails at start-up". An L2 under a SimpleMemoryCache (Cache not changed to Cached.MultiLevelCache) is such a typo:
        // it must not be dropped silently, leaving a one-level cache that never reaches Redis.
        var section = Section("""
            { "Cached": { "default": {
                "Cache": "Cached.SimpleMemoryCache",
                "L1": { "Cache": "Cached.SimpleMemoryCache" },
                "L2": { "Cache": "Cached.SimpleMemoryCache", "Namespace": "shop" } } } }
            """);

        var ex = Assert.Throws(Is.InstanceOf<CacheConfigurationException>(), () => Caches.SetConfig(section)) as CacheConfigurationException;

        Assert.That(ex!.Path, Does.StartWith("Cached:default:L"));
    }

    [Test]
    public void Settings_bind_case_insensitively_with_seconds_and_hh_mm_ss_and_serializers_and_plugins_by_name()
    {
        var section = Section("""
            { "cached": {
                "default": { "cache": "Cached.SimpleMemoryCache" },
                "short": { "CACHE": "Cached.SimpleMemoryCache", "namespace": "s", "TTL": 1.5, "timeout": "00:00:02",
                           "max_entries": "100", "serializer": "Cached.Serializers.MessagePackSerializer",
                           "PLUGINS": [ { "class": "Cached.Plugins.TimingPlugin" }, { "CLASS": "Cached.Plugins.HitMissRatioPlugin" } ] },
                "json": { "Cache": "Cached.SimpleMemoryCache", "Serializer": { "Class": "Cached.Serializers.JsonSerializer" }, "Timeout": 0 } } }
            """, "CACHED");

        Caches.SetConfig(section);
        var @short = (SimpleMemoryCache)Caches.Get("short");
        var json = Caches.Get("json");

        Assert.Multiple(() =>
        {
            Assert.That(@short.Namespace, Is.EqualTo("s"));
            Assert.That(@short.Ttl, Is.EqualTo(TimeSpan.FromSeconds(1.5)));
            Assert.That(@short.Timeout, Is.EqualTo(TimeSpan.FromSeconds(2)));
            Assert.That(@short.MaxEntries, Is.EqualTo(100));
            Assert.That(@short.Serializer.GetType().FullName, Is.EqualTo("Cached.Serializers.MessagePackSerializer"));
            Assert.That(@short.Plugins.Select(static p => p.GetType().Name), Is.EqualTo(new[] { "TimingPlugin", "HitMissRatioPlugin" }));
            Assert.That(json.Serializer, Is.InstanceOf<Cached.Serializers.JsonSerializer>());
            Assert.That(json.Timeout, Is.Null, "zero timeout means none");
        });
    }

    [TestCase("\"Ttl\": \"ten\"", "Cached:default:Ttl")]
    [TestCase("\"MaxEntries\": \"1e4\"", "Cached:default:MaxEntries")]
    [TestCase("\"Serializer\": \"Cached.Serializers.NoSuch\"", "Cached:default:Serializer:Class")]
    [TestCase("\"Plugins\": [ { \"Class\": \"Cached.Serializers.JsonSerializer\" } ]", "Cached:default:Plugins:0:Class")]
    [TestCase("\"Colour\": \"blue\"", "Cached:default:Colour")]
    public void An_unreadable_value_fails_at_SetConfig_naming_its_key_and_keeps_the_previous_configuration(string entry, string path)
    {
        Caches.SetConfig(Section("""{ "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache", "Namespace": "before" } } }"""));
        var section = Section($$"""{ "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache", {{entry}} } } }""");

        var ex = Assert.Throws(Is.InstanceOf<CacheConfigurationException>(), () => Caches.SetConfig(section)) as CacheConfigurationException;

        Assert.Multiple(() =>
        {
            Assert.That(ex!.Path, Is.EqualTo(path));
            Assert.That(Caches.Get().Namespace, Is.EqualTo("before"));
        });
    }

    [Test]
    public void An_unknown_cache_type_in_appsettings_is_an_InvalidCacheTypeException_or_configuration_error_naming_Cache()
    {
        var section = Section("""{ "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache" }, "x": { "Cache": "System.String" } } }""");

        var ex = Assert.Throws<InvalidCacheTypeException>(() => Caches.SetConfig(section));

        Assert.That(ex!.Path, Is.EqualTo("Cached:x:Cache"));
    }

    [Test]
    public void A_changed_section_is_not_followed_by_AddCached_until_SetConfig_is_called_again()
    {
        var root = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Cached:default:Cache"] = "Cached.SimpleMemoryCache",
            ["Cached:default:Namespace"] = "first",
        }).Build();
        var services = new ServiceCollection();
        services.AddCached(root.GetSection("Cached"));
        using var provider = services.BuildServiceProvider();
        var before = provider.GetRequiredService<ICache>();

        root["Cached:default:Namespace"] = "second";
        root.Reload();

        Assert.Multiple(() =>
        {
            Assert.That(provider.GetRequiredService<ICache>(), Is.SameAs(before));
            Assert.That(Caches.Get().Namespace, Is.EqualTo("first"), "later changes are not followed");
        });
        Caches.SetConfig(root.GetSection("Cached"));
        Assert.Multiple(() =>
        {
            Assert.That(Caches.Get().Namespace, Is.EqualTo("second"));
            Assert.That(provider.GetRequiredService<ICache>(), Is.SameAs(before), "the container keeps what it handed out");
        });
    }

    // ---- Caches: Get, Create, replacement ----

    [Test]
    public void Get_is_one_instance_per_alias_and_Create_a_new_one_each_time_with_overrides()
    {
        Caches.SetConfig(new Dictionary<string, CacheConfig>
        {
            ["default"] = new() { Cache = "Cached.SimpleMemoryCache" },
            ["a"] = new() { Cache = "Cached.SimpleMemoryCache", ["Namespace"] = "a", ["Ttl"] = "10" },
        });

        var first = Caches.Get("a");
        var created1 = Caches.Create("a");
        var created2 = Caches.Create("a", new Dictionary<string, string?> { ["namespace"] = "other", ["Serializer"] = "Cached.Serializers.StringSerializer" });

        Assert.Multiple(() =>
        {
            Assert.That(Caches.Get("a"), Is.SameAs(first));
            Assert.That(created1, Is.Not.SameAs(first).And.Not.SameAs(created2));
            Assert.That(created1.Namespace, Is.EqualTo("a"));
            Assert.That(created2.Namespace, Is.EqualTo("other"));
            Assert.That(((BaseCache)created2).Ttl, Is.EqualTo(TimeSpan.FromSeconds(10)), "other settings kept");
            Assert.That(created2.Serializer, Is.InstanceOf<Cached.Serializers.StringSerializer>());
            Assert.That(Caches.GetAliasConfig("a")["Namespace"], Is.EqualTo("a"), "overrides change nothing for the alias");
        });
    }

    [Test]
    public void A_missing_alias_is_an_UnknownCacheAliasException_naming_it_from_Get_Create_and_GetAliasConfig()
    {
        var get = Assert.Throws<UnknownCacheAliasException>(() => Caches.Get("nope"));
        var create = Assert.Throws<UnknownCacheAliasException>(() => Caches.Create("nope"));
        var config = Assert.Throws<UnknownCacheAliasException>(() => Caches.GetAliasConfig("nope"));

        Assert.Multiple(() =>
        {
            Assert.That(get!.Alias, Is.EqualTo("nope"));
            Assert.That(get.Message, Does.Contain("'nope'"));
            Assert.That(create!.Alias, Is.EqualTo("nope"));
            Assert.That(config!.Alias, Is.EqualTo("nope"));
        });
    }

    [Test]
    public void AddCached_keeps_the_instance_Caches_made_for_an_alias_it_does_not_name()
    {
        // docs/configuration.md: "SetConfig, AddInstance and AddCached replace the instances of the aliases they set";
        // aiocache's set_config: "An instance already created for an alias that is absent from the new config keeps
        // being returned by get". An alias AddCached does not set is not replaced: the instance a holder has keeps
        // being Caches.Get's, and is not disposed under it.
        Caches.SetConfig(new Dictionary<string, CacheConfig>
        {
            ["default"] = new() { Cache = "Cached.SimpleMemoryCache" },
            ["reports"] = new() { Cache = s_connected, ["Namespace"] = "reports" },
        });
        var reports = (ConnectedBackend)Caches.Get("reports");

        var services = new ServiceCollection();
        services.AddCached(cached => cached.AddCache("default", new CacheConfig { Cache = "Cached.SimpleMemoryCache" }));
        _time.Advance(Caches.ReplacedInstanceGrace + TimeSpan.FromSeconds(1));
        Caches.WhenDisposed(reports).Wait(TimeSpan.FromSeconds(2));

        Assert.Multiple(() =>
        {
            Assert.That(reports.DisposeCount, Is.Zero, "an alias AddCached does not set keeps its instance");
            Assert.That(() => Caches.Get("reports"), Is.SameAs(reports));
        });
    }

    [Test]
    public void AddCached_keeps_an_instance_given_to_AddInstance_for_an_alias_it_does_not_name()
    {
        using var mine = new SimpleMemoryCache { Namespace = "mine" };
        Caches.AddInstance("mine", mine);

        var services = new ServiceCollection();
        services.AddCached(cached => cached.AddCache("default", new CacheConfig { Cache = "Cached.SimpleMemoryCache" }));

        Assert.That(() => Caches.Get("mine"), Is.SameAs(mine));
    }

    // ---- AddCached ----

    [Test]
    public async Task Two_providers_built_from_one_collection_share_an_alias_and_the_first_disposed_does_not_dispose_it_under_the_second([Values] bool async)
    {
        var services = new ServiceCollection();
        services.AddCached(Section($$"""{ "Cached": { "default": { "Cache": "{{s_connected}}" } } }"""));
        var first = services.BuildServiceProvider();
        var second = services.BuildServiceProvider();
        var a = (ConnectedBackend)first.GetRequiredService<ICache>();
        var b = (ConnectedBackend)second.GetRequiredService<ICache>();
        _ = second.GetRequiredKeyedService<ICache>("default");

        if (async)
        {
            await first.DisposeAsync();
        }
        else
        {
            first.Dispose();
        }

        Assert.Multiple(() =>
        {
            Assert.That(b, Is.SameAs(a), "one instance per alias for the configuration both were built with");
            Assert.That(b.DisposeCount, Is.Zero, "still the second container's");
        });
        Assert.That(b.Set("k", "v"), Is.True);

        if (async)
        {
            await second.DisposeAsync();
        }
        else
        {
            second.Dispose();
        }

        Assert.That(b.DisposeCount, Is.EqualTo(1), "disposed once, by the last container to let go of it");
    }

    [Test]
    public void Generated_methods_follow_a_later_SetConfig_while_the_container_keeps_what_it_handed_out()
    {
        var services = new ServiceCollection();
        services.AddCached(Section($$"""{ "Cached": { "default": { "Cache": "{{s_tracked}}", "Namespace": "di" } } }"""));
        var provider = services.BuildServiceProvider();
        var fromContainer = (TestBackend)provider.GetRequiredService<ICache>();
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = "Outsider.Hosting.Later" });

        Caches.SetConfig(new Dictionary<string, CacheConfig> { ["default"] = new() { Cache = s_tracked, ["Namespace"] = "sc" } });
        method.Invoke("k", "v", static state => state);
        var current = (TestBackend)method.CurrentCache!;

        Assert.Multiple(() =>
        {
            Assert.That(current.Namespace, Is.EqualTo("sc"), "generated methods follow Caches: the later configuration");
            Assert.That(provider.GetRequiredService<ICache>(), Is.SameAs(fromContainer));
        });
        provider.Dispose();
        Assert.Multiple(() =>
        {
            Assert.That(fromContainer.DisposeCount, Is.EqualTo(1));
            Assert.That(current.DisposeCount, Is.Zero, "not the container's");
            Assert.That(Caches.Get(), Is.SameAs(current));
        });
    }

    [Test]
    public async Task A_generic_host_logs_through_its_logger_factory_and_disposes_its_caches_when_disposed()
    {
        var before = new RecordingLoggerFactory();
        CachedLogging.LoggerFactory = before;
        var logs = new RecordingLoggerProvider();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Cached:default:Cache"] = "Cached.SimpleMemoryCache",
            ["Cached:flaky:Cache"] = s_tracked,
        });
        builder.Logging.ClearProviders().AddProvider(logs);
        builder.Services.AddCached(builder.Configuration.GetSection("Cached"));
        var host = builder.Build();
        await host.StartAsync();

        var flaky = (TestBackend)host.Services.GetRequiredKeyedService<ICache>("flaky");
        flaky.FailReads = true;
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = "Outsider.Hosting.Flaky", Alias = "flaky" });
        var value = method.Invoke("user:1", "fresh", static state => state);

        Assert.Multiple(() =>
        {
            Assert.That(value, Is.EqualTo("fresh"));
            Assert.That(logs.Entries.Where(static e => e.Category == "Cached" && e.Level == LogLevel.Warning).Select(static e => e.Message),
                Has.Some.Contain("'user:1'").And.Some.Contain("'flaky'"));
            Assert.That(before.Entries, Is.Empty, "the host's logger, not the one set before");
        });

        await host.StopAsync();
        await ((IAsyncDisposable)host).DisposeAsync();
        Assert.Multiple(() =>
        {
            Assert.That(flaky.IsDisposed, Is.True, "disposed with the host's container");
            Assert.That(CachedLogging.CurrentFactory, Is.SameAs(before), "logs go back to what was set before any container");
        });
    }

    [Test]
    public async Task HybridCache_and_IDistributedCache_resolve_over_configured_aliases_replacing_Microsofts_in_either_order()
    {
        var services = new ServiceCollection();
        services.AddDistributedMemoryCache();
        services.AddCached(cached => cached
            .FromConfiguration(Section("""
                { "Cached": {
                    "default":  { "Cache": "Cached.SimpleMemoryCache" },
                    "products": { "Cache": "Cached.SimpleMemoryCache", "Namespace": "p" },
                    "sessions": { "Cache": "Cached.SimpleMemoryCache", "Namespace": "s" } } }
                """))
            .AddHybridCache("products")
            .AddDistributedCache("sessions"));
        services.AddHybridCache();
        await using var provider = services.BuildServiceProvider();

        var hybrid = provider.GetRequiredService<HybridCache>();
        var distributed = provider.GetRequiredService<IDistributedCache>();
        var products = provider.GetRequiredKeyedService<ICache>("products");
        var sessions = provider.GetRequiredKeyedService<ICache>("sessions");
        var tea = await hybrid.GetOrCreateAsync("product:1", static _ => ValueTask.FromResult("tea"));
        await distributed.SetAsync("s1", [1, 2, 3], new DistributedCacheEntryOptions());

        Assert.Multiple(() =>
        {
            Assert.That(hybrid, Is.InstanceOf<CachedHybridCache>());
            Assert.That(distributed, Is.InstanceOf<CacheDistributedCache>());
            Assert.That(provider.GetRequiredService<HybridCache>(), Is.SameAs(hybrid), "a singleton");
            Assert.That(tea, Is.EqualTo("tea"));
            Assert.That(products.Get<string>("product:1"), Is.EqualTo("tea"), "stored in the alias the container hands out");
            Assert.That(sessions.Exists("s1"), Is.True);
            Assert.That(Caches.Get("products"), Is.SameAs(products));
        });
    }

    [Test]
    public void A_container_whose_cache_factory_fails_gives_the_logs_back_when_it_is_disposed()
    {
        // "Cached's logs go to the container's ILoggerFactory; when that container is disposed, they go back to the
        // newest container still alive, or to what was set before any."
        var before = new RecordingLoggerFactory();
        CachedLogging.LoggerFactory = before;
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(new RecordingLoggerFactory());
        services.AddCached(cached => cached.AddCache("broken", _ => throw new InvalidOperationException("no connection string")));
        var provider = services.BuildServiceProvider();

        Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<ICache>());
        provider.Dispose();

        Assert.That(CachedLogging.CurrentFactory, Is.SameAs(before), "not the disposed container's logger factory");
    }

    [Test]
    public void A_cache_one_factory_made_before_another_factory_failed_is_disposed_and_forgotten_with_the_container()
    {
        // "Caches made from configuration or by a factory are disposed with the container (and Caches forgets them: a
        // factory's alias is unknown again".
        ConnectedBackend? made = null;
        var services = new ServiceCollection();
        services.AddCached(cached => cached
            .AddCache("good", _ => made = new ConnectedBackend())
            .AddCache("broken", _ => throw new InvalidOperationException("no connection string")));
        var provider = services.BuildServiceProvider();

        Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<ICache>());
        provider.Dispose();

        Assert.Multiple(() =>
        {
            Assert.That(made, Is.Not.Null);
            Assert.That(made!.DisposeCount, Is.EqualTo(1), "made by the container's factory: disposed with it");
            Assert.That(() => Caches.Get("good"), Throws.InstanceOf<UnknownCacheAliasException>(), "a factory's alias is unknown again");
        });
    }

    [Test]
    public void After_an_earlier_container_is_disposed_the_live_one_and_Caches_still_share_one_instance()
    {
        // "The aliases become Caches' configuration, so generated [Cached] methods, Caches.Get and the container share
        // one instance per alias. Caches is process-wide: the last AddCached call sets it." Two test hosts side by side:
        // the first is disposed; the second (whose AddCached came last) must still share its instance with Caches.
        var first = new ServiceCollection();
        first.AddCached(cached => cached.AddCache("default", new CacheConfig { Cache = s_connected, ["Namespace"] = "first" }));
        var second = new ServiceCollection();
        second.AddCached(cached => cached.AddCache("default", new CacheConfig { Cache = s_connected, ["Namespace"] = "second" }));
        var firstProvider = first.BuildServiceProvider();
        var secondProvider = second.BuildServiceProvider();
        _ = firstProvider.GetRequiredService<ICache>();
        var live = (ConnectedBackend)secondProvider.GetRequiredService<ICache>();

        firstProvider.Dispose();

        Assert.Multiple(() =>
        {
            Assert.That(live.DisposeCount, Is.Zero, "still the live container's");
            Assert.That(Caches.Get(), Is.SameAs(live), "Caches.Get and generated methods share the live container's instance");
        });
        secondProvider.Dispose();
    }

    [Test]
    public void A_factory_made_alias_still_resolves_from_its_container_after_another_container_configured_Caches()
    {
        // "With two containers in one process (two test hosts, a provider built on the side), each still resolves every
        // alias it was built with". Container A's factory ran when its first cache was resolved (as at host start);
        // another test host then calls AddCached without that alias; A resolves the alias for the first time.
        ConnectedBackend? made = null;
        var first = new ServiceCollection();
        first.AddCached(cached => cached.AddCache("reports", _ => made = new ConnectedBackend()));
        using var firstProvider = first.BuildServiceProvider();
        _ = firstProvider.GetRequiredService<ICache>();

        var second = new ServiceCollection();
        second.AddCached(cached => cached.AddCache("default", new CacheConfig { Cache = "Cached.SimpleMemoryCache" }));

        Assert.That(() => firstProvider.GetRequiredKeyedService<ICache>("reports"), Is.SameAs(made));
    }

    [Test]
    public void AddCached_after_SetConfig_wins_for_generated_methods_as_the_later_configuration()
    {
        Caches.SetConfig(new Dictionary<string, CacheConfig> { ["default"] = new() { Cache = "Cached.SimpleMemoryCache", ["Namespace"] = "sc" } });
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = "Outsider.Hosting.Order" });
        method.Invoke("k", "v", static state => state);
        Assert.That(method.CurrentCache!.Namespace, Is.EqualTo("sc"));

        var services = new ServiceCollection();
        services.AddCached(cached => cached.AddCache("default", new CacheConfig { Cache = "Cached.SimpleMemoryCache", ["Namespace"] = "di" }));
        using var provider = services.BuildServiceProvider();
        var fromContainer = provider.GetRequiredService<ICache>();
        method.Invoke("k", "v", static state => state);

        Assert.Multiple(() =>
        {
            Assert.That(fromContainer.Namespace, Is.EqualTo("di"));
            Assert.That(method.CurrentCache, Is.SameAs(fromContainer), "the last of SetConfig and AddCached wins");
        });
    }

    [Test]
    public async Task A_development_host_with_validation_on_build_starts_and_stops_with_AddCached_and_Microsofts_registrations()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = Environments.Development, Args = [] });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Cached:default:Cache"] = "Cached.SimpleMemoryCache",
            ["Cached:default:Namespace"] = "dev",
        });
        builder.Logging.ClearProviders();
        builder.Services.AddHybridCache();
        builder.Services.AddDistributedMemoryCache();
        builder.Services.AddCached(cached => cached.FromConfiguration(builder.Configuration.GetSection("Cached")).AddHybridCache().AddDistributedCache());
        using var host = builder.Build();

        await host.StartAsync();
        var hybrid = host.Services.GetRequiredService<HybridCache>();
        await hybrid.SetAsync("k", "v");
        Assert.Multiple(() =>
        {
            Assert.That(host.Services.GetRequiredService<ICache>().Namespace, Is.EqualTo("dev"));
            Assert.That(host.Services.GetRequiredService<ICache>().Get<string>("k"), Is.EqualTo("v"));
            Assert.That(host.Services.GetRequiredService<IDistributedCache>(), Is.InstanceOf<CacheDistributedCache>());
        });
        await host.StopAsync();
    }

    [Test]
    public void A_test_host_swaps_the_documented_redis_alias_for_memory_by_setting_its_Cache_in_configuration()
    {
        // docs/testing.md: "a test host built from the application's own Program changes the caches through
        // configuration instead: an in-memory configuration source that sets Cached:redis_alt:Cache to
        // Cached.SimpleMemoryCache and empties the settings only Redis has". The application's appsettings.json is
        // docs/configuration.md's example. (The recipe first said to set Cache alone, which failed on Endpoint.)
        const string appsettings = """
            {
              "Cached": {
                "default": {
                  "Cache": "Cached.SimpleMemoryCache",
                  "Serializer": { "Class": "Cached.Serializers.StringSerializer" }
                },
                "redis_alt": {
                  "Cache": "Cached.Redis.RedisCache",
                  "Endpoint": "127.0.0.1",
                  "Port": 6379,
                  "Timeout": 1,
                  "Namespace": "main",
                  "Serializer": { "Class": "Cached.Serializers.JsonSerializer" },
                  "Plugins": [ { "Class": "Cached.Plugins.HitMissRatioPlugin" }, { "Class": "Cached.Plugins.TimingPlugin" } ]
                }
              }
            }
            """;
        var configuration = new ConfigurationBuilder()
            .AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(appsettings)))
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Cached:redis_alt:Cache"] = "Cached.SimpleMemoryCache",
                ["Cached:redis_alt:Endpoint"] = "",
                ["Cached:redis_alt:Port"] = "",
            })
            .Build();
        var services = new ServiceCollection();

        Assert.DoesNotThrow(() => services.AddCached(configuration.GetSection("Cached")));
        using var provider = services.BuildServiceProvider();
        Assert.That(provider.GetRequiredKeyedService<ICache>("redis_alt"), Is.InstanceOf<SimpleMemoryCache>());
    }

    private sealed class RecordingLoggerProvider : ILoggerProvider
    {
        private readonly RecordingLoggerFactory _factory = new();

        public IReadOnlyList<LogEntry> Entries => _factory.Entries;

        public ILogger CreateLogger(string categoryName) => _factory.CreateLogger(categoryName);

        public void Dispose()
        {
        }
    }
}
