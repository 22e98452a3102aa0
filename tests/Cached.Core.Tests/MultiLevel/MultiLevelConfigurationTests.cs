using Cached.Tests.Configuration;

namespace Cached.Tests.MultiLevel;

/// <summary>A two-level cache from appsettings.json, from the dictionary form and from a URL.</summary>
[NonParallelizable]
public sealed class MultiLevelConfigurationTests
{
    [SetUp]
    public void SetUp() => Caches.Reset();

    [TearDown]
    public void TearDown() => Caches.Reset();

    [Test]
    public void Appsettings_nest_L1_L2_and_the_backplane()
    {
        Caches.SetConfig(ConfigurationBindingTests.Section("""
            {
              "Cached": {
                "default": {
                  "Cache": "Cached.MultiLevelCache",
                  "L1Ttl": 30,
                  "Channel": "orders",
                  "L1": { "Cache": "Cached.SimpleMemoryCache", "Namespace": "local" },
                  "L2": { "Cache": "Cached.SimpleMemoryCache", "Namespace": "shared", "Ttl": 60 },
                  "Backplane": { "Class": "Cached.MemoryBackplane" }
                }
              }
            }
            """));

        var cache = (MultiLevelCache)Caches.Get();
        Assert.Multiple(() =>
        {
            Assert.That(cache.L1Ttl, Is.EqualTo(TimeSpan.FromSeconds(30)));
            Assert.That(cache.Channel, Is.EqualTo("orders"));
            Assert.That(cache.L1.Namespace, Is.EqualTo("local"));
            Assert.That(cache.L2.Namespace, Is.EqualTo("shared"));
            Assert.That(cache.L2.Ttl, Is.EqualTo(TimeSpan.FromSeconds(60)));
            Assert.That(cache.Backplane, Is.InstanceOf<MemoryBackplane>());
            Assert.That(cache.Alias, Is.EqualTo("default"));
        });
        cache.Set("k", "v");
        Assert.That(cache.L2.Get<string>("k"), Is.EqualTo("v"));
    }

    [Test]
    public void The_dictionary_form_takes_the_same_shape()
    {
        Caches.SetConfig(new Dictionary<string, CacheConfig>
        {
            ["default"] = new()
            {
                Cache = "Cached.MultiLevelCache",
                L1 = new() { Cache = "Cached.SimpleMemoryCache" },
                L2 = new() { Cache = "Cached.SimpleMemoryCache" },
                ["L1Ttl"] = "00:00:05",
            },
        });

        var cache = (MultiLevelCache)Caches.Create();
        Assert.That(cache.L1Ttl, Is.EqualTo(TimeSpan.FromSeconds(5)));
        Assert.That(cache.Backplane, Is.Null);
        Assert.That(Caches.GetAliasConfig("default").Clone().L1!.Cache, Is.EqualTo("Cached.SimpleMemoryCache"), "Clone copies the levels");
    }

    [TestCase("""{ "Cache": "Cached.MultiLevelCache", "L1": { "Cache": "Cached.SimpleMemoryCache" } }""", "Cached:default:L2")]
    [TestCase("""{ "Cache": "Cached.MultiLevelCache", "L2": { "Cache": "Cached.SimpleMemoryCache" } }""", "Cached:default:L1")]
    [TestCase("""{ "Cache": "Cached.MultiLevelCache", "L1": { "Cache": "Cached.SimpleMemoryCache" }, "L2": { "Cache": "Cached.Nope" } }""", "Cached:default:L2:Cache")]
    [TestCase("""{ "Cache": "Cached.MultiLevelCache", "L1": { "Cache": "Cached.SimpleMemoryCache" }, "L2": { "Cache": "Cached.SimpleMemoryCache" }, "Backplane": { "Class": "Cached.SimpleMemoryCache" } }""", "Cached:default:Backplane:Class")]
    [TestCase("""{ "Cache": "Cached.MultiLevelCache", "L1": { "Cache": "Cached.SimpleMemoryCache" }, "L2": { "Cache": "Cached.SimpleMemoryCache" }, "Serializer": { "Class": "Cached.Serializers.JsonSerializer" } }""", "Cached:default:Serializer")]
    [TestCase("""{ "Cache": "Cached.MultiLevelCache", "L1": { "Cache": "Cached.SimpleMemoryCache" }, "L2": { "Cache": "Cached.SimpleMemoryCache" }, "L1Ttl": "-1" }""", "Cached:default:L1Ttl")]
    public void A_bad_two_level_configuration_names_the_entry(string alias, string path)
    {
        // Checked by SetConfig where the text tells (types, missing levels), else when the cache is made.
        var error = Assert.Throws<CacheConfigurationException>(() =>
        {
            Caches.SetConfig(ConfigurationBindingTests.Section($$"""{ "Cached": { "default": {{alias}} } }"""));
            Caches.Get();
        });

        Assert.That(error!.Message, Does.Contain(path));
    }

    [Test]
    public void A_memory_url_with_l1_makes_two_memory_levels()
    {
        using var cache = (MultiLevelCache)Cache.FromUrl("memory://?l1=memory&l1ttl=2.5&namespace=main");

        Assert.That(cache.L1, Is.InstanceOf<SimpleMemoryCache>());
        Assert.That(cache.L2.Namespace, Is.EqualTo("main"));
        Assert.That(cache.L1Ttl, Is.EqualTo(TimeSpan.FromSeconds(2.5)));
        Assert.That(cache.Backplane, Is.Null, "a memory cache has no backplane to offer");
    }

    [TestCase("memory://?l1=nope")]
    [TestCase("memory://?l1=memory&l1ttl=0")]
    [TestCase("memory://?l1=memory&backplane=maybe")]
    [TestCase("memory://?l1=memory&l1ttl=1e300")]
    [TestCase("memory://?l1ttl=3")]
    public void A_bad_two_level_url_is_refused_naming_the_url(string url)
    {
        Assert.That(Assert.Throws<ArgumentException>(() => Cache.FromUrl(url))!.ParamName, Is.EqualTo("url"));
    }
}
