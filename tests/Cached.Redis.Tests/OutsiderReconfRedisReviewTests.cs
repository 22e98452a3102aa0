using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// An outsider's check of replacing a two-level Redis alias (memory L1, Redis L2, Redis backplane) while a generated
/// [Cached] method runs on it (docs/configuration.md, "Replacing a configuration"), against the shared redis-server.
/// The grace period runs on a fake clock; connections are counted by client name with CLIENT LIST.
/// </summary>
[NonParallelizable]
public class OutsiderReconfRedisReviewTests
{
    internal const string Alias = "outsider_reconf";
    private static int s_tests;
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(4);

    private string _client = "outsider-reconf";
    private string _space = "or";
    private FakeTimeProvider _time = null!;
    private ConnectionMultiplexer _admin = null!;
    private IServer _server = null!;

    [SetUp]
    public void SetUp()
    {
        var test = Interlocked.Increment(ref s_tests);
        _client = $"outsider-reconf-{test}";
        _space = $"or-{test}-{Guid.NewGuid():N}";
        Caches.Reset();
        _time = new FakeTimeProvider();
        Caches.TimeProvider = _time;
        _admin = ConnectionMultiplexer.Connect($"{SharedRedis.Server.ConnectionString},allowAdmin=true,name=outsider-reconf-admin");
        _server = _admin.GetServer(_admin.GetEndPoints()[0]);
        ReconfSource.Reset();
    }

    [TearDown]
    public void TearDown()
    {
        Caches.Reset();
        ReconfSource.Reset();
        _admin.Dispose();
    }

    private string ConnectionString => $"{SharedRedis.Server.ConnectionString},name={_client}";

    private CacheConfig TwoLevels() => new()
    {
        Cache = "Cached.MultiLevelCache",
        L1 = new CacheConfig { Cache = "Cached.SimpleMemoryCache" },
        L2 = new CacheConfig { Cache = "Cached.Redis.RedisCache", ["ConnectionString"] = ConnectionString, ["Namespace"] = _space },
        Backplane = new ClassConfig("Cached.Redis.RedisBackplane") { ["Configuration"] = ConnectionString, ["Sharded"] = "false" },
    };

    private void Configure()
        => Caches.SetConfig(new Dictionary<string, CacheConfig> { ["default"] = new() { Cache = "Cached.SimpleMemoryCache" }, [Alias] = TwoLevels() });

    private int ClientsNamed() => _server.ClientList().Count(c => c.Name == _client);

    private int WaitForClients(int expected)
    {
        var waited = Stopwatch.StartNew();
        var count = ClientsNamed();
        while (count != expected && waited.Elapsed < s_wait)
        {
            Thread.Sleep(20);
            count = ClientsNamed();
        }

        return count;
    }

    [Test]
    public async Task A_generated_call_running_across_the_replacement_of_a_two_level_Redis_alias_completes_and_the_next_call_uses_the_new_instance()
    {
        Configure();
        var service = new ReconfReviewService();
        Assert.That(await service.GetAsync(1).WaitAsync(s_wait), Is.EqualTo("value:1:1"), "a first call computes and stores");
        var old = (MultiLevelCache)Caches.Get(Alias);
        Assert.That(old.Backplane, Is.InstanceOf<RedisBackplane>());
        var clientsOfOne = ClientsNamed();
        Assert.That(clientsOfOne, Is.GreaterThan(0));

        ReconfSource.Hold();
        var running = service.GetAsync(2);
        await ReconfSource.Entered.WaitAsync(s_wait);

        Configure();
        var current = (MultiLevelCache)Caches.Get(Alias);
        Assert.That(current, Is.Not.SameAs(old));
        _time.Advance(Caches.ReplacedInstanceGrace);
        await Caches.WhenDisposed(old).WaitAsync(s_wait);

        ReconfSource.Release();
        string? value = null;
        Assert.DoesNotThrowAsync(async () => value = await running.WaitAsync(s_wait), "the running call survives the disposal of the cache it started on");
        Assert.That(value, Is.EqualTo("value:2:2"));

        Assert.That(await service.GetAsync(1).WaitAsync(s_wait), Is.EqualTo("value:1:1"), "the new instance reads the same Redis namespace: a hit");
        Assert.That(await service.GetAsync(3).WaitAsync(s_wait), Is.EqualTo("value:3:3"));
        Assert.That(await current.L2.GetAsync<string>("item:3").AsTask().WaitAsync(s_wait), Is.Not.Null, "the next call stores through the new instance");
        Assert.That(ReconfSource.Calls, Is.EqualTo(3));

        Assert.That(WaitForClients(clientsOfOne), Is.EqualTo(clientsOfOne), "the replaced instance's L2 and backplane connections are closed");
    }

    [Test]
    public async Task A_write_through_the_new_two_level_instance_reaches_another_nodes_L1_after_the_old_one_is_disposed()
    {
        Configure();
        var old = (MultiLevelCache)Caches.Get(Alias);
        await old.SetAsync("k", "v0");

        var otherBackplane = new RedisBackplane(SharedRedis.Server.ConnectionString + ",name=outsider-reconf-node");
        var otherL2 = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString + ",name=outsider-reconf-node", Namespace = _space };
        await using var other = new MultiLevelCache(new SimpleMemoryCache(), otherL2, otherBackplane);
        Assert.That(await other.GetAsync<string>("k"), Is.EqualTo("v0"), "the other node copies it into its L1");

        Configure();
        _time.Advance(Caches.ReplacedInstanceGrace);
        await Caches.WhenDisposed(old).WaitAsync(s_wait);

        var current = (MultiLevelCache)Caches.Get(Alias);
        await current.SetAsync("k", "v1");

        var waited = Stopwatch.StartNew();
        string? seen = await other.GetAsync<string>("k");
        while (seen != "v1" && waited.Elapsed < s_wait)
        {
            await Task.Delay(20);
            seen = await other.GetAsync<string>("k");
        }

        Assert.That(seen, Is.EqualTo("v1"), "the new instance's backplane is active: the other node dropped its copy");
    }
}

internal static class ReconfSource
{
    private static int s_calls;
    private static TaskCompletionSource s_entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private static TaskCompletionSource? s_release;

    public static int Calls => Volatile.Read(ref s_calls);

    public static Task Entered => s_entered.Task;

    public static void Hold() => s_release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public static void Release() => s_release?.TrySetResult();

    public static void Reset()
    {
        s_calls = 0;
        s_entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        s_release?.TrySetResult();
        s_release = null;
    }

    public static async Task<string> Compute(int id)
    {
        var call = Interlocked.Increment(ref s_calls);
        if (s_release is { } release)
        {
            s_entered.TrySetResult();
            await release.Task.WaitAsync(TimeSpan.FromSeconds(4));
        }

        return $"value:{id}:{call}";
    }
}

/// <summary>A generated [Cached] method on the two-level alias this review replaces.</summary>
public partial class ReconfReviewService
{
    [Cached(Alias = OutsiderReconfRedisReviewTests.Alias, Key = "item:{id}", Ttl = 60)]
    public partial Task<string> GetAsync(int id);

    private Task<string> GetAsyncCore(int id) => ReconfSource.Compute(id);
}
