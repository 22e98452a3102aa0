using System.Collections.Concurrent;
using System.Diagnostics;
using Cached.Redis.Tests.Infrastructure;
using Cached.Serializers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// An outside review of docs/multilevel.md, docs/tags.md and docs/observability.md against a real redis-server (the
/// assembly's shared one, loopback): each test checks one claim, quoted above it, through the public API, where no
/// neighbouring test checks it directly.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderDocsClaimsRedisReviewTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(15);
    private readonly List<IAsyncDisposable> _disposables = [];
    private ClaimLogs _logs = null!;
    private ConnectionMultiplexer? _admin;

    [SetUp]
    public async Task SetUp()
    {
        _logs = new ClaimLogs();
        CachedLogging.LoggerFactory = _logs;
        _admin = await ConnectionMultiplexer.ConnectAsync(SharedRedis.Server.ConnectionString + ",allowAdmin=true");
    }

    [TearDown]
    public async Task TearDown()
    {
        await _disposables.DisposeAllAsync();
        if (_admin is not null)
        {
            await _admin.DisposeAsync();
        }

        CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
    }

    private static string Space() => "docsclaims" + Guid.NewGuid().ToString("N")[..8];

    private MultiLevelCache Node(string @namespace, string? backplaneConnection = null)
    {
        var connection = SharedRedis.Server.ConnectionString;
        var node = new MultiLevelCache(
            new SimpleMemoryCache(),
            new RedisCache { ConnectionString = connection + ",abortConnect=false", Namespace = @namespace, Timeout = TimeSpan.FromSeconds(2) },
            new RedisBackplane((backplaneConnection ?? connection) + ",abortConnect=false"));
        _disposables.Add(node);
        return node;
    }

    private RedisCache Plain(string @namespace)
    {
        var cache = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString, Namespace = @namespace };
        _disposables.Add(cache);
        return cache;
    }

    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.That(waited.Elapsed, Is.LessThan(s_limit), what);
            await Task.Delay(10);
        }
    }

    /// <summary>Returns once <paramref name="listener"/>'s L1 takes copies and hears <paramref name="writer"/>'s writes.</summary>
    private static async Task Joined(MultiLevelCache writer, MultiLevelCache listener)
    {
        var probe = "probe-" + Guid.NewGuid().ToString("N")[..6];
        await Eventually(
            async () =>
            {
                await writer.SetAsync(probe, 1);
                await listener.GetAsync<int>(probe);
                if (!listener.IsInL1(probe))
                {
                    return false;
                }

                await writer.SetAsync(probe, 2);
                var heard = Stopwatch.StartNew();
                while (heard.Elapsed < TimeSpan.FromSeconds(1))
                {
                    if (!listener.IsInL1(probe))
                    {
                        return true;
                    }

                    await Task.Delay(5);
                }

                return false;
            },
            "the listener's subscription is live");
    }

    // =================================================================================================================
    // docs/multilevel.md
    // =================================================================================================================

    // docs/multilevel.md, The backplane, Its own connection or yours: "`new RedisBackplane(multiplexer)` uses yours, with
    // your settings, and leaves it open." (and: "disposing it disposes both levels and the backplane").
    [Test]
    public async Task A_backplane_whose_first_connection_comes_late_logs_no_restoration_of_what_it_never_lost()
    {
        // The client reports a connection it makes for the first time after the backplane attached its handlers (a
        // server that answers only later) as restored. Nothing was lost: "restored" (42) is logged only after "lost" (41).
        using var server = new RedisServer();
        server.Stop();
        var space = "late" + Guid.NewGuid().ToString("N")[..8];
        var node = new MultiLevelCache(
            new SimpleMemoryCache(),
            new RedisCache { ConnectionString = server.ConnectionString + ",abortConnect=false", Namespace = space, Timeout = TimeSpan.FromSeconds(2) },
            new RedisBackplane(server.ConnectionString + ",abortConnect=false"));
        _disposables.Add(node);
        await node.SetAsync("k", "v"); // subscribes, or defers it until the connection comes
        server.Start();

        await Eventually(async () =>
        {
            try
            {
                return await node.L2.GetAsync<string>("k") is not null || await node.L2.SetAsync("k", "v");
            }
            catch (CacheBackendException)
            {
                return false;
            }
        }, "the server answers");
        await Task.Delay(500); // the client's subscription connection follows its interactive one

        var ids = _logs.Entries.Select(static e => e.Id).ToArray();
        Assert.That(ids.Contains(42), Is.EqualTo(ids.Contains(41)), $"restored only after lost; logged: {string.Join(", ", ids)}");
    }

    [Test]
    public async Task A_backplane_on_your_multiplexer_leaves_it_open_when_the_cache_and_the_backplane_are_disposed()
    {
        var mine = await ConnectionMultiplexer.ConnectAsync(SharedRedis.Server.ConnectionString);
        try
        {
            var backplane = new RedisBackplane(mine);
            Assert.That(backplane.Connection, Is.SameAs(mine));
            var cache = new MultiLevelCache(new SimpleMemoryCache(), new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString, Namespace = Space() }, backplane);
            await cache.SetAsync("k", 1);
            await cache.DisposeAsync();

            Assert.That(mine.IsConnected, Is.True);
            Assert.That(await mine.GetDatabase().PingAsync(), Is.LessThan(TimeSpan.FromSeconds(5)), "still usable");
        }
        finally
        {
            await mine.DisposeAsync();
        }
    }

    // docs/multilevel.md, What L1 holds: "a read as another type than the one written answers as L1's store does (a
    // stored `int` read as a `double` fails there, where L2's JSON reads `5.0`)".
    [Test]
    public async Task An_int_read_as_a_double_fails_on_the_node_holding_the_copy_and_reads_5_0_on_another()
    {
        var space = Space();
        var (a, b) = (Node(space), Node(space));
        await Joined(a, b);
        await a.SetAsync("n", 5);
        Assert.That(a.IsInL1("n"), Is.True);

        Assert.That(await b.GetAsync<double>("n"), Is.EqualTo(5.0), "L2's JSON reads 5.0");
        Assert.That(async () => await a.GetAsync<double>("n"), Throws.Exception, "the node holding the int fails");
    }

    // docs/multilevel.md: "`Namespace`, `Serializer`, `Timeout` and `Ttl` are L2's; a per-call serializer applies to L2's
    // bytes." and What L1 holds: "a per-call serializer shapes L2's bytes, not L1's copy".
    [Test]
    public async Task A_per_call_serializer_shapes_L2_s_bytes_and_L1_keeps_the_value()
    {
        var space = Space();
        var node = Node(space);
        await Joined(node, Node(space));

        await node.SetAsync("k", "plain", serializer: new StringSerializer());

        var raw = await _admin!.GetDatabase().StringGetAsync(space + ":k");
        Assert.That(raw.ToString(), Is.EqualTo("plain"), "StringSerializer's bytes, not JSON's \"plain\"");
        Assert.That(node.IsInL1("k"), Is.True);
        Assert.That(await node.GetAsync<string>("k"), Is.EqualTo("plain"));
    }

    // docs/observability.md, event ids: "`RedisBackplane`: ... the connection lost (41) and restored (42, information)";
    // docs/multilevel.md, The backplane: "When the backplane's connection comes back ... it tells every cache that
    // messages may have been lost, and each **empties its L1**" and Watching it: "L1 emptied after lost messages
    // (information), ... the backplane's connection lost and restored."
    [Test]
    public async Task A_killed_backplane_connection_is_logged_lost_and_restored_and_L1_emptied_is_logged_as_information()
    {
        var space = Space();
        var name = "docsclaims-bp-" + Guid.NewGuid().ToString("N")[..6];
        var a = Node(space);
        var b = Node(space, SharedRedis.Server.ConnectionString + ",name=" + name);
        await Joined(a, b);
        // Straight into Redis: a's own write would publish a message that, arriving after b's read, drops b's copy.
        await a.L2.SetAsync("kept", 1);
        await b.GetAsync<int>("kept");
        Assert.That(b.IsInL1("kept"), Is.True);

        var server = _admin!.GetServer(SharedRedis.Server.ConnectionString);
        var killed = 0;
        foreach (var client in await server.ClientListAsync())
        {
            if (client.Name == name)
            {
                await server.ExecuteAsync("CLIENT", "KILL", "ID", client.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                killed++;
            }
        }

        Assert.That(killed, Is.GreaterThan(0), "the backplane's connections are found by name");
        await Eventually(() => Task.FromResult(_logs.Entries.Any(static e => e.Id == 42)), "restored is logged");
        await Eventually(() => Task.FromResult(!b.IsInL1("kept")), "L1 emptied");
        await Eventually(() => Task.FromResult(_logs.Entries.Any(static e => e.Id == 23)), "L1 emptied is logged");

        var entries = _logs.Entries;
        Assert.Multiple(() =>
        {
            Assert.That(entries.Where(static e => e.Id == 41).Select(static e => e.Level), Is.Not.Empty.And.All.EqualTo(LogLevel.Warning), "lost (41), a warning");
            Assert.That(entries.Where(static e => e.Id == 42).Select(static e => e.Level), Is.All.EqualTo(LogLevel.Information), "restored (42), information");
            Assert.That(entries.Where(static e => e.Id == 23).Select(static e => e.Level), Is.All.EqualTo(LogLevel.Information), "L1 emptied (23), information");
            Assert.That(entries.Where(static e => e.Id is 41 or 42 or 23).Select(static e => e.Category), Is.All.EqualTo("Cached"));
        });
    }

    // docs/observability.md, event ids: "`RedisBackplane`: a subscription deferred until the connection comes (40)";
    // docs/multilevel.md, Subscribing: "While no Redis server is connected at all, the subscription is left to the
    // client, which makes it when one answers ...: the first read does not wait for it."
    [Test]
    public async Task With_no_server_the_subscription_is_deferred_and_logged_as_40_and_the_first_read_does_not_wait()
    {
        using var closed = PortReservation.Take();
        var backplane = new RedisBackplane($"127.0.0.1:{closed.Port},abortConnect=false,connectTimeout=200");
        var node = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache(), backplane);
        _disposables.Add(node);
        node.L2.Set("k", "v");

        var reading = Stopwatch.StartNew();
        Assert.That(await node.GetAsync<string>("k"), Is.EqualTo("v"));
        Assert.That(reading.Elapsed, Is.LessThan(TimeSpan.FromSeconds(1)), "the first read does not wait for the subscription");
        await Eventually(() => Task.FromResult(_logs.Entries.Any(static e => e.Id == 40)), "the deferred subscription is logged");
        Assert.That(_logs.Entries.First(static e => e.Id == 40).Level, Is.EqualTo(LogLevel.Warning));
    }

    // docs/multilevel.md, The backplane: "Only what goes through a `MultiLevelCache` is published. A write or a tag
    // invalidation made on a plain `RedisCache` ... over the same keys reaches no node's L1"; docs/tags.md: "an
    // invalidation made on a plain `RedisCache` reaches the entries in Redis only".
    [Test]
    public async Task A_tag_invalidation_on_a_plain_RedisCache_reaches_Redis_but_no_node_s_L1()
    {
        var space = Space();
        var (a, b) = (Node(space), Node(space));
        await Joined(b, a);
        var tagged = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), Tags = ["t"] };
        await a.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), tagged);
        Assert.That(a.IsInL1("k"), Is.True);
        var plain = Plain(space);

        await plain.InvalidateTagsAsync(["t"]);

        Assert.That(await plain.GetAsync<string>("k"), Is.Null, "Redis: a miss");
        await Task.Delay(200);
        Assert.That(await a.GetAsync<string>("k"), Is.EqualTo("v1"), "a's L1 copy was not told");
    }

    // docs/multilevel.md, When L2 or the backplane is down: "A write with tags (`CacheEntryOptions.Tags`) fails as L2
    // does too: the tag records it is stamped with live in L2, so it fails with that `CacheBackendException`
    // (`Unreachable` true) and leaves L1 as it was." Here L2's connection is cut (a proxy), the backplane's is not.
    [Test]
    public async Task A_tagged_write_while_Redis_is_unreachable_throws_unreachable_and_leaves_L1_as_it_was([Values] bool async)
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var space = Space();
        var node = new MultiLevelCache(
            new SimpleMemoryCache(),
            new RedisCache { ConnectionString = proxy.ConnectionString + ",abortConnect=false,connectTimeout=500", Namespace = space, Timeout = TimeSpan.FromSeconds(1) },
            new RedisBackplane(SharedRedis.Server.ConnectionString + ",abortConnect=false"));
        _disposables.Add(node);
        await Joined(node, Node(space));
        var tagged = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), Tags = ["t"] };
        await node.SetAsync("k", "old", tagged);
        Assert.That(node.IsInL1("k"), Is.True);
        proxy.Cut();

        Exception? thrown = null;
        var result = false;
        try
        {
            result = async ? await node.SetAsync("k", "new", tagged) : node.Set("k", "new", tagged);
        }
        catch (Exception ex)
        {
            thrown = ex;
        }

        Assert.That(thrown, Is.InstanceOf<CacheBackendException>(), $"the write returned {result} with {node.PendingWriteCount} kept");
        Assert.That(((CacheBackendException)thrown!).Unreachable, Is.True);
        Assert.That(await node.GetAsync<string>("k"), Is.EqualTo("old"), "L1 as it was");
        proxy.Restore();
    }

    // =================================================================================================================
    // docs/tags.md
    // =================================================================================================================

    // docs/tags.md, Bounded tag data: "Entries without expiry keep their tags' records without expiry, as they keep
    // themselves." and "On Redis this is one script per tag, which never shortens a record's life".
    [Test]
    public async Task Entries_without_expiry_keep_their_tag_records_without_expiry_also_after_an_invalidation()
    {
        var space = Space();
        var cache = Plain(space);
        var db = _admin!.GetDatabase();
        var record = space + ":__cached:tag:forever";

        await cache.SetAsync("a", 1, new CacheEntryOptions { Tags = ["forever"] });
        var first = await db.KeyTimeToLiveAsync(record);
        await cache.SetAsync("b", 1, new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(30), Tags = ["forever"] });
        var afterShorter = await db.KeyTimeToLiveAsync(record);
        await cache.InvalidateTagsAsync(["forever"]);
        await cache.SetAsync("c", 1, new CacheEntryOptions { Tags = ["forever"] });
        var afterInvalidation = await db.KeyTimeToLiveAsync(record);
        var exists = await db.KeyExistsAsync(record);

        Assert.Multiple(() =>
        {
            Assert.That(exists, Is.True);
            Assert.That(first, Is.Null, "no expiry for an entry without expiry");
            Assert.That(afterShorter, Is.Null, "never shortened by a shorter-lived entry");
            Assert.That(afterInvalidation, Is.Null, "an entry without expiry written after an invalidation keeps the new record without expiry");
        });
        Assert.That(await cache.GetAsync<int>("c"), Is.EqualTo(1));
        Assert.That(await cache.GetAsync<int?>("a"), Is.Null);
    }

    // docs/tags.md, What an invalidation guarantees: "once `InvalidateTags` returns, every read that starts afterwards,
    // plain (`Get`, `TryGet`, `MultiGet`) or read-through (`GetOrSet`, generated methods), misses every entry that
    // carried one of the tags" — here on two levels with Redis behind, on the node that did not invalidate, for each
    // plain read shape, once its backplane delivered ("as soon as its backplane delivers the message").
    [Test]
    public async Task Every_plain_read_shape_on_another_node_misses_once_the_invalidation_arrived()
    {
        var space = Space();
        var (a, b) = (Node(space), Node(space));
        await Joined(b, a);
        var tagged = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), Tags = ["grp"] };
        await a.SetAsync("k1", "v1", tagged);
        await a.SetAsync("k2", "v2", tagged);
        await a.SetAsync("free", "f");
        Assert.That(await a.MultiGetAsync<string>(["k1", "k2", "free"]), Is.EqualTo(new[] { "v1", "v2", "f" }));

        await b.InvalidateTagsAsync(["grp"]);

        await Eventually(async () => await a.GetAsync<string>("k1") is null, "a's Get misses");
        Assert.That((await a.TryGetAsync<string>("k2")).Found, Is.False, "TryGet misses");
        Assert.That(await a.MultiGetAsync<string>(["k1", "k2", "free"]), Is.EqualTo(new[] { null, null, "f" }), "MultiGet misses both, keeps the untagged");
        Assert.That(a.MultiTryGet<string>(["k1", "k2"]).Select(static r => r.Found), Is.All.False, "MultiTryGet misses both");
    }

    // docs/tags.md, What an invalidation guarantees, Concurrent callers: "A computation begun before an invalidation
    // made by *another* process sharing a Redis cache without a backplane is not stored (the tag's record moved, see
    // *Writes* below): its own caller gets its value, and the callers who joined it compute anew, once." (The page said
    // the joiners got that computation's value, contradicting its own Writes section; this test found the code doing
    // what Writes says, and the sentence was corrected.)
    [Test]
    public async Task A_joiner_of_a_computation_overtaken_by_another_process_s_invalidation_computes_anew_once()
    {
        var space = Space();
        var a = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString + ",name=docsclaims-a", Namespace = space };
        var b = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString + ",name=docsclaims-b", Namespace = space };
        _disposables.Add(a);
        _disposables.Add(b);
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), Tags = ["t"] };
        await b.GetOrSetAsync("other", _ => new ValueTask<int>(1), options); // the tag has a record
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        async ValueTask<string> Factory(CancellationToken _)
        {
            var call = Interlocked.Increment(ref calls);
            if (call == 1)
            {
                started.TrySetResult();
                await gate.Task;
            }

            return "v" + call;
        }

        var first = a.GetOrSetAsync("k", Factory, options).AsTask();
        await started.Task.WaitAsync(s_limit);
        await b.InvalidateTagsAsync(["t"]);
        var second = a.GetOrSetAsync("k", Factory, options).AsTask();
        gate.SetResult();

        Assert.That(await first.WaitAsync(s_limit), Is.EqualTo("v1"));
        Assert.That(await second.WaitAsync(s_limit), Is.EqualTo("v2"), "the joiner computes anew");
        Assert.That(calls, Is.EqualTo(2), "once");
        Assert.That(await a.GetAsync<string>("k"), Is.EqualTo("v2"), "the value computed after the invalidation is stored");
    }

    private sealed record ClaimLog(string Category, LogLevel Level, int Id, string Message);

    private sealed class ClaimLogs : ILoggerFactory
    {
        private readonly ConcurrentQueue<ClaimLog> _entries = new();

        public IReadOnlyList<ClaimLog> Entries => _entries.ToArray();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<ClaimLog> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
                => entries.Enqueue(new ClaimLog(category, logLevel, eventId.Id, formatter(state, exception)));
        }
    }
}
