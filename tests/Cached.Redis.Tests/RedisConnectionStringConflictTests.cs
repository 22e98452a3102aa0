using System.Text;
using Microsoft.Extensions.Configuration;

namespace Cached.Redis.Tests;

/// <summary>
/// A ConnectionString says alone where and how to connect: Endpoint, Port, Password, User or Ssl beside it would be
/// dropped without a word (the login refused, or another server used), so the combination is refused where it is
/// given, before anything connects. Either side alone, and Database beside the string, work as before.
/// </summary>
[NonParallelizable]
public class RedisConnectionStringConflictTests
{
    [SetUp]
    public void SetUp() => Caches.Reset();

    [TearDown]
    public void TearDown() => Caches.Reset();

    private static string ServerString => $"127.0.0.1:{SharedRedis.Server.Port}";

    private static readonly Func<string, RedisCache>[] s_givenAfterTheString =
    [
        cs => new RedisCache { ConnectionString = cs, Endpoint = "127.0.0.1" },
        cs => new RedisCache { ConnectionString = cs, Port = 6379 },
        cs => new RedisCache { ConnectionString = cs, Password = "p@ss:w/rd" },
        cs => new RedisCache { ConnectionString = cs, User = "app" },
        cs => new RedisCache { ConnectionString = cs, Ssl = false },
    ];

    private static readonly Func<string, RedisCache>[] s_givenBeforeTheString =
    [
        cs => new RedisCache { Endpoint = "127.0.0.1", ConnectionString = cs },
        cs => new RedisCache { Port = 6379, ConnectionString = cs },
        cs => new RedisCache { Password = "p@ss:w/rd", ConnectionString = cs },
        cs => new RedisCache { User = "app", ConnectionString = cs },
        cs => new RedisCache { Ssl = true, ConnectionString = cs },
    ];

    private static readonly string[] s_settings = ["Endpoint", "Port", "Password", "User", "Ssl"];
    private static readonly string[] s_hints = ["host:port", "host:port", "password=", "user=", "ssl="];

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(4)]
    public void A_server_setting_after_a_ConnectionString_is_refused_naming_it_and_where_it_goes(int which)
    {
        var ex = Assert.Throws<ArgumentException>(() => s_givenAfterTheString[which](ServerString));

        Assert.Multiple(() =>
        {
            Assert.That(ex!.ParamName, Is.EqualTo(s_settings[which]));
            Assert.That(ex.Message, Does.Contain($"{s_settings[which]} cannot be set beside ConnectionString"));
            Assert.That(ex.Message, Does.Contain(s_hints[which]));
        });
    }

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(4)]
    public void A_ConnectionString_after_a_server_setting_is_refused_naming_that_setting(int which)
    {
        var ex = Assert.Throws<ArgumentException>(() => s_givenBeforeTheString[which](ServerString));

        Assert.Multiple(() =>
        {
            Assert.That(ex!.ParamName, Is.EqualTo("ConnectionString"));
            Assert.That(ex.Message, Does.Contain($"ConnectionString cannot be set beside {s_settings[which]}"));
            Assert.That(ex.Message, Does.Contain(s_hints[which]));
        });
    }

    [Test]
    public void Several_server_settings_before_a_ConnectionString_are_all_named()
    {
        var ex = Assert.Throws<ArgumentException>(() => new RedisCache { Endpoint = "10.1.2.3", Password = "secret", ConnectionString = ServerString });

        Assert.That(ex!.Message, Does.Contain("beside Endpoint, Password").And.Contain("host:port first, password=..."));
    }

    [TestCase("Password", "p@ss:w/rd")]
    [TestCase("Port", "6414")]
    [TestCase("host", "10.1.2.3")]
    [TestCase("Ssl", "true")]
    public void In_configuration_a_server_setting_beside_ConnectionString_fails_when_the_cache_is_made_naming_its_path(string setting, string value)
    {
        var section = new ConfigurationBuilder()
            .AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes($$"""
                { "Cached": {
                    "default": { "Cache": "Cached.SimpleMemoryCache" },
                    "redis_alt": { "Cache": "Cached.Redis.RedisCache", "ConnectionString": "{{ServerString}}" } } }
                """)))
            .AddInMemoryCollection(new Dictionary<string, string?> { [$"Cached:redis_alt:{setting}"] = value })
            .Build()
            .GetSection("Cached");

        // SetConfig checks that each value converts; that two settings cannot go together shows as the cache is made.
        Caches.SetConfig(section);
        var ex = Assert.Throws<CacheConfigurationException>(() => Caches.Get("redis_alt"));

        Assert.Multiple(() =>
        {
            Assert.That(ex!.Path, Is.EqualTo($"Cached:redis_alt:{setting}"));
            Assert.That(ex.Message, Does.Contain("cannot be set beside ConnectionString"));
        });
    }

    [Test]
    public void A_URL_with_a_host_and_a_connectionstring_parameter_is_refused()
    {
        var ex = Assert.Throws<CacheConfigurationException>(() => Cache.FromUrl($"redis://:p%40ss@127.0.0.1:6414?connectionstring={ServerString}"));

        Assert.That(ex!.Message, Does.Contain("cannot be set beside ConnectionString"));
    }

    [Test]
    public void A_ConnectionString_alone_with_a_Database_and_no_password_works()
    {
        using var cache = new RedisCache { ConnectionString = ServerString, Database = 2, Password = null, Namespace = "cs-alone" };

        cache.Set("k", "v");

        Assert.Multiple(() =>
        {
            Assert.That(cache.Get<string>("k"), Is.EqualTo("v"));
            Assert.That(cache.Raw("EXISTS", "cs-alone:k"), Is.EqualTo(1L), "written to database 2, the cache's own");
        });
        cache.Clear();
    }

    [Test]
    public void The_server_settings_alone_work()
    {
        using var cache = new RedisCache { Endpoint = "127.0.0.1", Port = SharedRedis.Server.Port, Ssl = false, Namespace = "props-alone" };

        cache.Set("k", "v");

        Assert.That(cache.Get<string>("k"), Is.EqualTo("v"));
        cache.Clear();
    }

    [Test]
    public void A_ConnectionString_alone_from_configuration_works()
    {
        Caches.SetConfig(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Cached:default:Cache"] = "Cached.Redis.RedisCache",
                ["Cached:default:ConnectionString"] = ServerString,
                ["Cached:default:Namespace"] = "cs-config",
            })
            .Build()
            .GetSection("Cached"));
        var cache = Caches.Get();

        cache.Set("k", "v");

        Assert.That(cache.Get<string>("k"), Is.EqualTo("v"));
        cache.Clear();
    }
}
