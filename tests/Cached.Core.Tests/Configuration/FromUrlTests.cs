using Cached.Serializers;

namespace Cached.Tests.Configuration;

public class FromUrlTests
{
    [Test]
    public void A_memory_url_gives_a_SimpleMemoryCache_with_its_defaults()
    {
        var cache = Cache.FromUrl("memory://");

        Assert.That(cache, Is.InstanceOf<SimpleMemoryCache>());
        Assert.That(cache.Namespace, Is.Null);
        Assert.That(cache.Ttl, Is.Null);
        Assert.That(cache.Serializer, Is.InstanceOf<NullSerializer>());
    }

    [Test]
    public void Every_call_gives_a_new_instance()
    {
        var first = Cache.FromUrl("memory://");
        var second = Cache.FromUrl("memory://");

        Assert.That(second, Is.Not.SameAs(first));
    }

    [TestCase("MEMORY://")]
    [TestCase("memory:///")]
    public void The_scheme_is_case_insensitive_and_an_empty_path_is_ignored(string url)
    {
        Assert.That(Cache.FromUrl(url), Is.InstanceOf<SimpleMemoryCache>());
    }

    [Test]
    public void Query_parameters_set_the_properties_they_name()
    {
        var cache = Cache.FromUrl("memory://?namespace=main&ttl=10");

        Assert.That(cache.Namespace, Is.EqualTo("main"));
        Assert.That(cache.Ttl, Is.EqualTo(TimeSpan.FromSeconds(10)));
    }

    [TestCase("memory://?timeout=")]
    [TestCase("memory://?timeout")]
    [TestCase("memory://?timeout=&namespace=")]
    public void A_query_parameter_with_a_blank_value_is_no_setting_as_parse_qsl_drops_it(string url)
    {
        // Regression (review of configuration): "?timeout=" turned the 5 s default off, where aiocache's parse_qsl
        // drops a blank value and appsettings reads "timeout": "" as no setting.
        var cache = Cache.FromUrl(url);

        Assert.That(cache.Timeout, Is.EqualTo(new SimpleMemoryCache().Timeout));
        Assert.That(cache.Timeout, Is.Not.Null);
        Assert.That(cache.Namespace, Is.Null);
    }

    [Test]
    public void Query_parameters_accept_snake_case_and_escaped_values()
    {
        var cache = (SimpleMemoryCache)Cache.FromUrl("memory://?max_entries=5&namespace=a%20b&timeout=1.5");

        Assert.That(cache.MaxEntries, Is.EqualTo(5));
        Assert.That(cache.Namespace, Is.EqualTo("a b"));
        Assert.That(cache.Timeout, Is.EqualTo(TimeSpan.FromSeconds(1.5)));
    }

    [Test]
    public void A_cache_from_a_url_works()
    {
        var cache = Cache.FromUrl("memory://?namespace=main");

        cache.Set("k", "v");

        Assert.That(cache.Get<string>("k"), Is.EqualTo("v"));
        Assert.That(cache.Get<string>("k", @namespace: ""), Is.Null);
    }

    [Test]
    public void A_serializer_and_plugins_a_url_cannot_name_are_given_beside_it()
    {
        var serializer = new Cached.Serializers.JsonSerializer();
        var ratio = new Cached.Plugins.HitMissRatioPlugin();

        var cache = Cache.FromUrl("memory://?namespace=main", serializer, [ratio]);
        cache.Get<string>("missing");

        Assert.Multiple(() =>
        {
            Assert.That(cache.Serializer, Is.SameAs(serializer));
            Assert.That(cache.Plugins, Is.EqualTo(new[] { ratio }));
            Assert.That(ratio.Misses, Is.EqualTo(1));
            Assert.That(cache.Namespace, Is.EqualTo("main"));
        });
    }

    [TestCase("memory://host:10")]
    [TestCase("memory://localhost")]
    public void A_memory_url_with_a_host_throws(string url)
    {
        var ex = Assert.Throws<CacheConfigurationException>(() => Cache.FromUrl(url));

        Assert.That(ex!.Path, Does.StartWith(url));
        Assert.That(ex.Path, Does.EndWith(":Endpoint"));
    }

    [Test]
    public void A_memory_url_with_a_database_path_throws()
    {
        var ex = Assert.Throws<CacheConfigurationException>(() => Cache.FromUrl("memory:///1"));

        Assert.That(ex!.Path, Does.EndWith(":Database"));
    }

    [Test]
    public void An_unknown_query_parameter_throws_naming_it()
    {
        var ex = Assert.Throws<CacheConfigurationException>(() => Cache.FromUrl("memory://?colour=blue"));

        Assert.That(ex!.Path, Does.EndWith(":colour"));
        Assert.That(ex, Is.Not.InstanceOf<InvalidCacheTypeException>());
    }

    [Test]
    public void A_bad_query_value_throws_naming_it()
    {
        var ex = Assert.Throws<CacheConfigurationException>(() => Cache.FromUrl("memory://?ttl=soon"));

        Assert.That(ex!.Path, Does.EndWith(":ttl"));
    }

    [Test]
    public void An_unknown_scheme_throws_InvalidCacheTypeException_listing_the_schemes()
    {
        var ex = Assert.Throws<InvalidCacheTypeException>(() => Cache.FromUrl("http://x"));

        Assert.That(ex!.Message, Does.Contain("http"));
        Assert.That(ex.Message, Does.Contain("memory"));
        Assert.That(ex.Message, Does.Contain("redis"));
        Assert.That(ex.Path, Is.EqualTo("http://x"));
    }

    [TestCase("http://")]
    [TestCase("ftp://")]
    [TestCase("http:///path")]
    public void An_unknown_scheme_without_a_host_is_an_invalid_cache_type_too(string url)
    {
        // aiocache: from_url("http://") raises InvalidCacheType; .NET reads no URL in it, which must not hide the scheme.
        var ex = Assert.Throws<InvalidCacheTypeException>(() => Cache.FromUrl(url));

        Assert.That(ex!.Message, Does.Contain(url[..url.IndexOf(':', StringComparison.Ordinal)]));
    }

    [Test]
    public void The_known_schemes_include_memory_and_redis()
    {
        Assert.That(Cache.Schemes, Is.SupersetOf(new[] { "memory", "redis", "rediss" }));
        Assert.That(Cache.Schemes, Is.Ordered.Using((IComparer<string>)StringComparer.Ordinal));
    }

    [Test]
    public void A_redis_url_without_the_redis_package_says_which_package_to_add()
    {
        var ex = Assert.Throws<CacheConfigurationException>(() => Cache.FromUrl("redis://127.0.0.1:6379/0?namespace=main"));

        Assert.That(ex, Is.Not.InstanceOf<InvalidCacheTypeException>());
        Assert.That(ex!.Message, Does.Contain("Cached.Redis.RedisCache"));
        Assert.That(ex.Message, Does.Contain("add it: dotnet add package Cached.Redis"));
    }

    [TestCase("not a url")]
    [TestCase("memory")]
    [TestCase("relative/path")]
    public void Something_that_is_not_an_absolute_url_throws_ArgumentException(string url)
    {
        Assert.Throws<ArgumentException>(() => Cache.FromUrl(url));
    }

    [TestCase("")]
    [TestCase("   ")]
    public void An_empty_url_throws_ArgumentException(string url)
    {
        Assert.Throws<ArgumentException>(() => Cache.FromUrl(url));
    }

    [Test]
    public void A_null_url_throws_ArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => Cache.FromUrl(null!));
    }

    [Test]
    public void A_registered_scheme_creates_its_cache_type()
    {
        Cache.RegisterScheme<SimpleMemoryCache>("mem2");

        var cache = Cache.FromUrl("mem2://?namespace=two");

        Assert.That(cache, Is.InstanceOf<SimpleMemoryCache>());
        Assert.That(cache.Namespace, Is.EqualTo("two"));
        Assert.That(Cache.Schemes, Does.Contain("mem2"));
    }

    [TestCase("")]
    [TestCase(" ")]
    public void Registering_an_empty_scheme_throws(string scheme)
    {
        Assert.Throws<ArgumentException>(() => Cache.RegisterScheme<SimpleMemoryCache>(scheme));
    }
}
