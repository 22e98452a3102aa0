using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// An outsider's check of Redis aliases given to a .NET host (docs/configuration.md, "From appsettings.json" and
/// "Dependency injection"; docs/multilevel.md, "Configuration"), against the shared real redis-server. Connections are
/// counted by client name with CLIENT LIST.
/// </summary>
[NonParallelizable]
public class OutsiderHostingRedisReviewTests
{
    internal const string Alias = "outsider_hosting";
    private static int s_tests;
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(4);

    private string _client = "outsider-hosting";
    private ConnectionMultiplexer _admin = null!;
    private IServer _server = null!;

    [SetUp]
    public void SetUp()
    {
        _client = $"outsider-hosting-{Interlocked.Increment(ref s_tests)}";
        Caches.Reset();
        _admin = ConnectionMultiplexer.Connect($"{SharedRedis.Server.ConnectionString},allowAdmin=true,name=outsider-hosting-admin");
        _server = _admin.GetServer(_admin.GetEndPoints()[0]);
        HostingSource.Calls = 0;
    }

    [TearDown]
    public void TearDown()
    {
        Caches.Reset();
        _admin.Dispose();
    }

    private static IConfigurationSection Section(string json)
        => new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build().GetSection("Cached");

    private string ConnectionString => $"{SharedRedis.Server.ConnectionString},name={_client}";

    private int ClientsNamed() => _server.ClientList().Count(c => c.Name == _client);

    private int WaitForClients(int expected)
    {
        var waited = Stopwatch.StartNew();
        var count = ClientsNamed();
        while (count > expected && waited.Elapsed < s_limit)
        {
            Thread.Sleep(20);
            count = ClientsNamed();
        }

        return count;
    }

    [Test]
    public void Pycached_names_host_port_and_db_in_appsettings_reach_that_server_and_database()
    {
        var port = SharedRedis.Server.Port;
        var services = new ServiceCollection();
        services.AddCached(Section($$"""
            { "Cached": {
                "default": { "Cache": "Cached.SimpleMemoryCache" },
                "{{Alias}}": { "cache": "Cached.Redis.RedisCache", "host": "127.0.0.1", "port": {{port}}, "db": 3,
                               "timeout": 2, "namespace": "oh-db", "serializer": { "class": "Cached.Serializers.JsonSerializer" } } } }
            """));
        using var provider = services.BuildServiceProvider();
        var cache = provider.GetRequiredKeyedService<ICache>(Alias);

        cache.Set("k", "v");

        Assert.Multiple(() =>
        {
            Assert.That(cache.Timeout, Is.EqualTo(TimeSpan.FromSeconds(2)));
            Assert.That(_admin.GetDatabase(3).KeyExists("oh-db:k"), Is.True, "written to database 3 as ns:key");
            Assert.That(_admin.GetDatabase(0).KeyExists("oh-db:k"), Is.False);
        });
        cache.Delete("k");
    }

    [TestCase("\"Port\": 70000", "Port")]
    [TestCase("\"Database\": -1", "Database")]
    [TestCase("\"ConnectionString\": \"abortConnect=false\"", "ConnectionString")]
    public void A_value_that_converts_but_cannot_be_used_fails_when_the_cache_is_made_naming_its_path(string entry, string setting)
    {
        Caches.SetConfig(Section($$"""
            { "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache" },
                          "r": { "Cache": "Cached.Redis.RedisCache", {{entry}} } } }
            """));

        var first = Assert.Throws(Is.InstanceOf<CacheConfigurationException>(), () => Caches.Get("r")) as CacheConfigurationException;
        var again = Assert.Throws(Is.InstanceOf<CacheConfigurationException>(), () => Caches.Get("r")) as CacheConfigurationException;

        Assert.Multiple(() =>
        {
            Assert.That(first!.Path, Is.EqualTo($"Cached:r:{setting}"));
            Assert.That(again!.Path, Is.EqualTo($"Cached:r:{setting}"), "nothing memoised");
        });
    }

    [Test]
    public async Task Two_providers_built_from_one_collection_share_a_Redis_alias_until_the_last_is_disposed()
    {
        var services = new ServiceCollection();
        services.AddCached(Section($$"""
            { "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache" },
                          "{{Alias}}": { "Cache": "Cached.Redis.RedisCache", "ConnectionString": "{{ConnectionString}}", "Namespace": "oh-two" } } }
            """));
        var first = services.BuildServiceProvider();
        var second = services.BuildServiceProvider();
        var a = first.GetRequiredKeyedService<ICache>(Alias);
        var b = second.GetRequiredKeyedService<ICache>(Alias);
        await a.SetAsync("k", "v");

        await first.DisposeAsync();

        Assert.That(await b.GetAsync<string>("k"), Is.EqualTo("v"), "the second container's cache still works");
        await b.DeleteAsync("k");
        await second.DisposeAsync();

        Assert.Multiple(() =>
        {
            Assert.That(() => b.Get<string>("k"), Throws.InstanceOf<ObjectDisposedException>(), "disposed with the last container");
            Assert.That(WaitForClients(0), Is.Zero, "its connection closed");
        });
    }

    [Test]
    public async Task A_two_level_alias_with_a_backplane_from_appsettings_keeps_nodes_coherent_and_closes_every_connection_with_the_container()
    {
        var json = $$"""
            { "Cached": {
                "default": { "Cache": "Cached.SimpleMemoryCache" },
                "{{Alias}}": {
                  "Cache": "Cached.MultiLevelCache",
                  "L1Ttl": 300,
                  "L1": { "Cache": "Cached.SimpleMemoryCache" },
                  "L2": { "Cache": "Cached.Redis.RedisCache", "ConnectionString": "{{ConnectionString}}", "Namespace": "oh-levels" },
                  "Backplane": { "Class": "Cached.Redis.RedisBackplane", "Configuration": "{{ConnectionString}}" } } } }
            """;
        var services = new ServiceCollection();
        services.AddCached(Section(json));
        var provider = services.BuildServiceProvider();
        var node = provider.GetRequiredKeyedService<ICache>(Alias);
        // A second node of the same alias, as another process would make it.
        var other = Caches.Create(Alias);
        try
        {
            Assert.That(node, Is.InstanceOf<MultiLevelCache>());
            Assert.That(((MultiLevelCache)node).Backplane, Is.Not.Null);
            await node.SetAsync("k", "one");
            Assert.That(await other.GetAsync<string>("k"), Is.EqualTo("one"), "read through L2, now in the other node's L1");

            await node.SetAsync("k", "two");
            var waited = Stopwatch.StartNew();
            string? seen;
            while ((seen = await other.GetAsync<string>("k")) != "two" && waited.Elapsed < s_limit)
            {
                await Task.Delay(10);
            }

            Assert.That(seen, Is.EqualTo("two"), "the backplane dropped the other node's L1 copy");
            await node.DeleteAsync("k");
        }
        finally
        {
            await other.DisposeAsync();
        }

        await provider.DisposeAsync();
        Assert.That(WaitForClients(0), Is.Zero, "L2's and the backplane's connections closed with the container");
    }

    [Test]
    public async Task A_generated_method_uses_the_container_alias_then_follows_a_later_SetConfig()
    {
        var services = new ServiceCollection();
        services.AddCached(Section($$"""
            { "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache" },
                          "{{Alias}}": { "Cache": "Cached.Redis.RedisCache", "ConnectionString": "{{ConnectionString}}", "Namespace": "oh-di" } } }
            """));
        await using var provider = services.BuildServiceProvider();
        var fromContainer = provider.GetRequiredKeyedService<ICache>(Alias);
        var service = new HostingReviewService();

        Assert.That(await service.GetAsync(1), Is.EqualTo("value:1"));
        Assert.That(await fromContainer.GetAsync<string>("item:1"), Is.EqualTo("value:1"), "the method stored in the container's instance");

        Caches.SetConfig(new Dictionary<string, CacheConfig>
        {
            ["default"] = new() { Cache = "Cached.SimpleMemoryCache" },
            [Alias] = new() { Cache = "Cached.Redis.RedisCache", ["ConnectionString"] = ConnectionString, ["Namespace"] = "oh-sc" },
        });
        Assert.That(await service.GetAsync(1), Is.EqualTo("value:1"));

        Assert.Multiple(() =>
        {
            Assert.That(HostingSource.Calls, Is.EqualTo(2), "a miss in the new namespace");
            Assert.That(_admin.GetDatabase().KeyExists("oh-sc:item:1"), Is.True, "generated methods follow Caches");
            Assert.That(fromContainer.Get<string>("item:1"), Is.EqualTo("value:1"), "the container's instance still serves");
        });
        _admin.GetDatabase().KeyDelete(["oh-di:item:1", "oh-sc:item:1"]);
        Caches.TryGetInstance(Alias)?.Dispose();
    }
}

/// <summary>What <see cref="HostingReviewService"/> computes.</summary>
internal static class HostingSource
{
    public static int Calls;
}

/// <summary>A generated [Cached] method on the alias this review configures through AddCached and SetConfig.</summary>
public partial class HostingReviewService
{
    [Cached(Alias = OutsiderHostingRedisReviewTests.Alias, Key = "item:{id}", Ttl = 60)]
    public partial Task<string> GetAsync(int id);

    private Task<string> GetAsyncCore(int id)
    {
        Interlocked.Increment(ref HostingSource.Calls);
        return Task.FromResult($"value:{id}");
    }
}
