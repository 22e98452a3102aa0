using Cached.DependencyInjection;
using Cached.Runtime;
using Cached.Serializers;
using Cached.Tests.Configuration;
using Cached.Tests.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cached.Tests.DependencyInjection;

/// <summary>A service that asks for one alias by key, as an application's constructor would.</summary>
public sealed class KeyedConsumer([FromKeyedServices("memory_alt")] ICache alternate, ICache @default)
{
    public ICache Alternate { get; } = alternate;

    public ICache Default { get; } = @default;
}

[NonParallelizable]
public class AddCachedTests : ProcessWideStateFixture
{
    private const string Json = """
        {
          "Cached": {
            "default":    { "Cache": "Cached.SimpleMemoryCache" },
            "memory_alt": { "Cache": "Cached.SimpleMemoryCache", "Namespace": "alt", "Serializer": { "Class": "Cached.Serializers.JsonSerializer" } },
            "tracked":    { "Cache": "Cached.Tests.Runtime.TestBackend" }
          }
        }
        """;

    private static ServiceProvider Build(Action<IServiceCollection> configure)
    {
        var services = new ServiceCollection();
        configure(services);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    [Test]
    public void ICache_is_the_default_alias_and_each_alias_is_a_keyed_service_shared_with_Caches()
    {
        using var provider = Build(services => services.AddCached(ConfigurationBindingTests.Section(Json)));

        var @default = provider.GetRequiredService<ICache>();
        var alternate = provider.GetRequiredKeyedService<ICache>("memory_alt");
        Assert.Multiple(() =>
        {
            Assert.That(@default, Is.SameAs(Caches.Get()));
            Assert.That(provider.GetRequiredKeyedService<ICache>("default"), Is.SameAs(@default));
            Assert.That(alternate, Is.SameAs(Caches.Get("memory_alt")));
            Assert.That(alternate, Is.Not.SameAs(@default));
            Assert.That(alternate.Namespace, Is.EqualTo("alt"));
            Assert.That(alternate.Serializer, Is.InstanceOf<JsonSerializer>());
            Assert.That(provider.GetRequiredService<ICache>(), Is.SameAs(@default), "a singleton");
        });
    }

    [Test]
    public void FromKeyedServices_injects_the_named_alias()
    {
        using var provider = Build(services => services
            .AddCached(ConfigurationBindingTests.Section(Json))
            .AddSingleton<KeyedConsumer>());

        var consumer = provider.GetRequiredService<KeyedConsumer>();

        Assert.Multiple(() =>
        {
            Assert.That(consumer.Alternate, Is.SameAs(Caches.Get("memory_alt")));
            Assert.That(consumer.Default, Is.SameAs(Caches.Get("default")));
        });
    }

    [Test]
    public async Task A_generated_method_uses_the_instance_the_container_hands_out()
    {
        using var provider = Build(services => services.AddCached(ConfigurationBindingTests.Section(Json)));
        var alternate = provider.GetRequiredKeyedService<ICache>("memory_alt");
        var @default = provider.GetRequiredService<ICache>();
        var viaAlias = new CachedMethod<string>(new CachedMethodOptions { Method = "Test.ViaAlias", Alias = "memory_alt" });
        var viaDefault = new CachedMethod<string>(new CachedMethodOptions { Method = "Test.ViaDefault" });

        await viaAlias.InvokeAsync("k", "computed", static (state, _) => ValueTask.FromResult(state), null, CancellationToken.None);
        viaDefault.Invoke("d", "computed", static state => state);

        Assert.Multiple(() =>
        {
            Assert.That(viaAlias.CurrentCache, Is.SameAs(alternate));
            Assert.That(alternate.Get<string>("k"), Is.EqualTo("computed"));
            Assert.That(viaDefault.CurrentCache, Is.SameAs(@default));
            Assert.That(@default.Get<string>("d"), Is.EqualTo("computed"));
        });
    }

    [Test]
    public void Disposing_the_container_disposes_the_caches_it_created_and_Caches_forgets_them()
    {
        var provider = Build(services => services.AddCached(ConfigurationBindingTests.Section(Json)));
        var tracked = (TestBackend)provider.GetRequiredKeyedService<ICache>("tracked");

        provider.Dispose();

        Assert.Multiple(() =>
        {
            Assert.That(tracked.DisposeCount, Is.EqualTo(1), "disposed once, though both the container and the registry release it");
            Assert.That(Caches.Get("tracked"), Is.Not.SameAs(tracked), "the next Get builds a fresh instance");
        });
    }

    [Test]
    public void A_cache_created_outside_the_container_for_a_configured_alias_is_disposed_with_it()
    {
        var provider = Build(services => services.AddCached(ConfigurationBindingTests.Section(Json)));
        _ = provider.GetRequiredService<ICache>();
        var createdByGeneratedCode = (TestBackend)Caches.Get("tracked");

        provider.Dispose();

        Assert.That(createdByGeneratedCode.DisposeCount, Is.EqualTo(1));
    }

    [Test]
    public void An_instance_you_give_stays_yours_and_a_factory_made_one_is_the_container_s()
    {
        var given = new TestBackend();
        TestBackend? made = null;
        var provider = Build(services => services.AddCached(cached => cached
            .AddCache("given", given)
            .AddCache("made", _ => made = new TestBackend())));

        Assert.Multiple(() =>
        {
            Assert.That(provider.GetRequiredKeyedService<ICache>("given"), Is.SameAs(given));
            Assert.That(Caches.Get("given"), Is.SameAs(given));
            Assert.That(provider.GetRequiredKeyedService<ICache>("made"), Is.SameAs(made));
            Assert.That(Caches.Get("made"), Is.SameAs(made));
            Assert.That(given.Alias, Is.EqualTo("given"));
        });

        provider.Dispose();

        Assert.Multiple(() =>
        {
            Assert.That(given.DisposeCount, Is.Zero);
            Assert.That(made!.DisposeCount, Is.EqualTo(1));
        });
    }

    [Test]
    public void A_factory_made_alias_is_forgotten_with_its_container_not_rebuilt_from_its_type_alone()
    {
        var provider = Build(services => services.AddCached(cached => cached
            .AddCache("made", _ => new TestBackend { Namespace = "orders" })
            .AddCache("default", _ => new TestBackend { Namespace = "main" })));
        _ = provider.GetRequiredKeyedService<ICache>("made");

        provider.Dispose();

        // Rebuilt from its type alone it would lose what the factory set: a RedisCache would point at localhost:6379.
        Assert.Throws<UnknownCacheAliasException>(() => Caches.Get("made"));
        Assert.Multiple(() =>
        {
            Assert.That(Caches.IsDefaultConfigured, Is.False);
            Assert.That(Caches.Get("default"), Is.TypeOf<SimpleMemoryCache>(), "the default is the unconfigured one again");
        });
    }

    [Test]
    public void A_given_default_instance_is_ICache_and_is_not_disposed_by_the_container()
    {
        var given = new TestBackend();
        var provider = Build(services => services.AddCached(cached => cached.AddCache("default", given)));

        Assert.That(provider.GetRequiredService<ICache>(), Is.SameAs(given));
        provider.Dispose();
        Assert.That(given.DisposeCount, Is.Zero);
    }

    [Test]
    public void Factories_take_their_dependencies_from_the_container()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        using var provider = Build(services => services
            .AddSingleton<TimeProvider>(clock)
            .AddCached(cached => cached.AddCache("default", sp => new SimpleMemoryCache { TimeProvider = sp.GetRequiredService<TimeProvider>() })));

        Assert.That(((SimpleMemoryCache)provider.GetRequiredService<ICache>()).TimeProvider, Is.SameAs(clock));
    }

    [Test]
    public void An_interface_served_from_an_alias_the_builder_does_not_add_fails_at_registration_naming_it()
    {
        // Regression: the alias was looked up only when HybridCache or IDistributedCache was first resolved.
        var services = new ServiceCollection();
        var hybrid = Assert.Throws<CacheConfigurationException>(() => services.AddCached(cached => cached
            .AddCache("local", new SimpleMemoryCache())
            .AddHybridCache("redsi")));
        var distributed = Assert.Throws<CacheConfigurationException>(() => new ServiceCollection().AddCached(cached => cached
            .AddDistributedCache("sessions")));

        Assert.Multiple(() =>
        {
            Assert.That(hybrid!.Message, Does.Contain("AddHybridCache(\"redsi\")").And.Contain("'default', 'local'"));
            Assert.That(distributed!.Message, Does.Contain("AddDistributedCache(\"sessions\")").And.Contain("AddCache(\"sessions\""));
            Assert.That(services.Any(static d => d.ServiceType == typeof(CachedBuilder)), Is.False, "nothing was registered");
        });
    }

    [Test]
    public void An_interface_served_from_an_alias_the_builder_adds_later_in_the_same_call_or_the_default_registers()
    {
        using var provider = Build(services => services.AddCached(cached => cached
            .AddHybridCache("shared")
            .AddDistributedCache()
            .AddCache("shared", new SimpleMemoryCache())));

        Assert.That(provider.GetRequiredService<Microsoft.Extensions.Caching.Hybrid.HybridCache>(), Is.Not.Null);
        Assert.That(provider.GetRequiredService<Microsoft.Extensions.Caching.Distributed.IDistributedCache>(), Is.Not.Null);
    }

    [Test]
    public async Task Starting_the_host_fails_naming_an_alias_a_generated_method_uses_that_is_not_configured()
    {
        CachedAliases.Register("redsi", "Shop.Users.GetUser");
        CachedAliases.Register("redsi", "Shop.Users.GetUsers");
        CachedAliases.Register("local", "Shop.Prices.Get");
        try
        {
            using var host = new HostBuilder()
                .ConfigureServices(services => services.AddCached(cached => cached.AddCache("local", new SimpleMemoryCache())))
                .Build();

            var failure = Assert.ThrowsAsync<CacheConfigurationException>(() => host.StartAsync());

            Assert.That(failure!.Message, Does.Contain("'redsi' (used by Shop.Users.GetUser, Shop.Users.GetUsers)"));
            Assert.That(failure.Message, Does.Not.Contain("'local'"), "a configured alias is not named");
            Assert.That(failure.Message, Does.Contain("appsettings.json").And.Contain("AddCache(alias"));
        }
        finally
        {
            CachedAliases.Forget("redsi", "Shop.Users.GetUser");
            CachedAliases.Forget("redsi", "Shop.Users.GetUsers");
            CachedAliases.Forget("local", "Shop.Prices.Get");
        }
    }

    [Test]
    public void Starting_the_host_names_the_configured_alias_a_missing_one_was_likely_meant_to_be()
    {
        CachedAliases.Register("redsi", "Shop.Users.GetUser");
        try
        {
            using var host = new HostBuilder()
                .ConfigureServices(services => services.AddCached(cached => cached.AddCache("redis", new SimpleMemoryCache())))
                .Build();

            var failure = Assert.ThrowsAsync<CacheConfigurationException>(() => host.StartAsync());

            Assert.That(failure!.Message, Does.Contain("'redsi' (used by Shop.Users.GetUser; did you mean 'redis'?)"));
        }
        finally
        {
            CachedAliases.Forget("redsi", "Shop.Users.GetUser");
        }
    }

    [Test]
    public void SetConfig_without_an_alias_a_generated_method_uses_warns_naming_it()
    {
        var logs = new RecordingLoggerFactory();
        CachedLogging.LoggerFactory = logs;
        CachedAliases.Register("redsi", "Shop.Users.GetUser");
        try
        {
            Caches.SetConfig(new Dictionary<string, CacheConfig> { ["default"] = new() { Cache = "Cached.SimpleMemoryCache" } });
            Caches.AddInstance("redsi", new SimpleMemoryCache());
            Caches.SetConfig(new Dictionary<string, CacheConfig> { ["default"] = new() { Cache = "Cached.SimpleMemoryCache" }, ["redsi"] = new() { Cache = "Cached.SimpleMemoryCache" } });
        }
        finally
        {
            CachedAliases.Forget("redsi", "Shop.Users.GetUser");
        }

        var warnings = logs.Entries.Where(static e => e.EventId == 13).ToList();
        Assert.That(warnings, Has.Count.EqualTo(1), "the second configuration has the alias");
        Assert.That(warnings[0].Level, Is.EqualTo(LogLevel.Warning));
        Assert.That(warnings[0].Message, Does.Contain("'redsi' (used by Shop.Users.GetUser)"));
    }

    [Test]
    public void SetConfig_then_AddInstance_of_the_missing_alias_writes_nothing_to_standard_error()
    {
        // A newcomer's check: SetConfig followed by AddInstance (an instance built in code) printed "aliases that are not
        // configured" for an alias configured a line later. Without a logger, a missing alias is told on standard error
        // at the first call that needs it (CacheFaults), not when SetConfig runs; SetConfig only logs (event 13).
        CachedLogging.LoggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
        CachedAliases.Register("redsi", "Shop.Users.GetUser");
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            Caches.SetConfig(new Dictionary<string, CacheConfig> { ["default"] = new() { Cache = "Cached.SimpleMemoryCache" } });
            Caches.AddInstance("redsi", new SimpleMemoryCache());
        }
        finally
        {
            Console.SetError(original);
            CachedAliases.Forget("redsi", "Shop.Users.GetUser");
        }

        Assert.That(error.ToString(), Is.Empty);
    }

    [Test]
    public async Task Starting_the_host_registers_factory_made_caches_before_anything_is_resolved()
    {
        TestBackend? made = null;
        using var host = new HostBuilder()
            .ConfigureServices(services => services.AddCached(cached => cached.AddCache("default", _ => made = new TestBackend())))
            .Build();

        Assert.That(Caches.IsDefaultConfigured, Is.False, "the factory has not run yet");
        await host.StartAsync();

        Assert.Multiple(() =>
        {
            Assert.That(made, Is.Not.Null);
            Assert.That(Caches.IsDefaultConfigured, Is.True);
            Assert.That(new CachedMethod<int>(new CachedMethodOptions { Method = "Test.M" }).CurrentCache, Is.SameAs(made));
        });
        await host.StopAsync();
    }

    [Test]
    public async Task A_hosted_service_registered_before_AddCached_finds_factory_made_caches_when_it_starts_and_stops()
    {
        // The host starts its services in the order they were added and stops them in reverse: Cached's goes first
        // whatever that order, so a service that uses a factory-made alias in StartAsync (or StopAsync) finds it.
        var early = new EarlyService("fac");
        using var host = new HostBuilder()
            .ConfigureServices(services => services
                .AddSingleton<IHostedService>(early)
                .AddCached(cached => cached.AddCache("fac", _ => new TestBackend())))
            .Build();

        await host.StartAsync();
        await host.StopAsync();

        Assert.That(early.Seen, Is.EqualTo(new[] { "start: TestBackend", "stop: TestBackend" }));
    }

    private sealed class EarlyService(string alias) : IHostedService
    {
        public List<string> Seen { get; } = [];

        public Task StartAsync(CancellationToken cancellationToken)
        {
            Seen.Add("start: " + Describe());
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            Seen.Add("stop: " + Describe());
            return Task.CompletedTask;
        }

        private string Describe()
        {
            try
            {
                return Caches.Get(alias).GetType().Name;
            }
            catch (UnknownCacheAliasException)
            {
                return "unknown alias";
            }
        }
    }

    [Test]
    public void Without_a_default_alias_the_default_is_a_memory_cache_that_keeps_references()
    {
        using var provider = Build(services => services.AddCached(cached => cached.AddCache("other", new CacheConfig { Cache = "Cached.SimpleMemoryCache" })));

        var cache = provider.GetRequiredService<ICache>();

        Assert.Multiple(() =>
        {
            Assert.That(cache, Is.InstanceOf<SimpleMemoryCache>());
            Assert.That(cache.Serializer, Is.InstanceOf<NullSerializer>());
            Assert.That(provider.GetRequiredKeyedService<ICache>("other"), Is.Not.SameAs(cache));
        });
    }

    [Test]
    public void A_later_entry_for_an_alias_replaces_an_earlier_one()
    {
        var given = new TestBackend();
        using var provider = Build(services => services.AddCached(cached => cached
            .FromConfiguration(ConfigurationBindingTests.Section(Json))
            .AddCache("memory_alt", given)));

        Assert.That(provider.GetRequiredKeyedService<ICache>("memory_alt"), Is.SameAs(given));
    }

    [Test]
    public void A_bad_configuration_fails_at_AddCached_naming_its_path()
    {
        var services = new ServiceCollection();

        var ex = Assert.Throws<CacheConfigurationException>(() => services.AddCached(ConfigurationBindingTests.Section("""{ "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache", "Tll": "10" } } }""")))!;

        Assert.That(ex.Path, Is.EqualTo("Cached:default:Tll"));
    }

    [Test]
    public void AddCached_twice_is_refused()
    {
        var services = new ServiceCollection().AddCached(_ => { });

        Assert.Throws<InvalidOperationException>(() => services.AddCached(_ => { }));
    }

    [Test]
    public void Bad_arguments_are_refused_naming_them()
    {
        var services = new ServiceCollection();

        Assert.Multiple(() =>
        {
            Assert.That(Assert.Throws<ArgumentNullException>(() => services.AddCached((Action<CachedBuilder>)null!))!.ParamName, Is.EqualTo("configure"));
            Assert.That(Assert.Throws<ArgumentNullException>(() => services.AddCached((Microsoft.Extensions.Configuration.IConfiguration)null!))!.ParamName, Is.EqualTo("configuration"));
            Assert.That(Assert.Throws<ArgumentException>(() => new ServiceCollection().AddCached(c => c.AddCache(" ", new TestBackend())))!.ParamName, Is.EqualTo("alias"));
            Assert.That(Assert.Throws<ArgumentNullException>(() => new ServiceCollection().AddCached(c => c.AddCache("a", (ICache)null!)))!.ParamName, Is.EqualTo("cache"));
        });
    }

    [Test]
    public void Fail_open_faults_are_logged_through_the_container_s_logger_factory_at_warning_with_key_and_alias()
    {
        var logs = new RecordingLoggerFactory();
        var flaky = new TestBackend { FailReads = true };
        using var provider = Build(services => services
            .AddSingleton<ILoggerFactory>(logs)
            .AddCached(cached => cached.AddCache("flaky", flaky)));
        _ = provider.GetRequiredService<ICache>();
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = "Users.Get", Alias = "flaky" });

        var value = method.Invoke("user:1", "fresh", static state => state);

        var entry = logs.Entries.Single();
        Assert.Multiple(() =>
        {
            Assert.That(value, Is.EqualTo("fresh"), "fail-open: the body answered");
            Assert.That(entry.Level, Is.EqualTo(LogLevel.Warning));
            Assert.That(entry.Category, Is.EqualTo("Cached"));
            Assert.That(entry.Message, Does.Contain("'user:1'").And.Contain("Users.Get").And.Contain("'flaky'"));
            Assert.That(entry.Exception, Is.SameAs(flaky.Fault));
        });
    }

    [Test]
    public void Nothing_is_logged_on_a_hit()
    {
        var logs = new RecordingLoggerFactory();
        using var provider = Build(services => services.AddSingleton<ILoggerFactory>(logs).AddCached(_ => { }));
        var cache = provider.GetRequiredService<ICache>();
        cache.Set("user:1", "cached");
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = "Users.Get" });

        var value = method.Invoke("user:1", "fresh", static state => state);

        Assert.Multiple(() =>
        {
            Assert.That(value, Is.EqualTo("cached"));
            Assert.That(logs.Entries, Is.Empty);
        });
    }
}
