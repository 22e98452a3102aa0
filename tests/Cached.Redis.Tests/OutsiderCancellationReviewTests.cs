using System.Diagnostics;
using Cached.Redis.Tests.Infrastructure;

namespace Cached.Redis.Tests;

/// <summary>
/// Generated async methods of one "process" for the outsider's cancellation review: each body is whatever the test
/// sets in <see cref="Body"/>, so a test gates it with a <see cref="TaskCompletionSource"/>.
/// </summary>
public partial class CancelReviewA
{
    public const string Alias = "cancel-review-a";

    public Func<int, CancellationToken, Task<string>> Body { get; set; } = static (id, _) => Task.FromResult("a-" + id);

    [Cached(Alias = Alias, Key = "leased:{id}", Ttl = 60, Lease = 30)]
    public partial Task<string> LeasedAsync(int id, CancellationToken ct = default);

    private Task<string> LeasedAsyncCore(int id, CancellationToken ct) => Body(id, ct);

    [Cached(Alias = Alias, Key = "leased-vt:{id}", Ttl = 60, Lease = 30)]
    public partial ValueTask<string> LeasedValueAsync(int id, CancellationToken ct = default);

    private async ValueTask<string> LeasedValueAsyncCore(int id, CancellationToken ct) => await Body(id, ct);

    [Cached(Alias = Alias, Key = "safe:{id}", Ttl = 60, Lease = 30, FailSafe = 600, HardTimeout = 20)]
    public partial Task<string> SafeAsync(int id, CancellationToken ct = default);

    private Task<string> SafeAsyncCore(int id, CancellationToken ct) => Body(id, ct);

    [Cached(Alias = Alias, Key = "hard:{id}", Ttl = 60, Lease = 30, HardTimeout = 1)]
    public partial Task<string> HardAsync(int id, CancellationToken ct = default);

    private Task<string> HardAsyncCore(int id, CancellationToken ct) => Body(id, ct);

    [Cached(Alias = Alias, Key = "plain:{id}", Ttl = 60)]
    public partial Task<string> PlainAsync(int id, CancellationToken ct = default);

    private Task<string> PlainAsyncCore(int id, CancellationToken ct) => Body(id, ct);

    /// <summary>Fresh for 1 s, kept 10 minutes more; a caller with the last value waits 0.3 s at most.</summary>
    [Cached(Alias = Alias, Key = "stale:{id}", Ttl = 1, Lease = 30, FailSafe = 600, SoftTimeout = 0.3, HardTimeout = 20)]
    public partial Task<string> StaleAsync(int id, CancellationToken ct = default);

    private Task<string> StaleAsyncCore(int id, CancellationToken ct) => Body(id, ct);
}

/// <summary>The same methods (same keys, same options) in another "process": its own alias, cache and connection.</summary>
public partial class CancelReviewB
{
    public const string Alias = "cancel-review-b";

    public Func<int, CancellationToken, Task<string>> Body { get; set; } = static (id, _) => Task.FromResult("b-" + id);

    [Cached(Alias = Alias, Key = "leased:{id}", Ttl = 60, Lease = 30)]
    public partial Task<string> LeasedAsync(int id, CancellationToken ct = default);

    private Task<string> LeasedAsyncCore(int id, CancellationToken ct) => Body(id, ct);

    [Cached(Alias = Alias, Key = "leased-vt:{id}", Ttl = 60, Lease = 30)]
    public partial ValueTask<string> LeasedValueAsync(int id, CancellationToken ct = default);

    private async ValueTask<string> LeasedValueAsyncCore(int id, CancellationToken ct) => await Body(id, ct);

    [Cached(Alias = Alias, Key = "safe:{id}", Ttl = 60, Lease = 30, FailSafe = 600, HardTimeout = 20)]
    public partial Task<string> SafeAsync(int id, CancellationToken ct = default);

    private Task<string> SafeAsyncCore(int id, CancellationToken ct) => Body(id, ct);

    [Cached(Alias = Alias, Key = "stale:{id}", Ttl = 1, Lease = 30, FailSafe = 600, SoftTimeout = 0.3, HardTimeout = 20)]
    public partial Task<string> StaleAsync(int id, CancellationToken ct = default);

    private Task<string> StaleAsyncCore(int id, CancellationToken ct) => Body(id, ct);

    // Only holds the lease for A's HardAsync: same key and lease, no timeout of its own.
    [Cached(Alias = Alias, Key = "hard:{id}", Ttl = 60, Lease = 30)]
    public partial Task<string> HardAsync(int id, CancellationToken ct = default);

    private Task<string> HardAsyncCore(int id, CancellationToken ct) => Body(id, ct);
}

/// <summary>
/// An outsider's review of cancellation at every await, and of timeouts, for generated async methods and
/// <c>GetOrSetAsync</c> on a real Redis server (and the cluster): a caller whose token is cancelled leaves at once with an
/// <see cref="OperationCanceledException"/>, leaves no lease behind, and never makes the other callers of the key fail
/// or wait longer. Races are forced with gates in the bodies, not with sleeps.
/// </summary>
[NonParallelizable]
public sealed class OutsiderCancellationReviewTests
{
    /// <summary>How long "promptly" is: far below every lease (30 s) and timeout (10 s) in play.</summary>
    private static readonly TimeSpan s_prompt = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(20);
    private static int s_ids = Random.Shared.Next(1_000, 1_000_000);

    private readonly List<IDisposable> _owned = [];
    private string _ns = null!;
    private int _unobserved;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _unobservedText = new();

    [SetUp]
    public void SetUp()
    {
        Caches.Reset();
        _ns = "cancel-review-" + Guid.NewGuid().ToString("N")[..8];
        // What earlier tests left to the finalizer is theirs, not this test's.
        CollectGarbage();
        _unobserved = 0;
        _unobservedText.Clear();
        TaskScheduler.UnobservedTaskException += CountUnobserved;
    }

    [TearDown]
    public void TearDown()
    {
        TaskScheduler.UnobservedTaskException -= CountUnobserved;
        Caches.Reset();
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }

        _owned.Clear();
    }

    private void CountUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
    {
        var text = e.Exception.ToString();
        if (text.Contains("Infrastructure.LoopbackProxy", StringComparison.Ordinal))
        {
            // The test proxy's own socket copies, cut on purpose: not the library's.
            return;
        }

        Interlocked.Increment(ref _unobserved);
        var inner = e.Exception.InnerException;
        var frame = text.Split('\n').Select(static l => l.Trim()).FirstOrDefault(static l => l.StartsWith("at Cached.", StringComparison.Ordinal) && !l.StartsWith("at Cached.Redis.Tests", StringComparison.Ordinal));
        _unobservedText.Enqueue($"{inner?.GetType().FullName}: {inner?.Message} [{frame}]");
    }

    private static int NewId() => Interlocked.Increment(ref s_ids);

    private static string Server(bool cluster) => cluster ? SharedRedis.Cluster.ConnectionString : SharedRedis.Server.ConnectionString;

    /// <summary>A "process": a cache on a connection of its own (a client name of its own), in the test's namespace.</summary>
    private RedisCache Process(string name, bool cluster = false, string? connection = null, TimeSpan? timeout = null)
    {
        var cache = new RedisCache
        {
            ConnectionString = (connection ?? Server(cluster)) + ",name=" + name + "-" + _ns,
            Namespace = _ns,
            Timeout = timeout ?? TimeSpan.FromSeconds(10),
        };
        _owned.Add(cache);
        return cache;
    }

    private (CancelReviewA A, CancelReviewB B, RedisCache CacheA, RedisCache CacheB) TwoProcesses(bool cluster = false)
    {
        var cacheA = Process("a", cluster);
        var cacheB = Process("b", cluster);
        Caches.AddInstance(CancelReviewA.Alias, cacheA);
        Caches.AddInstance(CancelReviewB.Alias, cacheB);
        return (new CancelReviewA(), new CancelReviewB(), cacheA, cacheB);
    }

    private static TaskCompletionSource<T> Gate<T>() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static TaskCompletionSource Gate() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static async Task Until(Func<Task<bool>> condition, string what, TimeSpan? limit = null)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            if (waited.Elapsed > (limit ?? s_limit))
            {
                Assert.Fail($"Not within {(limit ?? s_limit).TotalSeconds} s: {what}");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Cancels <paramref name="cts"/> and asserts <paramref name="call"/> ends with an OperationCanceledException within <see cref="s_prompt"/>.</summary>
    private static async Task<TimeSpan> AssertCancelsPromptly(Task call, CancellationTokenSource cts, string where)
    {
        Assert.That(call.IsCompleted, Is.False, $"{where}: the call is still waiting before the cancel (status {call.Status})");
        var clock = Stopwatch.StartNew();
        cts.Cancel();
        if (await Task.WhenAny(call, Task.Delay(s_limit)) != call)
        {
            Assert.Fail($"{where}: the cancelled call had not ended {s_limit.TotalSeconds} s after its token was cancelled");
        }

        try
        {
            await call;
            Assert.Fail($"{where}: the cancelled call completed with a value instead of an OperationCanceledException");
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            Assert.Fail($"{where}: the cancelled call failed with {ex.GetType().Name} ({ex.Message}) rather than an OperationCanceledException, after {clock.Elapsed.TotalMilliseconds:F0} ms");
        }

        var took = clock.Elapsed;
        Assert.That(took, Is.LessThan(s_prompt), $"{where}: the OperationCanceledException came {took.TotalMilliseconds:F0} ms after the cancel, not promptly");
        return took;
    }

    private static void CollectGarbage()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    private async Task AssertNoUnobservedExceptions()
    {
        // Twice, a while apart: a task abandoned by the client may become garbage only once it let go of it.
        CollectGarbage();
        await Task.Delay(1_000);
        CollectGarbage();
        Assert.That(Volatile.Read(ref _unobserved), Is.Zero, "no unobserved task exception; seen: " + string.Join(" | ", _unobservedText));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Leased [Cached] methods

    [Test]
    public async Task Leased_a_caller_waiting_for_another_process_s_lease_leaves_promptly_and_leaves_the_lease_to_its_owner([Values] bool cluster, [Values] bool valueTask)
    {
        var (a, b, cacheA, _) = TwoProcesses(cluster);
        var id = NewId();
        var releaseB = Gate<string>();
        var bodyA = 0;
        b.Body = (_, _) => releaseB.Task;
        a.Body = (_, _) =>
        {
            Interlocked.Increment(ref bodyA);
            return Task.FromResult("from A");
        };

        var inB = valueTask ? b.LeasedValueAsync(id).AsTask() : b.LeasedAsync(id);
        var prefix = valueTask ? "leased-vt:" : "leased:";
        await Until(() => cacheA.ExistsAsync(prefix + id + "-lock").AsTask(), "B holds the lease");

        using var cts = new CancellationTokenSource();
        var inA = valueTask ? a.LeasedValueAsync(id, cts.Token).AsTask() : a.LeasedAsync(id, cts.Token);
        await Task.Delay(300);
        await AssertCancelsPromptly(inA, cts, "waiting for another process's lease");

        Assert.That(await cacheA.ExistsAsync(prefix + id + "-lock"), Is.True, "the other process's lease is still there: the cancelled waiter did not remove it");
        Assert.That(Volatile.Read(ref bodyA), Is.Zero, "the cancelled waiter never ran its body");
        Assert.That(await cacheA.ExistsAsync(prefix + id), Is.False, "and stored nothing");

        releaseB.SetResult("from B");
        Assert.That(await inB.WaitAsync(s_limit), Is.EqualTo("from B"));
        var later = valueTask ? a.LeasedValueAsync(id).AsTask() : a.LeasedAsync(id);
        Assert.That(await later.WaitAsync(s_prompt), Is.EqualTo("from B"), "a later call in A hits B's value");

        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task Leased_a_leader_whose_only_caller_cancels_in_its_body_releases_the_lease_at_once_and_stores_nothing([Values] bool cluster)
    {
        var (a, b, cacheA, _) = TwoProcesses(cluster);
        var id = NewId();
        var started = Gate();
        var sawCancel = Gate();
        a.Body = async (_, ct) =>
        {
            started.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                sawCancel.TrySetResult();
                throw;
            }

            return "half";
        };
        var bodyB = 0;
        b.Body = (_, _) =>
        {
            Interlocked.Increment(ref bodyB);
            return Task.FromResult("from B");
        };

        using var cts = new CancellationTokenSource();
        var inA = a.LeasedAsync(id, cts.Token);
        await started.Task.WaitAsync(s_limit);
        Assert.That(await cacheA.ExistsAsync("leased:" + id + "-lock"), Is.True, "A holds the lease while its body runs");

        await AssertCancelsPromptly(inA, cts, "in the body");
        await sawCancel.Task.WaitAsync(s_prompt);
        await Until(async () => !await cacheA.ExistsAsync("leased:" + id + "-lock"), "A's lease is released once its body stopped", s_prompt);
        Assert.That(await cacheA.ExistsAsync("leased:" + id), Is.False, "nothing stored");

        var clock = Stopwatch.StartNew();
        Assert.That(await b.LeasedAsync(id).WaitAsync(s_limit), Is.EqualTo("from B"));
        Assert.That(clock.Elapsed, Is.LessThan(s_prompt), "the other process does not wait out the 30 s lease");
        Assert.That(bodyB, Is.EqualTo(1));
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task Leased_a_cancelled_leader_does_not_cancel_the_body_other_callers_wait_for([Values] bool cluster)
    {
        var (a, b, cacheA, _) = TwoProcesses(cluster);
        var id = NewId();
        var started = Gate();
        var release = Gate<string>();
        var calls = 0;
        CancellationToken bodyToken = default;
        a.Body = async (_, ct) =>
        {
            Interlocked.Increment(ref calls);
            bodyToken = ct;
            started.TrySetResult();
            return await release.Task.WaitAsync(ct);
        };
        var bodyB = 0;
        b.Body = (_, _) =>
        {
            Interlocked.Increment(ref bodyB);
            return Task.FromResult("from B");
        };

        using var leader = new CancellationTokenSource();
        var inLeader = a.LeasedAsync(id, leader.Token);
        await started.Task.WaitAsync(s_limit);
        using var other = new CancellationTokenSource();
        var inPassenger = a.LeasedAsync(id, other.Token);
        var inPlain = a.LeasedAsync(id);
        var inB = b.LeasedAsync(id);
        // Their reads (one round trip on loopback) are done well within this; then they wait on the flight and the lease.
        await Task.Delay(500);

        await AssertCancelsPromptly(inLeader, leader, "the leader, in the body");
        Assert.That(bodyToken.IsCancellationRequested, Is.False, "the body's token stays live while other callers wait");
        Assert.That(inPassenger.IsCompleted || inPlain.IsCompleted || inB.IsCompleted, Is.False, "nobody else was answered or failed by the leader's cancel");

        release.SetResult("computed");
        Assert.That(await inPassenger.WaitAsync(s_limit), Is.EqualTo("computed"));
        Assert.That(await inPlain.WaitAsync(s_limit), Is.EqualTo("computed"));
        Assert.That(await inB.WaitAsync(s_limit), Is.EqualTo("computed"), "the other process got the stored value");
        Assert.That(calls, Is.EqualTo(1));
        Assert.That(bodyB, Is.Zero);
        await Until(async () => !await cacheA.ExistsAsync("leased:" + id + "-lock"), "lease released");
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task Leased_a_passenger_cancelled_while_the_leader_waits_for_another_process_s_lease_leaves_promptly()
    {
        var (a, b, cacheA, _) = TwoProcesses();
        var id = NewId();
        var releaseB = Gate<string>();
        b.Body = (_, _) => releaseB.Task;
        var bodyA = 0;
        a.Body = (_, _) =>
        {
            Interlocked.Increment(ref bodyA);
            return Task.FromResult("from A");
        };

        var inB = b.LeasedAsync(id);
        await Until(() => cacheA.ExistsAsync("leased:" + id + "-lock").AsTask(), "B holds the lease");
        var inLeader = a.LeasedAsync(id);
        using var cts = new CancellationTokenSource();
        var inPassenger = a.LeasedAsync(id, cts.Token);
        await Task.Delay(200);
        await AssertCancelsPromptly(inPassenger, cts, "a passenger of a leader waiting for a lease");

        releaseB.SetResult("from B");
        Assert.That(await inB.WaitAsync(s_limit), Is.EqualTo("from B"));
        Assert.That(await inLeader.WaitAsync(s_limit), Is.EqualTo("from B"));
        Assert.That(bodyA, Is.Zero);
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task Leased_a_caller_cancelled_while_its_lease_take_is_on_the_wire_leaves_promptly_and_leaves_no_lock()
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var cacheA = Process("a", connection: proxy.ConnectionString);
        var cacheB = Process("b");
        Caches.AddInstance(CancelReviewA.Alias, cacheA);
        Caches.AddInstance(CancelReviewB.Alias, cacheB);
        var (a, b) = (new CancelReviewA(), new CancelReviewB());
        await cacheA.SetAsync("warm", "x");
        var id = NewId();
        var bodyA = 0;
        a.Body = (_, _) =>
        {
            Interlocked.Increment(ref bodyA);
            return Task.FromResult("from A");
        };
        b.Body = (_, _) => Task.FromResult("from B");

        // The caller's read misses; its SET NX PX of the lease is held on its way (it reaches the server later).
        proxy.HoldWhenSent("leased:" + id + "-lock");
        using var cts = new CancellationTokenSource();
        var inA = a.LeasedAsync(id, cts.Token);
        await proxy.MarkerHeld.Task.WaitAsync(s_limit);
        await AssertCancelsPromptly(inA, cts, "with its lease take on the wire");

        proxy.Release();
        Assert.That(await cacheA.ExistsAsync("warm"), Is.True, "what was held has reached the server");
        await Until(async () => !await cacheB.ExistsAsync("leased:" + id + "-lock"), "no lock left by the cancelled take", s_prompt);
        var clock = Stopwatch.StartNew();
        Assert.That(await b.LeasedAsync(id).WaitAsync(s_limit), Is.EqualTo("from B"));
        Assert.That(clock.Elapsed, Is.LessThan(s_prompt), "the other process does not wait out the lease");
        Assert.That(bodyA, Is.Zero);
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task RedLock_AcquireAsync_cancelled_while_its_take_is_on_the_wire_throws_promptly_and_leaves_no_lock()
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var slow = Process("slow", connection: proxy.ConnectionString);
        var other = Process("other");
        await slow.SetAsync("warm", "x");

        proxy.HoldWhenSent("red-" + _ns);
        using var cts = new CancellationTokenSource();
        var acquiring = RedLock.AcquireAsync(slow, "red-" + _ns, TimeSpan.FromSeconds(30), cancellationToken: cts.Token).AsTask();
        await proxy.MarkerHeld.Task.WaitAsync(s_limit);
        try
        {
            await AssertCancelsPromptly(acquiring, cts, "RedLock.AcquireAsync with its take on the wire");
        }
        finally
        {
            proxy.Release();
        }

        Assert.That(await slow.ExistsAsync("warm"), Is.True);
        await Until(async () => !await other.ExistsAsync("red-" + _ns + "-lock"), "no lock left", s_prompt);
    }

    [Test]
    public async Task Leased_a_caller_cancelled_during_the_backend_read_leaves_promptly()
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var cacheA = Process("a", connection: proxy.ConnectionString);
        Caches.AddInstance(CancelReviewA.Alias, cacheA);
        var a = new CancelReviewA();
        await cacheA.SetAsync("warm", "x");
        var id = NewId();
        var bodyA = 0;
        a.Body = (_, _) =>
        {
            Interlocked.Increment(ref bodyA);
            return Task.FromResult("from A");
        };

        proxy.Hold();
        using var cts = new CancellationTokenSource();
        var inA = a.LeasedAsync(id, cts.Token);
        await Task.Delay(200);
        try
        {
            await AssertCancelsPromptly(inA, cts, "during the first read");
        }
        finally
        {
            proxy.Release();
        }

        Assert.That(await cacheA.ExistsAsync("warm"), Is.True);
        Assert.That(bodyA, Is.Zero, "a cancelled read is not a fault: no body");
        Assert.That(await cacheA.ExistsAsync("leased:" + id + "-lock"), Is.False, "and no lease");
    }

    [Test]
    public async Task Leased_a_caller_cancelled_during_the_store_leaves_promptly_and_the_value_still_lands()
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var cacheA = Process("a", connection: proxy.ConnectionString);
        var direct = Process("direct");
        Caches.AddInstance(CancelReviewA.Alias, cacheA);
        var a = new CancelReviewA();
        await cacheA.SetAsync("warm", "x");
        var id = NewId();
        var marker = "stored-value-" + Guid.NewGuid().ToString("N");
        a.Body = (_, _) => Task.FromResult(marker);

        proxy.HoldWhenSent(marker);
        using var cts = new CancellationTokenSource();
        var inA = a.LeasedAsync(id, cts.Token);
        await proxy.MarkerHeld.Task.WaitAsync(s_limit);
        try
        {
            await AssertCancelsPromptly(inA, cts, "during the store");
        }
        finally
        {
            proxy.Release();
        }

        await Until(async () => await direct.GetAsync<string>("leased:" + id) == marker, "the computed value landed");
        await Until(async () => !await direct.ExistsAsync("leased:" + id + "-lock"), "lease released");
        await AssertNoUnobservedExceptions();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Resilience options (fail-safe, timeouts) with a lease

    [Test]
    public async Task FailSafe_a_caller_waiting_for_another_process_s_lease_leaves_promptly_and_an_uncancelled_one_gets_the_value([Values] bool cluster)
    {
        var (a, b, cacheA, _) = TwoProcesses(cluster);
        var id = NewId();
        var releaseB = Gate<string>();
        b.Body = (_, _) => releaseB.Task;
        var bodyA = 0;
        a.Body = (_, _) =>
        {
            Interlocked.Increment(ref bodyA);
            return Task.FromResult("from A");
        };

        var inB = b.SafeAsync(id);
        await Until(() => cacheA.ExistsAsync("safe:" + id + "-lock").AsTask(), "B holds the lease");
        using var cts = new CancellationTokenSource();
        var inLeader = a.SafeAsync(id, cts.Token);
        await Task.Delay(200);
        using var live = new CancellationTokenSource();
        var inPassenger = a.SafeAsync(id, live.Token);
        await Task.Delay(200);

        await AssertCancelsPromptly(inLeader, cts, "fail-safe, waiting for a lease");
        Assert.That(inPassenger.IsCompleted, Is.False, "the other caller still waits");

        releaseB.SetResult("from B");
        Assert.That(await inB.WaitAsync(s_limit), Is.EqualTo("from B"));
        Assert.That(await inPassenger.WaitAsync(s_limit), Is.EqualTo("from B"), "the uncancelled caller is not failed by the cancelled one");
        Assert.That(bodyA, Is.Zero);
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task FailSafe_a_leader_whose_only_caller_cancels_in_its_body_releases_the_lease_and_keeps_the_last_value_as_it_was()
    {
        var (a, b, cacheA, _) = TwoProcesses();
        var id = NewId();
        var started = Gate();
        a.Body = async (_, ct) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return "half";
        };
        b.Body = (_, _) => Task.FromResult("from B");

        using var cts = new CancellationTokenSource();
        var inA = a.SafeAsync(id, cts.Token);
        await started.Task.WaitAsync(s_limit);
        await AssertCancelsPromptly(inA, cts, "fail-safe, in the body");
        await Until(async () => !await cacheA.ExistsAsync("safe:" + id + "-lock"), "the lease is released", s_prompt);
        Assert.That(await cacheA.ExistsAsync("safe:" + id), Is.False, "nothing stored");
        var clock = Stopwatch.StartNew();
        Assert.That(await b.SafeAsync(id).WaitAsync(s_limit), Is.EqualTo("from B"));
        Assert.That(clock.Elapsed, Is.LessThan(s_prompt));
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task HardTimeout_bounds_the_wait_for_another_process_s_lease()
    {
        var (a, b, cacheA, _) = TwoProcesses();
        var id = NewId();
        var releaseB = Gate<string>();
        b.Body = (_, _) => releaseB.Task;
        a.Body = (_, _) => Task.FromResult("from A");

        var inB = b.HardAsync(id);
        await Until(() => cacheA.ExistsAsync("hard:" + id + "-lock").AsTask(), "B holds the lease");
        var clock = Stopwatch.StartNew();
        var ex = Assert.CatchAsync(async () => await a.HardAsync(id).WaitAsync(s_limit));
        Assert.That(ex, Is.InstanceOf<TimeoutException>(), $"a TimeoutException (got {ex?.GetType().Name}: {ex?.Message})");
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)), "at the 1 s hard timeout, not at the 30 s lease");

        // A caller that can cancel and cancels before the hard timeout gets its cancellation, not the timeout.
        using var cts = new CancellationTokenSource();
        var inA = a.HardAsync(id, cts.Token);
        await Task.Delay(100);
        await AssertCancelsPromptly(inA, cts, "hard timeout pending, waiting for a lease");

        releaseB.SetResult("from B");
        Assert.That(await inB.WaitAsync(s_limit), Is.EqualTo("from B"));
        await AssertNoUnobservedExceptions();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // GetOrSetAsync with CacheEntryOptions

    [Test]
    public async Task GetOrSetAsync_with_a_lease_and_fail_safe_a_caller_cancelled_waiting_for_the_lease_or_in_the_factory_leaves_promptly([Values] bool cluster)
    {
        var cacheA = Process("a", cluster);
        var cacheB = Process("b", cluster);
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), FailSafe = TimeSpan.FromMinutes(10), Lease = TimeSpan.FromSeconds(30), HardTimeout = TimeSpan.FromSeconds(20) };
        var key = "gos:" + NewId();
        var releaseB = Gate<string>();

        var inB = cacheB.GetOrSetAsync(key, _ => new ValueTask<string>(releaseB.Task), options).AsTask();
        await Until(() => cacheA.ExistsAsync(key + "-lock").AsTask(), "B holds the lease");

        using var waiting = new CancellationTokenSource();
        var factoryA = 0;
        var inA = cacheA.GetOrSetAsync(key, _ =>
        {
            Interlocked.Increment(ref factoryA);
            return new ValueTask<string>("from A");
        }, options, cancellationToken: waiting.Token).AsTask();
        await Task.Delay(200);
        await AssertCancelsPromptly(inA, waiting, "GetOrSetAsync waiting for a lease");
        Assert.That(await cacheA.ExistsAsync(key + "-lock"), Is.True, "B's lease stays");

        releaseB.SetResult("from B");
        Assert.That(await inB.WaitAsync(s_limit), Is.EqualTo("from B"));
        Assert.That(factoryA, Is.Zero);

        // In the factory: the factory's token is cancelled (no other caller), the lease goes with it.
        var key2 = "gos:" + NewId();
        var started = Gate();
        using var inFactory = new CancellationTokenSource();
        var inA2 = cacheA.GetOrSetAsync<string>(key2, async ct =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return "half";
        }, options, cancellationToken: inFactory.Token).AsTask();
        await started.Task.WaitAsync(s_limit);
        await AssertCancelsPromptly(inA2, inFactory, "GetOrSetAsync in the factory");
        await Until(async () => !await cacheA.ExistsAsync(key2 + "-lock"), "lease released", s_prompt);
        Assert.That(await cacheA.ExistsAsync(key2), Is.False);
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task GetOrSetAsync_without_options_a_caller_cancelled_in_the_factory_does_not_fail_a_caller_without_a_token()
    {
        var cache = Process("a");
        var key = "gos-plain:" + NewId();
        var started = Gate();
        var release = Gate<string>();
        var calls = 0;
        using var cts = new CancellationTokenSource();
        var first = cache.GetOrSetAsync(key, async ct =>
        {
            Interlocked.Increment(ref calls);
            started.TrySetResult();
            return await release.Task.WaitAsync(ct);
        }, cancellationToken: cts.Token).AsTask();
        await started.Task.WaitAsync(s_limit);
        var second = cache.GetOrSetAsync(key, _ =>
        {
            Interlocked.Increment(ref calls);
            return new ValueTask<string>("second");
        }).AsTask();
        await Task.Delay(100);
        await AssertCancelsPromptly(first, cts, "GetOrSetAsync leader in the factory");
        Assert.That(second.IsCompleted, Is.False, "the second caller waits on");
        release.SetResult("computed");
        Assert.That(await second.WaitAsync(s_limit), Is.EqualTo("computed"));
        Assert.That(calls, Is.EqualTo(1));
        await AssertNoUnobservedExceptions();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // More shapes

    [Test]
    public async Task FailSafe_with_a_last_value_a_cancelled_caller_gets_its_cancellation_and_the_last_value_is_not_made_fresh()
    {
        var (a, b, cacheA, _) = TwoProcesses();
        var id = NewId();
        a.Body = (_, _) => Task.FromResult("v1");
        Assert.That(await a.StaleAsync(id), Is.EqualTo("v1"));
        await Task.Delay(1_300); // past Ttl (1 s), within FailSafe

        var started = Gate();
        a.Body = async (_, ct) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return "half";
        };
        using var cts = new CancellationTokenSource();
        var call = a.StaleAsync(id, cts.Token);
        await started.Task.WaitAsync(s_limit);
        await AssertCancelsPromptly(call, cts, "fail-safe with a last value, in the body (before the soft timeout)");
        await Until(async () => !await cacheA.ExistsAsync("stale:" + id + "-lock"), "lease released", s_prompt);

        // The cancellation is no failure: the last value is not written back fresh for the throttle, so the next
        // call in the other process runs its body rather than hitting "v1" for 30 s.
        b.Body = (_, _) => Task.FromResult("v2");
        Assert.That(await b.StaleAsync(id).WaitAsync(s_limit), Is.EqualTo("v2"));
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task SoftTimeout_a_caller_with_a_last_value_waiting_for_another_process_s_lease_gets_the_last_value_at_the_soft_timeout()
    {
        var (a, b, cacheA, _) = TwoProcesses();
        var id = NewId();
        a.Body = (_, _) => Task.FromResult("v1");
        Assert.That(await a.StaleAsync(id), Is.EqualTo("v1"));
        await Task.Delay(1_300);

        var releaseB = Gate<string>();
        b.Body = (_, _) => releaseB.Task;
        var inB = b.StaleAsync(id);
        await Until(() => cacheA.ExistsAsync("stale:" + id + "-lock").AsTask(), "B holds the lease");
        a.Body = (_, _) => Task.FromResult("from A");
        var clock = Stopwatch.StartNew();
        using var cts = new CancellationTokenSource();
        Assert.That(await a.StaleAsync(id, cts.Token).WaitAsync(s_limit), Is.EqualTo("v1"), "the last value at the soft timeout");
        Assert.That(clock.Elapsed, Is.LessThan(s_prompt));
        Assert.That(await inB.WaitAsync(s_limit), Is.EqualTo("v1"), "B too, at its own soft timeout");
        releaseB.SetResult("v2");
        await Until(async () => await cacheA.GetOrSetAsync<string>("stale-probe-" + id, _ => new ValueTask<string>("x")) == "x" && !await cacheA.ExistsAsync("stale:" + id + "-lock"), "B finished and released", s_limit);
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task A_read_abandoned_by_its_cancelled_caller_that_later_fails_is_not_an_unobserved_task_exception([Values] bool leased)
    {
        await CancelAReadThenDropTheConnection(leased, holdAt: null);
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task A_lease_take_abandoned_by_its_cancelled_caller_that_later_fails_is_not_an_unobserved_task_exception()
    {
        await CancelAReadThenDropTheConnection(leased: true, holdAt: "-lock");
        await AssertNoUnobservedExceptions();
    }

    /// <summary>
    /// A read on the wire (held by the proxy) when its caller cancels; then the connection drops, which fails the read
    /// the caller abandoned. Everything it made is garbage once it returns (the cache and the proxy are disposed).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private async Task CancelAReadThenDropTheConnection(bool leased, string? holdAt)
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        using var cacheA = new RedisCache { ConnectionString = proxy.ConnectionString + ",name=abandon-" + _ns, Namespace = _ns, Timeout = TimeSpan.FromSeconds(10) };
        Caches.AddInstance(CancelReviewA.Alias, cacheA);
        var a = new CancelReviewA();
        await cacheA.SetAsync("warm", "x");
        var id = NewId();

        if (holdAt is null)
        {
            proxy.Hold();
        }
        else
        {
            proxy.HoldWhenSent(id + holdAt);
        }

        using var cts = new CancellationTokenSource();
        var call = leased ? a.LeasedAsync(id, cts.Token) : a.PlainAsync(id, cts.Token);
        if (holdAt is not null)
        {
            await proxy.MarkerHeld.Task.WaitAsync(s_limit);
        }

        await Task.Delay(200);
        await AssertCancelsPromptly(call, cts, holdAt is null ? "during the read" : "during the lease take");
        proxy.Cut();
        await Until(async () =>
        {
            try
            {
                await cacheA.ExistsAsync("warm");
                return false;
            }
            catch (CacheException)
            {
                return true;
            }
        }, "the client saw its connection drop");
        await Task.Delay(200);
        Caches.Reset();
    }
}
