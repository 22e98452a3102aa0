using Cached.Runtime;

namespace Cached.Redis.Tests;

/// <summary>
/// The stampede lease of a cached method between two "processes" (two caches, each on its own multiplexer) on one
/// server and on the cluster: a lease that runs out under a running body, a leader whose body throws or whose caller
/// leaves, waiters that wait longer than their own lease, and the lease with fail-safe's stamped entries.
/// </summary>
[TestFixture(false, TestName = "redis")]
[TestFixture(true, TestName = "redis-cluster")]
public sealed class RedisLeaseReviewTests(bool cluster)
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(15);
    private readonly List<RedisCache> _caches = [];
    private string _ns = null!;

    [SetUp]
    public void NewNamespace() => _ns = "lease-review-" + Guid.NewGuid().ToString("N")[..8];

    [TearDown]
    public void DisposeCaches()
    {
        foreach (var cache in _caches)
        {
            cache.Dispose();
        }

        _caches.Clear();
    }

    private RedisCache Process(string name)
    {
        var cache = new RedisCache
        {
            // A different client name is a different configuration, hence a multiplexer of its own.
            ConnectionString = (cluster ? SharedRedis.Cluster.ConnectionString : SharedRedis.Server.ConnectionString) + ",name=" + name + "-" + _ns,
            Namespace = _ns,
        };
        _caches.Add(cache);
        return cache;
    }

    private static CachedMethod<string> Method(RedisCache cache, double lease, double failSafe = 0)
        => new(new CachedMethodOptions { Method = "Review.Lease", Lease = lease, Ttl = 60, FailSafe = failSafe, CacheFactory = () => cache });

    private static async Task Until(Func<Task<bool>> condition, string what)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            if (waited.Elapsed > s_limit)
            {
                Assert.Fail("Timed out waiting until " + what);
            }

            await Task.Delay(10);
        }
    }

    [Test]
    public async Task A_lease_that_runs_out_under_a_running_body_lets_the_other_process_in_and_is_not_released_by_its_first_owner()
    {
        var a = Process("a");
        var b = Process("b");
        var releaseA = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseB = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var bStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var inA = Method(a, lease: 0.3).InvokeAsync("k", releaseA, static async (r, _) => await r.Task, null, CancellationToken.None).AsTask();
        await Until(() => a.ExistsAsync("k-lock").AsTask(), "A holds the lease");
        var inB = Method(b, lease: 30).InvokeAsync("k", (releaseB, bStarted), static async (s, _) =>
        {
            s.bStarted.SetResult();
            return await s.releaseB.Task;
        }, null, CancellationToken.None).AsTask();

        // A's lease runs out while its body still runs: B takes the lock and runs its own body.
        await bStarted.Task.WaitAsync(s_limit);
        releaseA.SetResult("from A");
        Assert.That(await inA.WaitAsync(s_limit), Is.EqualTo("from A"));

        Assert.That(await b.ExistsAsync("k-lock"), Is.True, "A's release does not remove the lock B holds now");
        releaseB.SetResult("from B");
        // A stored first, so B's fill is refused and B answers with the value that stands (reliability.md, race 1).
        Assert.That(await inB.WaitAsync(s_limit), Is.EqualTo("from A"));
        await Until(async () => !await b.ExistsAsync("k-lock"), "B released its lock");
    }

    [Test]
    public async Task A_leader_whose_body_throws_releases_the_lease_and_the_other_process_runs_its_body_once()
    {
        var a = Process("a");
        var b = Process("b");
        var failA = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var callsB = new StrongBox();

        var inA = Method(a, lease: 30).InvokeAsync("k", failA, static async (f, _) =>
        {
            await f.Task;
            throw new InvalidOperationException("A failed");
        }, null, CancellationToken.None).AsTask();
        await Until(() => a.ExistsAsync("k-lock").AsTask(), "A holds the lease");
        var inB = Method(b, lease: 30).InvokeAsync("k", callsB, static (c, _) =>
        {
            Interlocked.Increment(ref c.Count);
            return new ValueTask<string>("from B");
        }, null, CancellationToken.None).AsTask();

        failA.SetResult();
        Assert.ThrowsAsync<InvalidOperationException>(async () => await inA.WaitAsync(s_limit));
        Assert.That(await inB.WaitAsync(s_limit), Is.EqualTo("from B"), "B need not wait out A's 30 s lease");
        Assert.That(callsB.Count, Is.EqualTo(1));
        Assert.That(await a.GetAsync<string>("k"), Is.EqualTo("from B"));
        await Until(async () => !await a.ExistsAsync("k-lock"), "B released its lock");
    }

    [Test]
    public async Task A_leader_whose_only_caller_leaves_releases_the_lease_once_its_body_stops()
    {
        var a = Process("a");
        var b = Process("b");
        using var cancel = new CancellationTokenSource();

        var inA = Method(a, lease: 30).InvokeAsync("k", 0, static async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return "never";
        }, null, cancel.Token).AsTask();
        await Until(() => a.ExistsAsync("k-lock").AsTask(), "A holds the lease");
        var inB = Method(b, lease: 30).InvokeAsync("k", 0, static (_, _) => new ValueTask<string>("from B"), null, CancellationToken.None).AsTask();

        cancel.Cancel();
        Assert.CatchAsync<OperationCanceledException>(async () => await inA.WaitAsync(s_limit));
        Assert.That(await inB.WaitAsync(s_limit), Is.EqualTo("from B"), "B need not wait out A's 30 s lease");
    }

    [Test]
    public async Task A_waiter_whose_own_lease_runs_out_goes_on_without_the_lock_and_runs_its_body()
    {
        // docs/decorators.md: callers wait until the value appears, the lock is released, or the lease runs out (then
        // they go on without it, as aiocache does).
        var a = Process("a");
        var b = Process("b");
        var releaseA = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);

        var inA = Method(a, lease: 60).InvokeAsync("k", releaseA, static async (r, _) => await r.Task, null, CancellationToken.None).AsTask();
        await Until(() => a.ExistsAsync("k-lock").AsTask(), "A holds the lease");
        var inB = Method(b, lease: 0.3).InvokeAsync("k", 0, static (_, _) => new ValueTask<string>("from B"), null, CancellationToken.None).AsTask();

        Assert.That(await inB.WaitAsync(s_limit), Is.EqualTo("from B"));
        Assert.That(await b.ExistsAsync("k-lock"), Is.True, "B took no lock and released none: A's is still there");
        releaseA.SetResult("from A");
        // B stored first, so A's fill is refused and A answers with the value that stands (reliability.md, race 1).
        Assert.That(await inA.WaitAsync(s_limit), Is.EqualTo("from B"));
        Assert.That(await a.ExistsAsync("k-lock"), Is.False);
    }

    [Test]
    public async Task With_fail_safe_callers_in_two_processes_make_one_body_call()
    {
        var a = Process("a");
        var b = Process("b");
        var releaseA = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var callsB = new StrongBox();

        var inA = Method(a, lease: 30, failSafe: 60).InvokeAsync("k", releaseA, static async (r, _) => await r.Task, null, CancellationToken.None).AsTask();
        await Until(() => a.ExistsAsync("k-lock").AsTask(), "A holds the lease");
        var inB = Method(b, lease: 30, failSafe: 60).InvokeAsync("k", callsB, static (c, _) =>
        {
            Interlocked.Increment(ref c.Count);
            return new ValueTask<string>("from B");
        }, null, CancellationToken.None).AsTask();

        releaseA.SetResult("from A");
        Assert.That(await inA.WaitAsync(s_limit), Is.EqualTo("from A"));
        Assert.That(await inB.WaitAsync(s_limit), Is.EqualTo("from A"), "B waited on the lease and read A's stamped value");
        Assert.That(callsB.Count, Is.Zero);
    }

    private sealed class StrongBox
    {
        public int Count;
    }
}
