using System.Diagnostics;
using System.Globalization;
using Cached.Redis.Tests.Infrastructure;
using static Cached.Redis.Tests.Infrastructure.BreakerChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Redis.Tests;

/// <summary>Generated batch and single-key methods over the cluster's breaker alias, counted.</summary>
public partial class BreakerClusterCatalog
{
    public const string Alias = "outsider-breaker-cluster";

    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public List<int[]> Asked { get; } = [];

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60, Namespace = "bc-many")]
    public partial Task<Dictionary<int, string>> ManyAsync(IReadOnlyList<int> ids, CancellationToken ct = default);

    private Task<Dictionary<int, string>> ManyAsyncCore(IReadOnlyList<int> ids, CancellationToken ct) => Task.FromResult(Batch(ids));

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60, Namespace = "bc-many-sync")]
    public partial Dictionary<int, string> Many(IReadOnlyList<int> ids);

    private Dictionary<int, string> ManyCore(IReadOnlyList<int> ids) => Batch(ids);

    private Dictionary<int, string> Batch(IReadOnlyList<int> ids)
    {
        Interlocked.Increment(ref _calls);
        lock (Asked)
        {
            Asked.Add([.. ids]);
        }

        return ids.ToDictionary(static i => i, static i => "m" + i);
    }
}

/// <summary>
/// An outside review of <see cref="BaseCache.CircuitBreakerDuration"/> on a real 3-primary Redis Cluster whose first
/// primary hangs: that primary announces (<c>cluster-announce-port</c>) a loopback proxy in front of it, so the client
/// reaches it only through the proxy, which holds what the client sends while the node keeps its data and its cluster
/// bus. The other primaries are reached directly and answer. Timeouts and the breaker run on a test clock;
/// <c>INFO commandstats</c> per node (read with redis-cli on the node's own port) counts what reached each primary.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed partial class OutsiderBreakerClusterReviewTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_open = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(20);
    private static readonly string[] s_data = ["get", "mget", "set", "eval", "evalsha", "pttl", "exists", "unlink", "del"];
    private static int s_tests;

    private RedisCluster _cluster = null!;
    private LoopbackProxy _proxy = null!;
    private FakeTimeProvider _time = null!;
    private RecordingLogs _logs = null!;
    private string _space = null!;
    private readonly List<IAsyncDisposable> _disposables = [];

    private RedisServer Hung => _cluster.Nodes[0];

    private RedisServer[] Healthy => [_cluster.Nodes[1], _cluster.Nodes[2]];

    /// <summary>The hung primary's proxy and the healthy primaries' own ports: the client never reaches the first directly.</summary>
    private string ConnectionString => $"{_proxy.ConnectionString},{Healthy[0].ConnectionString},{Healthy[1].ConnectionString}";

    [OneTimeSetUp]
    public void StartCluster()
    {
        _cluster = new RedisCluster();
        _proxy = new LoopbackProxy(Hung.Port);
        Cli(Hung, "config", "set", "cluster-announce-port", _proxy.Port.ToString(CultureInfo.InvariantCulture));
        var waited = Stopwatch.StartNew();
        while (!_cluster.Nodes.All(n => Cli(n, "cluster", "nodes").Contains($":{_proxy.Port}@", StringComparison.Ordinal)))
        {
            Assert.That(waited.Elapsed, Is.LessThan(s_limit), "every node learns the announced port by gossip");
            Thread.Sleep(50);
        }
    }

    [OneTimeTearDown]
    public void StopCluster()
    {
        _proxy.Dispose();
        _cluster.Dispose();
    }

    [SetUp]
    public void Start()
    {
        Caches.Reset();
        _space = $"bc{Interlocked.Increment(ref s_tests)}";
        _time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        CachedLogging.LoggerFactory = _logs = new RecordingLogs();
        foreach (var node in _cluster.Nodes)
        {
            Cli(node, "config", "resetstat");
        }
    }

    [TearDown]
    public async Task Stop()
    {
        CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
        Caches.Reset();
        _proxy.Release();
        await _disposables.DisposeAllAsync();
    }

    private RedisCache OnTestClock()
    {
        var cache = new RedisCache { ConnectionString = ConnectionString, Namespace = _space, Timeout = s_timeout, CircuitBreakerDuration = s_open, TimeProvider = _time };
        _disposables.Add(cache);
        return cache;
    }

    /// <summary>The first key <c>prefix{i}</c> whose stored key (under the test's namespace) lives on <paramref name="node"/>.</summary>
    private string KeyOn(RedisServer node, string prefix, string stored = "")
    {
        for (var i = 0; ; i++)
        {
            var key = prefix + i.ToString(CultureInfo.InvariantCulture);
            if (OwnerOf(_cluster.SlotOf($"{_space}:{key}{stored}")) == node)
            {
                return key;
            }
        }
    }

    /// <summary>The primary that owns <paramref name="slot"/>, from <c>CLUSTER SLOTS</c> (the hung one shows its proxy's port).</summary>
    private RedisServer OwnerOf(int slot)
    {
        var lines = Cli(Healthy[0], "cluster", "slots").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        for (var i = 0; i + 3 < lines.Length; i++)
        {
            if (int.TryParse(lines[i], CultureInfo.InvariantCulture, out var from) && int.TryParse(lines[i + 1], CultureInfo.InvariantCulture, out var to)
                && lines[i + 2] == "127.0.0.1" && int.TryParse(lines[i + 3], CultureInfo.InvariantCulture, out var port) && from <= slot && slot <= to)
            {
                return port == _proxy.Port ? Hung : _cluster.Nodes.Single(n => n.Port == port);
            }
        }

        throw new InvalidOperationException($"No node owns slot {slot}");
    }

    /// <summary>How many data commands (reads, writes, scripts) <paramref name="node"/> has run since the test began.</summary>
    private static long DataCalls(RedisServer node)
    {
        var stats = Cli(node, "info", "commandstats").Split('\n', StringSplitOptions.TrimEntries);
        return s_data.Sum(command => stats.FirstOrDefault(l => l.StartsWith($"cmdstat_{command}:calls=", StringComparison.Ordinal)) is { } line
            ? long.Parse(line[$"cmdstat_{command}:calls=".Length..line.IndexOf(',', StringComparison.Ordinal)], CultureInfo.InvariantCulture)
            : 0);
    }

    private long HealthyCalls() => Healthy.Sum(DataCalls);

    private int Logged(int eventId) => _logs.Ids.Count(id => id == eventId);

    /// <summary>Holds the first primary and opens the breaker with a read of one of its keys that times out.</summary>
    private async Task OpenOnTheHungPrimary(RedisCache cache, string hungKey)
    {
        _proxy.Hold();
        var opener = cache.GetAsync<string>(hungKey);
        Assert.That(opener.IsCompleted, Is.False, "sent to the held primary");
        _time.Advance(s_timeout);
        Assert.ThrowsAsync<TimeoutException>(async () => await opener);
        await Task.Yield();
    }

    [Test]
    public async Task One_hung_primary_opens_it_for_keys_on_every_primary_and_a_probe_after_the_node_answers_closes_it()
    {
        // docs/resilience.md: "The breaker is per cache instance" and "While it is open, every command of that cache ...
        // fails at once without reaching the backend": on a cluster, the keys of the primaries that answer too.
        var cache = OnTestClock();
        var (hung, healthy) = (KeyOn(Hung, "h"), KeyOn(Healthy[0], "g"));
        await cache.SetAsync(hung, "H");
        await cache.SetAsync(healthy, "G");

        _proxy.Hold();
        var opener = cache.GetAsync<string>(hung);
        Assert.That(await cache.GetAsync<string>(healthy), Is.EqualTo("G"), "before it opens, the other primaries answer");
        Assert.That(opener.IsCompleted, Is.False);
        _time.Advance(s_timeout);
        Assert.ThrowsAsync<TimeoutException>(async () => await opener);
        Assert.That(Logged(14), Is.EqualTo(1));

        var before = HealthyCalls();
        RefusedAtOnce(cache.GetAsync<string>(healthy));
        RefusedAtOnce(cache.SetAsync(healthy, "G2"));
        Assert.That(Assert.Throws<CacheBackendException>(() => cache.Get<string>(healthy))!.CircuitOpen, Is.True, "a sync caller too");
        Assert.That(HealthyCalls(), Is.EqualTo(before), "no command reached a healthy primary while it was open");

        _proxy.Release();
        _time.Advance(s_open);
        Assert.That(await cache.GetAsync<string>(hung), Is.EqualTo("H"), "the probe: the node answers again");
        Assert.That(await cache.GetAsync<string>(healthy), Is.EqualTo("G"), "closed: the refused write never landed");
        Assert.That((Logged(14), Logged(15)), Is.EqualTo((1, 1)));
    }

    [Test]
    public async Task A_two_level_node_keeps_the_L2_writes_of_every_primary_while_it_is_open_and_they_land_once_the_node_answers()
    {
        var l2 = OnTestClock();
        var node = new MultiLevelCache(new SimpleMemoryCache(), l2);
        _disposables.Add(node);
        var (hung, healthy, other) = (KeyOn(Hung, "h"), KeyOn(Healthy[0], "g"), KeyOn(Healthy[1], "o"));
        await node.SetAsync(hung, "1");
        await OpenOnTheHungPrimary(l2, hung);
        var before = HealthyCalls();

        var writes = new[] { node.SetAsync(hung, "2"), node.SetAsync(healthy, "3"), node.SetAsync(other, "4") };
        Assert.That(writes.All(static w => w.IsCompleted), Is.True, "refused on L2 at once, kept");
        foreach (var write in writes)
        {
            await write;
        }

        Assert.That(node.PendingWriteCount, Is.EqualTo(3));
        Assert.That((await node.GetAsync<string>(hung), await node.GetAsync<string>(healthy), await node.GetAsync<string>(other)), Is.EqualTo(("2", "3", "4")), "L1 answers meanwhile");
        Assert.That(HealthyCalls(), Is.EqualTo(before), "nothing reached the healthy primaries while it was open");

        _proxy.Release();
        _time.Advance(s_open);
        await using var direct = new RedisCache { ConnectionString = ConnectionString, Namespace = _space };
        var waited = Stopwatch.StartNew();
        while ((await direct.GetAsync<string>(hung), await direct.GetAsync<string>(healthy), await direct.GetAsync<string>(other)) != ("2", "3", "4") || node.PendingWriteCount > 0)
        {
            Assert.That(waited.Elapsed, Is.LessThan(s_limit), "every kept write lands, on every primary");
            await Task.Delay(20);
        }

        Assert.That(node.PendingWriteCount, Is.EqualTo(0), "a retried write stops counting once it is published");
        Assert.That(Logged(15), Is.EqualTo(1));
    }

    [Test]
    public async Task On_two_levels_a_stale_L1_copy_of_a_healthy_primary_s_key_is_the_last_value_while_it_is_open_and_a_kept_delete_lands()
    {
        // docs/resilience.md: "Fail-safe has no last value to serve then ...; on two levels a stale copy in L1 still is
        // one." The key lives on a primary that answers; the breaker, opened by another primary, refuses it anyway.
        var l2 = OnTestClock();
        var node = new MultiLevelCache(new SimpleMemoryCache { TimeProvider = _time }, l2);
        _disposables.Add(node);
        var (hung, healthy, gone) = (KeyOn(Hung, "h"), KeyOn(Healthy[0], "g"), KeyOn(Healthy[1], "d"));
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), FailSafe = TimeSpan.FromHours(1) };
        Assert.That(await node.GetOrSetAsync(healthy, static _ => ValueTask.FromResult("old"), options), Is.EqualTo("old"));
        await node.SetAsync(gone, "x");
        _time.Advance(TimeSpan.FromMinutes(2));
        await OpenOnTheHungPrimary(l2, hung);

        var stale = node.GetOrSetAsync<string>(healthy, static _ => throw new InvalidOperationException("source down"), options);
        Assert.That(stale.IsCompleted, Is.True, "no wait: L2 refused at once");
        Assert.That(await stale, Is.EqualTo("old"), "the stale L1 copy is the last value");
        Assert.That(() => l2.GetOrSet<string>(healthy, static _ => throw new InvalidOperationException("source down"), options), Throws.InstanceOf<InvalidOperationException>(), "one level: no last value while refused");

        await node.DeleteAsync(gone);
        Assert.That(node.PendingWriteCount, Is.EqualTo(1), "the refused delete is kept");
        Assert.That(await node.GetAsync<string>(gone), Is.Null, "read as a miss until it lands");

        _proxy.Release();
        // The breaker waits one more duration for a probe on the primary that hung (docs/resilience.md): no command goes
        // there, so after it the kept delete, on a healthy primary, is the probe.
        _time.Advance(s_open);
        _time.Advance(s_open);
        await using var direct = new RedisCache { ConnectionString = ConnectionString, Namespace = _space };
        var waited = Stopwatch.StartNew();
        while (await direct.ExistsAsync(gone) || node.PendingWriteCount > 0)
        {
            Assert.That(waited.Elapsed, Is.LessThan(s_limit), "the kept delete lands on its healthy primary once the breaker closes");
            await Task.Delay(20);
        }

        Assert.That(node.PendingWriteCount, Is.EqualTo(0), "a retried write stops counting once it is published");
    }

    [Test]
    public async Task A_two_level_clear_refused_while_it_is_open_is_kept_and_clears_every_primary_once_it_closes()
    {
        var l2 = OnTestClock();
        var node = new MultiLevelCache(new SimpleMemoryCache(), l2);
        _disposables.Add(node);
        string[] keys = [KeyOn(Hung, "h"), KeyOn(Healthy[0], "g"), KeyOn(Healthy[1], "o")];
        foreach (var key in keys)
        {
            await node.SetAsync(key, "v");
        }

        await OpenOnTheHungPrimary(l2, KeyOn(Hung, "x"));
        var clear = node.ClearAsync();
        Assert.That(clear.IsCompleted, Is.True, "refused on L2 at once, kept");
        await clear;
        Assert.That(await node.GetAsync<string>(keys[1]), Is.Null, "the namespace reads as a miss until the clear lands");

        _proxy.Release();
        // A clear reaches every primary, so it is no probe of the one that hung until one more duration has passed
        // (docs/resilience.md): no command goes there, so after it the kept clear is the probe.
        _time.Advance(s_open);
        _time.Advance(s_open);
        await using var direct = new RedisCache { ConnectionString = ConnectionString, Namespace = _space };
        var waited = Stopwatch.StartNew();
        while ((await direct.MultiGetAsync<string>(keys)).Any(static v => v is not null) || node.PendingWriteCount > 0)
        {
            Assert.That(waited.Elapsed, Is.LessThan(s_limit), "the kept clear reaches every primary");
            await Task.Delay(20);
        }

        Assert.That(node.PendingWriteCount, Is.EqualTo(0), "a retried write stops counting once it is published");
    }

    [Test]
    public async Task A_lock_held_on_a_healthy_primary_is_released_while_it_is_open()
    {
        // docs/resilience.md: a lock's release is still sent while the breaker is open, as its holder cannot try it
        // again. Refused, it left the lock on its primary, which answers, for its whole lease: every other process
        // waited that long (the outside review's case, before the change).
        var cache = OnTestClock();
        var other = new RedisCache { ConnectionString = ConnectionString, Namespace = _space };
        _disposables.Add(other);
        var hung = KeyOn(Hung, "h");
        var job = KeyOn(Healthy[0], "job", "-lock");
        var held = await RedLock.AcquireAsync(cache, job, TimeSpan.FromMinutes(10));
        Assert.That(held.IsAcquired, Is.True);
        await OpenOnTheHungPrimary(cache, hung);

        await held.DisposeAsync();

        Assert.Multiple(() =>
        {
            Assert.That(Cli(Healthy[0], "exists", $"{_space}:{job}-lock").Trim(), Is.EqualTo("0"), "released on its primary, which answers");
            Assert.That(RedLock.AcquireAsync(other, job, TimeSpan.FromMinutes(1)).AsTask().GetAwaiter().GetResult().IsAcquired, Is.True, "another process takes it at once");
            Assert.That(() => cache.Get<string>(hung), Throws.InstanceOf<CacheBackendException>().With.Property(nameof(CacheBackendException.CircuitOpen)).True, "the release did not close the breaker");
            Assert.That(Logged(15), Is.EqualTo(0));
        });
    }

    [Test]
    public async Task A_MultiCached_batch_over_every_primary_runs_its_body_at_once_while_it_is_open_and_fills_once_a_probe_closes_it([Values] bool async)
    {
        var cache = OnTestClock();
        Caches.AddInstance(BreakerClusterCatalog.Alias, cache);
        var catalog = new BreakerClusterCatalog();
        int[] ids = [.. Enumerable.Range(1, 24)];
        await OpenOnTheHungPrimary(cache, KeyOn(Hung, "h"));
        var before = HealthyCalls();

        if (async)
        {
            var batch = catalog.ManyAsync(ids);
            Assert.That(batch.IsCompleted, Is.True, "no wait on the hung primary");
            Assert.That((await batch).Values, Is.EqualTo(ids.Select(static i => "m" + i)));
        }
        else
        {
            Assert.That(catalog.Many(ids).Values, Is.EqualTo(ids.Select(static i => "m" + i)));
        }

        Assert.That(catalog.Asked.Single(), Is.EqualTo(ids), "one body call for the whole batch");
        Assert.That(HealthyCalls(), Is.EqualTo(before), "no read or write of the batch reached a healthy primary");

        _proxy.Release();
        _time.Advance(s_open);
        Assert.That(await cache.GetAsync<string>("probe"), Is.Null, "the probe closes it");
        var filled = async ? await catalog.ManyAsync(ids) : catalog.Many(ids);
        Assert.That(catalog.Calls, Is.EqualTo(2), "a miss: the refused writes were skipped");
        var hit = async ? await catalog.ManyAsync(ids) : catalog.Many(ids);
        Assert.That((hit, catalog.Calls), Is.EqualTo((filled, 2)), "a hit from every primary");
    }

    [Test]
    public async Task A_probe_batch_over_every_primary_that_its_caller_cancels_neither_closes_nor_reopens_it()
    {
        var cache = OnTestClock();
        Caches.AddInstance(BreakerClusterCatalog.Alias, cache);
        var catalog = new BreakerClusterCatalog();
        int[] ids = [.. Enumerable.Range(1, 24)];
        await OpenOnTheHungPrimary(cache, KeyOn(Hung, "h"));
        _time.Advance(s_open);

        using var cancel = new CancellationTokenSource();
        var probe = catalog.ManyAsync(ids, cancel.Token);
        Assert.That(probe.IsCompleted, Is.False, "the batch's read is the probe, held on the hung primary");
        var refusal = RefusedAtOnce(cache.GetAsync<string>(KeyOn(Healthy[0], "g")));
        await cancel.CancelAsync();
        Assert.That(async () => await probe, Throws.InstanceOf<OperationCanceledException>());

        Assert.That(Logged(15), Is.EqualTo(0), "the caller's cancellation is no answer");
        RefusedAtOnce(cache.GetAsync<string>(KeyOn(Healthy[1], "o")));
        Assert.That(refusal.InnerException, Is.InstanceOf<TimeoutException>());

        _time.Advance(s_open);
        var next = cache.GetAsync<string>(KeyOn(Hung, "h"));
        Assert.That(next.IsCompleted, Is.False, "after one more duration, another probe goes to the hung primary");
        _time.Advance(s_timeout);
        Assert.That(async () => await next, Throws.InstanceOf<TimeoutException>());
        RefusedAtOnce(cache.GetAsync<string>(KeyOn(Healthy[0], "g")));
        Assert.That((Logged(14), Logged(15)), Is.EqualTo((1, 0)), "the failed probe reopened it without another event 14");

        _proxy.Release();
        _time.Advance(s_open);
        Assert.That((await catalog.ManyAsync(ids)).Count, Is.EqualTo(ids.Length));
        Assert.That(Logged(15), Is.EqualTo(1));
    }

    private static string Cli(RedisServer node, params string[] arguments)
    {
        var start = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-p", node.Port.ToString(CultureInfo.InvariantCulture) }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return output;
    }
}
