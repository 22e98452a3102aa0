using System.Diagnostics;
using Cached.Redis.Tests.Infrastructure;
using Cached.Runtime;
using StackExchange.Redis;
using StackExchange.Redis.Profiling;

namespace Cached.Redis.Tests;

/// <summary>
/// A cached method's miss on two levels over a real redis-server, sync and async: L2's read opens the key's fill in the same round
/// trip when the key is missing, so a miss sends two commands (the read, the fill) instead of the read, the open and the
/// fill. The fence that read opened is the one the fill checks: a write that comes after the read still wins, and a
/// caller that waits for the leader, or a leader that stores nothing, leaves that fence to the caller that fills. On a standalone
/// server and on a cluster; races are forced with gates inside the body.
/// </summary>
[TestFixture(false)]
[TestFixture(true)]
[NonParallelizable]
public sealed class MultiLevelFillTests(bool cluster)
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(15);
    private readonly List<IAsyncDisposable> _disposables = [];
    private ConnectionMultiplexer _direct = null!;
    private string _space = null!;

    private string ConnectionString => cluster ? SharedRedis.Cluster.ConnectionString : SharedRedis.Server.ConnectionString;

    [SetUp]
    public void Connect()
    {
        _direct = ConnectionMultiplexer.Connect(ConnectionString);
        _space = "mlf" + Guid.NewGuid().ToString("N")[..8];
    }

    [TearDown]
    public async Task DisposeAll()
    {
        foreach (var disposable in Enumerable.Reverse(_disposables))
        {
            await disposable.DisposeAsync();
        }

        _disposables.Clear();
        _direct.Dispose();
    }

    /// <summary>A node, as a process of its own would have it: its L1, its connection to L2 (given, so that a test can profile it), its backplane.</summary>
    private MultiLevelCache Node(IConnectionMultiplexer connection, Cached.Plugins.CachePlugin? plugin = null)
    {
        var node = new MultiLevelCache(
            new SimpleMemoryCache(),
            new RedisCache { Connection = connection, Namespace = _space, Plugins = plugin is null ? [] : [plugin] },
            new RedisBackplane(ConnectionString + ",name=cached-backplane"));
        _disposables.Add(node);
        return node;
    }

    private ConnectionMultiplexer Connection(string name)
    {
        var connection = ConnectionMultiplexer.Connect(ConnectionString + ",name=" + name);
        _disposables.Add(connection);
        return connection;
    }

    private static CachedMethod<string> MethodOn(ICache cache) => new(new CachedMethodOptions { Method = "Tests.Users.Get", CacheFactory = () => cache, Ttl = 600 });

    private static async Task<string> Gated(TaskCompletionSource started, TaskCompletionSource release, string value, CancellationToken cancellationToken)
    {
        started.TrySetResult();
        await release.Task.WaitAsync(s_limit, cancellationToken);
        return value;
    }

    /// <summary>What Redis holds for <paramref name="key"/>, read by a cache of its own: null when nothing is stored.</summary>
    private async Task<string?> StoredAsync(string key)
    {
        using var reader = new RedisCache { Connection = _direct, Namespace = _space };
        return await reader.GetAsync<string>(key);
    }

    private async Task<int> FenceCountAsync()
    {
        var count = 0;
        foreach (var server in _direct.GetServers().Where(static s => !s.IsReplica))
        {
            await foreach (var _ in server.KeysAsync(pattern: _space + ":*__cached:fence*")) // a fence or its count of open fills
            {
                count++;
            }
        }

        return count;
    }

    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.That(waited.Elapsed, Is.LessThan(s_limit), what);
            await Task.Delay(5);
        }
    }

    /// <summary>A call of <paramref name="method"/> whose body returns <paramref name="value"/>, sync or async.</summary>
    private static async Task<string> CallAsync(CachedMethod<string> method, string key, string value, bool sync)
        => sync
            ? await Task.Run(() => method.Invoke(key, value, static v => v))
            : await method.InvokeAsync(key, value, static (v, _) => new ValueTask<string>(v), null, CancellationToken.None);

    [Test]
    public async Task A_miss_sends_its_read_with_the_fill_s_open_and_then_its_fill_two_commands_in_all([Values] bool sync)
    {
        var connection = Connection("profiled");
        var method = MethodOn(Node(connection));

        // The first miss of a new cache reads and opens separately: the server is not yet known to run scripts.
        Assert.That(await CallAsync(method, "first", "one", sync), Is.EqualTo("one"));
        Assert.That(await StoredAsync("first"), Is.EqualTo("one"), "the first miss stored through the fill it opened after its read");

        var session = new ProfilingSession();
        connection.RegisterProfiler(() => session);
        Assert.That(await CallAsync(method, "k", "v", sync), Is.EqualTo("v"));
        // The profiler names a script EVAL whether it went as EVALSHA or EVAL.
        var sent = session.FinishProfiling().Select(static command => command.Command == "EVALSHA" ? "EVAL" : command.Command).ToArray();

        Assert.That(sent, Is.EqualTo(new[] { "EVAL", "EVAL" }), "the read that opens the fill, then the fill: no separate GET, PTTL or open");
        Assert.That(await StoredAsync("k"), Is.EqualTo("v"));
        Assert.That(await FenceCountAsync(), Is.Zero, "the stored fill removed the fence its read opened");
    }

    [Test]
    public async Task A_write_from_another_node_after_the_read_keeps_the_fill_from_storing()
    {
        var method = MethodOn(Node(Connection("a")));
        var other = Node(Connection("b"));
        await method.InvokeAsync("warm", 0, static (_, _) => new ValueTask<string>("w"), null, CancellationToken.None);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var leader = method.InvokeAsync("k", (started, release), static (g, ct) => new ValueTask<string>(Gated(g.started, g.release, "old", ct)), null, CancellationToken.None).AsTask();
        await started.Task.WaitAsync(s_limit);
        await other.SetAsync("k", "newer");
        release.SetResult();

        Assert.That(await leader.WaitAsync(s_limit), Is.EqualTo("newer"), "the caller answers with the value that stands");
        Assert.That(await StoredAsync("k"), Is.EqualTo("newer"), "the other node's write stands in Redis");
    }

    [Test]
    public async Task A_caller_that_waits_for_the_leader_leaves_the_fence_the_leader_fills_through()
    {
        // Both reads open the same fence and get its token. The waiter's ticket is closed without releasing the fence:
        // released, the fence would be gone when the leader's fill checks it, and nothing would be stored.
        var reads = new ReadCounter();
        var method = MethodOn(Node(Connection("a"), reads));
        await method.InvokeAsync("warm", 0, static (_, _) => new ValueTask<string>("w"), null, CancellationToken.None);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        Func<(TaskCompletionSource, TaskCompletionSource), CancellationToken, ValueTask<string>> body = (g, ct) =>
        {
            Interlocked.Increment(ref calls);
            return new ValueTask<string>(Gated(g.Item1, g.Item2, "v", ct));
        };

        var readsBefore = Volatile.Read(ref reads.Reads);
        var leader = method.InvokeAsync("k", (started, release), body, null, CancellationToken.None).AsTask();
        await started.Task.WaitAsync(s_limit);
        using var waiterToken = new CancellationTokenSource();
        var waiter = method.InvokeAsync("k", (started, release), body, null, waiterToken.Token).AsTask();
        await Eventually(() => Task.FromResult(Volatile.Read(ref reads.Reads) >= readsBefore + 2), "the waiter's read answered");
        await Task.Delay(50);
        release.SetResult();

        Assert.That(await leader.WaitAsync(s_limit), Is.EqualTo("v"));
        Assert.That(await waiter.WaitAsync(s_limit), Is.EqualTo("v"));
        Assert.That(calls, Is.EqualTo(1), "the waiter took the leader's result");
        Assert.That(await StoredAsync("k"), Is.EqualTo("v"), "the leader's fill stored: its fence was still there");
    }

    [Test]
    public async Task A_sync_caller_that_waits_for_the_leader_leaves_the_fence_the_leader_fills_through()
    {
        var reads = new ReadCounter();
        var method = MethodOn(Node(Connection("a"), reads));
        method.Invoke("warm", 0, static _ => "w");
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var calls = 0;
        Func<(ManualResetEventSlim Started, ManualResetEventSlim Release), string> body = g =>
        {
            Interlocked.Increment(ref calls);
            g.Started.Set();
            g.Release.Wait(s_limit);
            return "v";
        };

        var readsBefore = Volatile.Read(ref reads.Reads);
        var leader = Task.Factory.StartNew(() => method.Invoke("k", (started, release), body), TaskCreationOptions.LongRunning);
        Assert.That(started.Wait(s_limit), Is.True);
        var waiter = Task.Factory.StartNew(() => method.Invoke("k", (started, release), body), TaskCreationOptions.LongRunning);
        await Eventually(() => Task.FromResult(Volatile.Read(ref reads.Reads) >= readsBefore + 2), "the waiter's read answered");
        await Task.Delay(50);
        release.Set();

        Assert.That(await leader.WaitAsync(s_limit), Is.EqualTo("v"));
        Assert.That(await waiter.WaitAsync(s_limit), Is.EqualTo("v"));
        Assert.That(calls, Is.EqualTo(1), "the waiter took the leader's result");
        Assert.That(await StoredAsync("k"), Is.EqualTo("v"), "the leader's fill stored: its fence was still there");
    }

    /// <summary>Holds the second read of <paramref name="key"/>, once the server has answered it, until <see cref="Open"/> is set.</summary>
    private sealed class SecondReadGate(string key) : Cached.Plugins.CachePlugin
    {
        private int _reads;

        public ManualResetEventSlim Reached { get; } = new();

        public ManualResetEventSlim Open { get; } = new();

        public override void Post(Cached.Plugins.CacheCommandContext context)
        {
            if (context.Command == Cached.Plugins.CacheCommand.Get && context.Key == key && Interlocked.Increment(ref _reads) == 2)
            {
                Reached.Set();
                Open.Wait(s_limit);
            }
        }
    }

    [Test]
    public async Task A_leader_that_stores_nothing_leaves_the_fence_to_the_next_leader_whose_read_shares_it([Values] bool sync)
    {
        // A's read opened the fence (token T) and its body fails; B's read of the same miss got T too and boards after A
        // landed. A's fill, never attempted, must not release T: B leads through it, and its value must be stored. (From
        // a review of the read that opens fills: A released T, and B's value was refused.)
        var connection = Connection("a");
        var gate = new SecondReadGate("k");
        var method = MethodOn(Node(connection, gate));
        await method.InvokeAsync("warm", 0, static (_, _) => new ValueTask<string>("w"), null, CancellationToken.None);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var a = method.InvokeAsync("k", (started, release), static async (g, ct) =>
        {
            g.started.TrySetResult();
            await g.release.Task.WaitAsync(s_limit, ct);
            throw new InvalidOperationException("the source failed");
        }, null, CancellationToken.None).AsTask();
        await started.Task.WaitAsync(s_limit);

        var b = sync
            ? Task.Factory.StartNew(() => method.Invoke("k", 0, static _ => "b"), TaskCreationOptions.LongRunning)
            : Task.Run(() => method.InvokeAsync("k", 0, static (_, _) => new ValueTask<string>("b"), null, CancellationToken.None).AsTask());
        Assert.That(gate.Reached.Wait(s_limit), Is.True, "B's read answered, before B boards");
        release.SetResult();
        Assert.That(async () => await a.WaitAsync(s_limit), Throws.InvalidOperationException);

        // A release would have been sent on this connection by now: a round trip on it comes after it.
        await connection.GetDatabase().PingAsync();
        gate.Open.Set();

        Assert.That(await b.WaitAsync(s_limit), Is.EqualTo("b"));
        Assert.That(await StoredAsync("k"), Is.EqualTo("b"), "B's fill stored through the fence A left");
        Assert.That(await FenceCountAsync(), Is.Zero, "and took the fence away with it");
    }

    [Test]
    public async Task A_body_s_refused_call_for_its_own_key_leaves_no_fill_open()
    {
        // The inner call's read opens the key's fill on L2 (a miss) before it finds the body's own flight: refused
        // there, it must close that ticket, or L2 keeps a fill open for good.
        var node = Node(Connection("reentry"));
        var method = MethodOn(node);
        Exception? refused = null;
        string Body()
        {
            try
            {
                _ = method.Invoke("k", 0, static _ => "inner");
            }
            catch (InvalidOperationException ex)
            {
                refused = ex;
            }

            return "outer";
        }

        Assert.That(await Task.Run(() => method.Invoke("k", 0, _ => Body())).WaitAsync(s_limit), Is.EqualTo("outer"));

        Assert.That(refused, Is.InstanceOf<InvalidOperationException>());
        Assert.That(((BaseCache)node.L2).OpenFills, Is.Zero, "every fill L2 opened is closed");
        Assert.That(await StoredAsync("k"), Is.EqualTo("outer"));
    }
}
