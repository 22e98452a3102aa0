using Cached.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>What only a cluster shows: keys of many hash slots in one command, and every primary scanned or flushed.</summary>
public sealed class ClusterTests
{
    private RedisCache _cache = null!;
    private ConnectionMultiplexer _direct = null!;

    [SetUp]
    public void Connect()
    {
        _cache = new RedisCache { ConnectionString = SharedRedis.Cluster.ConnectionString, Namespace = "c" };
        _direct = ConnectionMultiplexer.Connect(SharedRedis.Cluster.ConnectionString + ",allowAdmin=true");
    }

    [TearDown]
    public void CleanUp()
    {
        _cache.Clear(string.Empty);
        _cache.Dispose();
        _direct.Dispose();
    }

    private static string[] KeysOnEveryNode(int count) => Enumerable.Range(0, count).Select(static i => "k" + i).ToArray();

    private long KeysPerNode(int node) => _direct.GetServer("127.0.0.1", SharedRedis.Cluster.Nodes[node].Port).DatabaseSize();

    [Test]
    public async Task MultiSet_and_MultiGet_span_every_hash_slot()
    {
        var keys = KeysOnEveryNode(60);
        Assert.That(keys.Select(k => _direct.HashSlot("c:" + k)).Distinct().Count(), Is.GreaterThan(3), "the keys fall in many slots");

        await _cache.MultiSetAsync(keys.Select(static k => new KeyValuePair<string, string>(k, "v-" + k)), ttl: TimeSpan.FromMinutes(1));
        _cache.MultiSet(keys.Select(static k => new KeyValuePair<string, string>(k + "s", "s-" + k)));

        Assert.That(await _cache.MultiGetAsync<string>(keys), Is.EqualTo(keys.Select(static k => "v-" + k)));
        Assert.That(_cache.MultiGet<string>(keys.Select(static k => k + "s")), Is.EqualTo(keys.Select(static k => "s-" + k)));
        Assert.That(Enumerable.Range(0, 3).All(n => KeysPerNode(n) > 0), Is.True, "every primary holds some of them");
    }

    [Test]
    public async Task Clear_of_a_namespace_scans_every_primary()
    {
        var keys = KeysOnEveryNode(300);
        _cache.MultiSet(keys.Select(static k => new KeyValuePair<string, int>(k, 1)));
        _cache.Set("kept", 1, @namespace: "other");

        await _cache.ClearAsync("c");

        Assert.That(_cache.MultiGet<int?>(keys).All(static v => v is null), Is.True);
        Assert.That(_cache.Exists("kept", @namespace: "other"), Is.True);
    }

    [Test]
    public void Clear_without_a_namespace_flushes_every_primary()
    {
        var bare = new RedisCache { ConnectionString = SharedRedis.Cluster.ConnectionString };
        bare.MultiSet(KeysOnEveryNode(60).Select(static k => new KeyValuePair<string, int>(k, 1)));

        bare.Clear();

        Assert.That(Enumerable.Range(0, 3).Sum(KeysPerNode), Is.EqualTo(0));
        bare.Dispose();
    }
}
