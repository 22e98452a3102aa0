using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Cached.Diagnostics;
using Cached.Plugins;
using Cached.Serializers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>A Redis alias from appsettings.json, through Caches and through the container, against the real server.</summary>
[NonParallelizable]
public class RedisConfigurationTests
{
    public sealed record User(int Id, string Name);

    [SetUp]
    public void SetUp() => Caches.Reset();

    [TearDown]
    public void TearDown() => Caches.Reset();

    private static IConfigurationSection AppSettings() => new ConfigurationBuilder()
        .AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes($$"""
            {
              "Cached": {
                "default": { "Cache": "Cached.SimpleMemoryCache" },
                "redis_alt": {
                  "Cache": "Cached.Redis.RedisCache",
                  "Endpoint": "127.0.0.1",
                  "Port": {{SharedRedis.Server.Port}},
                  "Timeout": 1,
                  "Namespace": "config-test",
                  "Serializer": { "Class": "Cached.Serializers.JsonSerializer" },
                  "Plugins": [ { "Class": "Cached.Plugins.HitMissRatioPlugin" }, { "Class": "Cached.Plugins.TimingPlugin" } ]
                }
              }
            }
            """)))
        .Build()
        .GetSection("Cached");

    [Test]
    public void SetConfig_from_appsettings_builds_a_working_RedisCache()
    {
        Caches.SetConfig(AppSettings());

        var cache = (RedisCache)Caches.Get("redis_alt");
        cache.Set("user:1", new User(1, "Ada"));

        Assert.Multiple(() =>
        {
            Assert.That(cache.Port, Is.EqualTo(SharedRedis.Server.Port));
            Assert.That(cache.Timeout, Is.EqualTo(TimeSpan.FromSeconds(1)));
            Assert.That(cache.Serializer, Is.InstanceOf<JsonSerializer>());
            Assert.That(cache.Get<User>("user:1"), Is.EqualTo(new User(1, "Ada")));
            Assert.That(cache.Raw("GET", "config-test:user:1"), Is.EqualTo("""{"Id":1,"Name":"Ada"}"""), "stored under aiocache's ns:key as JSON");
            Assert.That(((HitMissRatioPlugin)cache.Plugins[0]).Hits, Is.EqualTo(1));
        });
        cache.Clear();
    }

    [Test]
    public void A_misspelt_Redis_type_with_the_package_referenced_is_not_found_rather_than_a_missing_package()
    {
        var typo = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Cached:default:Cache"] = "Cached.Redis.RedisCahce" })
            .Build()
            .GetSection("Cached");

        var ex = Assert.Throws<CacheConfigurationException>(() => Caches.SetConfig(typo))!;

        Assert.That(ex.Message, Does.Contain("'Cached.Redis.RedisCahce' was not found").And.Not.Contain("dotnet add package"));
    }

    [Test]
    public void A_Redis_setting_that_does_not_convert_fails_at_start_up_naming_its_path()
    {
        var bad = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Cached:default:Cache"] = "Cached.Redis.RedisCache",
                ["Cached:default:Port"] = "six-three-seven-nine",
            })
            .Build()
            .GetSection("Cached");

        var ex = Assert.Throws<CacheConfigurationException>(() => Caches.SetConfig(bad))!;

        Assert.That(ex.Path, Is.EqualTo("Cached:default:Port"));
    }

    [TestCase("Port", "70000")]
    [TestCase("Port", "0")]
    [TestCase("Database", "-1")]
    [TestCase("Endpoint", " ")]
    [TestCase("ConnectionString", "127.0.0.1:6379,nosuchoption=1")]
    [TestCase("ConnectionString", "password=only")]
    public void A_Redis_setting_the_client_cannot_use_fails_when_the_cache_is_made_naming_its_path(string setting, string value)
    {
        var bad = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Cached:default:Cache"] = "Cached.Redis.RedisCache",
                [$"Cached:default:{setting}"] = value,
            })
            .Build()
            .GetSection("Cached");

        // SetConfig checks that each value converts (a port is a number); what the client can use is checked as the
        // cache is made, as for every cache's settings, not at each command.
        Caches.SetConfig(bad);
        var ex = Assert.Throws<CacheConfigurationException>(() => Caches.Get("default"))!;

        Assert.That(ex.Path, Is.EqualTo($"Cached:default:{setting}"));
    }

    [Test]
    public void A_Redis_setting_the_client_cannot_use_is_refused_when_set_naming_it()
    {
        Assert.That(() => new RedisCache { Port = 70000 }, Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("Port"));
        Assert.That(() => new RedisCache { Database = -1 }, Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("Database"));
        Assert.That(() => new RedisCache { Endpoint = "" }, Throws.ArgumentException.With.Property("ParamName").EqualTo("Endpoint"));
        Assert.That(() => new RedisCache { ConnectionString = "127.0.0.1:6379,nosuchoption=1" }, Throws.ArgumentException.With.Property("ParamName").EqualTo("ConnectionString").And.Message.Contains("nosuchoption"));
        Assert.That(() => new RedisCache { ConnectionString = "password=only" }, Throws.ArgumentException.With.Property("ParamName").EqualTo("ConnectionString"));
        Assert.That(new RedisCache { Port = 6380, Database = 2, ConnectionString = "127.0.0.1:6380,abortConnect=false" }.Port, Is.EqualTo(6380), "usable settings pass");
    }

    [Test]
    public async Task The_container_hands_out_the_Redis_alias_by_key_and_it_reports_metrics()
    {
        var hits = 0L;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == CachedDiagnostics.MeterName && instrument.Name == "cached.hits")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "cache.backend" && Equals(tag.Value, "RedisCache"))
                {
                    Interlocked.Add(ref hits, value);
                }
            }
        });
        listener.Start();

        RedisCache cache;
        await using (var provider = new ServiceCollection().AddCached(AppSettings()).BuildServiceProvider())
        {
            cache = (RedisCache)provider.GetRequiredKeyedService<ICache>("redis_alt");
            await cache.SetAsync("user:2", new User(2, "Grace"));

            Assert.Multiple(async () =>
            {
                Assert.That(await cache.GetAsync<User>("user:2"), Is.EqualTo(new User(2, "Grace")));
                Assert.That(Interlocked.Read(ref hits), Is.EqualTo(1));
                Assert.That(provider.GetRequiredService<ICache>(), Is.InstanceOf<SimpleMemoryCache>());
            });
            await cache.ClearAsync();
        }

        Assert.Throws<ObjectDisposedException>(() => cache.Get<User>("user:2"), "the container disposed the cache it created");
    }

    [Test]
    public void Ten_reloads_with_a_changed_setting_leave_as_many_connections_open_as_one()
    {
        const string client = "cached-reload-test";
        var time = new FakeTimeProvider();
        Caches.TimeProvider = time;
        using var admin = ConnectionMultiplexer.Connect($"{SharedRedis.Server.ConnectionString},allowAdmin=true,name=cached-reload-admin");
        var server = admin.GetServer(admin.GetEndPoints()[0]);
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Cached:default:Cache"] = "Cached.SimpleMemoryCache",
                ["Cached:redis_alt:Cache"] = "Cached.Redis.RedisCache",
                ["Cached:redis_alt:ConnectionString"] = $"{SharedRedis.Server.ConnectionString},name={client}",
                ["Cached:redis_alt:Timeout"] = "1",
            })
            .Build();
        Caches.SetConfig(configuration.GetSection("Cached"));
        var first = Caches.Get("redis_alt");
        first.Set("reload", 0);
        var steady = ClientsNamed(server, client);
        var connectedBefore = ConnectedClients(server);

        for (var reload = 1; reload <= 10; reload++)
        {
            // A changed client setting: each configuration gets a multiplexer of its own.
            configuration["Cached:redis_alt:Timeout"] = (1 + (reload / 10.0)).ToString(CultureInfo.InvariantCulture);
            Caches.SetConfig(configuration.GetSection("Cached"));
            Caches.Get("redis_alt").Set("reload", reload);
        }

        var peak = ClientsNamed(server, client);
        var connectedAtPeak = ConnectedClients(server);
        time.Advance(Caches.ReplacedInstanceGrace);
        var after = WaitForClientsNamed(server, client, steady);
        var connectedAfter = ConnectedClients(server);
        TestContext.Out.WriteLine($"connected_clients: {connectedBefore} before, {connectedAtPeak} after 10 reloads, {connectedAfter} once the grace period passed; named {client}: {steady}, {peak}, {after}");

        Assert.Multiple(() =>
        {
            Assert.That(steady, Is.EqualTo(2), "one multiplexer: an interactive and a subscription connection");
            Assert.That(peak, Is.EqualTo(22), "each reload connected anew while the replaced caches had their grace period");
            Assert.That(after, Is.EqualTo(steady), "the replaced caches closed their connections");
            Assert.That(connectedAfter, Is.LessThanOrEqualTo(connectedBefore));
            Assert.That(Caches.Get("redis_alt").Get<int>("reload"), Is.EqualTo(10), "the current cache still works");
        });
        var late = Assert.Throws<ObjectDisposedException>(() => first.Get<int>("reload"))!;
        Assert.That(late.Message, Does.Contain("Caches.Get(\"redis_alt\")"));
        Caches.Get("redis_alt").Delete("reload");
    }

    private static int ClientsNamed(IServer server, string name) => server.ClientList().Count(c => c.Name == name);

    private static long ConnectedClients(IServer server)
        => server.Info("clients").SelectMany(static group => group).Where(static pair => pair.Key == "connected_clients").Select(static pair => long.Parse(pair.Value, CultureInfo.InvariantCulture)).Single();

    /// <summary>
    /// The count of clients named <paramref name="name"/> once it is down to <paramref name="expected"/>: the server
    /// sees a closed connection a moment after the client closes it. The limit only ends a wait for connections that
    /// stay open; it is not a timing claim.
    /// </summary>
    private static int WaitForClientsNamed(IServer server, string name, int expected)
    {
        var waited = Stopwatch.StartNew();
        var count = ClientsNamed(server, name);
        while (count > expected && waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            Thread.Sleep(20);
            count = ClientsNamed(server, name);
        }

        return count;
    }
}
