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
    public void A_sync_batch_sends_every_slots_command_before_it_waits_for_any([Values] bool write)
    {
        // The first key's primary is paused: a batch that waits for each slot's command in turn sends nothing to the
        // second key's primary until the pause ends. The outsider's check measured 1,000 slots at 58-82 ms sync
        // against 5-17 ms async.
        var (first, second) = KeysOnTwoPrimaries(out var paused, out var other);
        var command = write ? "set" : "mget"; // a slot's one pair goes as SET
        // Connected to every primary, and the server seen to run scripts (a cache's first write asks), before one is paused.
        _cache.MultiGet<string>([first, second]);
        _cache.Set("warm", 1);
        var before = Calls(other, command);
        // 3 s, so that the batch's thread may start, and the check run, a second or two late on a loaded CI machine; not
        // longer, as the batch waits out the pause within its 5 s timeout (an UNPAUSE would wait for the pause too).
        Admin(paused).Execute("CLIENT", "PAUSE", "3000", "ALL");
        try
        {
            var batch = Task.Run(() => write
                ? _cache.MultiSet([KeyValuePair.Create(first, "1"), KeyValuePair.Create(second, "2")]) ? null : Array.Empty<string?>()
                : _cache.MultiGet<string>([first, second]));

            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (Calls(other, command) == before && waited.Elapsed < TimeSpan.FromSeconds(2.5))
            {
                Thread.Sleep(10);
            }

            Assert.That(Calls(other, command), Is.GreaterThan(before), "the second slot's command was sent while the first one's primary was paused");
            Assert.That(batch.IsCompleted, Is.False, "the batch still waits for the paused primary");
            Assert.That(batch.Wait(TimeSpan.FromSeconds(10)), Is.True);
        }
        finally
        {
            Admin(paused).Execute("CLIENT", "UNPAUSE");
        }

        Assert.That(_cache.MultiGet<string>([first, second]), Is.EqualTo(write ? new[] { "1", "2" } : new string?[] { null, null }));
    }

    [Test]
    public void A_sync_batch_gives_up_at_the_sync_timeout_while_one_slots_primary_is_paused([Values] bool write)
    {
        using var impatient = new RedisCache { ConnectionString = SharedRedis.Cluster.ConnectionString, Namespace = "c", Timeout = TimeSpan.FromMilliseconds(300) };
        var (first, second) = KeysOnTwoPrimaries(out var paused, out _);
        // Connected to every primary, and the server seen to run scripts, before one is paused.
        impatient.MultiGet<string>([first, second]);
        impatient.Set("warm", 1);
        Admin(paused).Execute("CLIENT", "PAUSE", "3000", "ALL");
        Exception? failure;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            failure = Assert.Catch(() =>
            {
                if (write)
                {
                    impatient.MultiSet([KeyValuePair.Create(first, "1"), KeyValuePair.Create(second, "2")]);
                }
                else
                {
                    impatient.MultiGet<string>([first, second]);
                }
            });
        }
        finally
        {
            waited.Stop();
            Admin(paused).Execute("CLIENT", "UNPAUSE");
        }

        Assert.That(failure, Is.InstanceOf<TimeoutException>());
        Assert.That(failure!.ToString(), Does.Contain("one per hash slot").And.Contain("300 ms"));
        Assert.That(waited.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2.5)), "it did not wait for the paused primary");
    }

    private (string First, string Second) KeysOnTwoPrimaries(out RedisServer firstOwner, out RedisServer secondOwner)
    {
        var cluster = SharedRedis.Cluster;
        var first = "k0";
        firstOwner = cluster.OwnerOf(cluster.SlotOf("c:" + first));
        var owner = firstOwner;
        var second = KeysOnEveryNode(100).First(k => cluster.OwnerOf(cluster.SlotOf("c:" + k)) != owner);
        secondOwner = cluster.OwnerOf(cluster.SlotOf("c:" + second));
        return (first, second);
    }

    private IServer Admin(RedisServer node) => _direct.GetServer("127.0.0.1", node.Port);

    /// <summary>How many times <paramref name="node"/> has run <paramref name="command"/> (<c>INFO commandstats</c>).</summary>
    private long Calls(RedisServer node, string command)
    {
        var stats = Admin(node).Info("commandstats").SelectMany(static section => section);
        var line = stats.FirstOrDefault(pair => pair.Key == "cmdstat_" + command).Value;
        return line is null ? 0 : long.Parse(line.Split(',')[0]["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture);
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
