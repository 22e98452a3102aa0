using System.Diagnostics.Metrics;
using System.Text;
using Cached.Diagnostics;
using Cached.Plugins;
using Cached.Serializers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

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
}
