using System.Diagnostics;
using Cached.Redis.Tests.Infrastructure;

namespace Cached.Redis.Tests;

/// <summary>Generated methods for the second cancellation review: batch, tagged and eager-refresh shapes; bodies set by the test.</summary>
public partial class CancelReview2Svc
{
    public const string Alias = "cancel-review2";

    public Func<IReadOnlyList<int>, CancellationToken, Task<Dictionary<int, string>>> BatchBody { get; set; } =
        static (ids, _) => Task.FromResult(ids.ToDictionary(static i => i, static i => "v" + i));

    public Func<int, CancellationToken, Task<string>> Body { get; set; } = static (id, _) => Task.FromResult("t-" + id);

    public Func<int, CancellationToken, Task> InvalidateBody { get; set; } = static (_, _) => Task.CompletedTask;

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60, Namespace = "cr2b")]
    public partial Task<Dictionary<int, string>> BatchAsync(IReadOnlyList<int> ids, CancellationToken ct = default);

    private Task<Dictionary<int, string>> BatchAsyncCore(IReadOnlyList<int> ids, CancellationToken ct) => BatchBody(ids, ct);

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 1, FailSafe = 600, Namespace = "cr2f")]
    public partial Task<Dictionary<int, string>> SafeBatchAsync(IReadOnlyList<int> ids, CancellationToken ct = default);

    private Task<Dictionary<int, string>> SafeBatchAsyncCore(IReadOnlyList<int> ids, CancellationToken ct) => BatchBody(ids, ct);

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60, Namespace = "cr2t", Tags = new[] { "cr2u:{ids}" })]
    public partial Task<Dictionary<int, string>> TaggedBatchAsync(IReadOnlyList<int> ids, CancellationToken ct = default);

    private Task<Dictionary<int, string>> TaggedBatchAsyncCore(IReadOnlyList<int> ids, CancellationToken ct) => BatchBody(ids, ct);

    [Cached(Alias = Alias, Key = "cr2-tagged:{id}", Ttl = 60, Tags = new[] { "cr2u:{id}" })]
    public partial Task<string> TaggedAsync(int id, CancellationToken ct = default);

    private Task<string> TaggedAsyncCore(int id, CancellationToken ct) => Body(id, ct);

    [Cached(Alias = Alias, Key = "cr2-tagged-l:{id}", Ttl = 60, Lease = 30, Tags = new[] { "cr2u:{id}" })]
    public partial Task<string> TaggedLeasedAsync(int id, CancellationToken ct = default);

    private Task<string> TaggedLeasedAsyncCore(int id, CancellationToken ct) => Body(id, ct);

    [InvalidateTags("cr2u:{id}", Alias = Alias)]
    public partial Task ChangeAsync(int id, CancellationToken ct = default);

    private Task ChangeAsyncCore(int id, CancellationToken ct) => InvalidateBody(id, ct);

    /// <summary>Fresh 3 s; a hit after 0.3 s refreshes in the background.</summary>
    [Cached(Alias = Alias, Key = "cr2-eagerl:{id}", Ttl = 3, EagerRefresh = 0.1, Lease = 30)]
    public partial Task<string> EagerLeasedAsync(int id, CancellationToken ct = default);

    private Task<string> EagerLeasedAsyncCore(int id, CancellationToken ct) => Body(id, ct);

    [Cached(Alias = Alias, Key = "cr2-eagert:{id}", Ttl = 3, EagerRefresh = 0.1, Tags = new[] { "cr2u:{id}" })]
    public partial Task<string> EagerTaggedAsync(int id, CancellationToken ct = default);

    private Task<string> EagerTaggedAsyncCore(int id, CancellationToken ct) => Body(id, ct);

    [Cached(Alias = Alias, Key = "cr2-eager:{id}", Ttl = 3, EagerRefresh = 0.1)]
    public partial Task<string> EagerAsync(int id, CancellationToken ct = default);

    private Task<string> EagerAsyncCore(int id, CancellationToken ct) => Body(id, ct);
}

/// <summary>
/// An outsider's second review of cancellation on a real Redis server: [MultiCached] batches, tags, two levels with
/// the Redis backplane, eager refresh. Races are forced with gates and the loopback proxy, not with sleeps.
/// </summary>
[NonParallelizable]
public sealed class OutsiderCancellationReview2Tests
{
    private static readonly TimeSpan s_prompt = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(20);
    private static int s_ids = Random.Shared.Next(1_000_000, 2_000_000);

    private readonly List<IDisposable> _owned = [];
    private string _ns = null!;
    private int _unobserved;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _unobservedText = new();

    [SetUp]
    public void SetUp()
    {
        Caches.Reset();
        _ns = "cr2-" + Guid.NewGuid().ToString("N")[..8];
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
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }

        _owned.Clear();
    }

    private void CountUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
    {
        var text = e.Exception.ToString();
        if (text.Contains("Infrastructure.LoopbackProxy", StringComparison.Ordinal))
        {
            return;
        }

        Interlocked.Increment(ref _unobserved);
        var inner = e.Exception.InnerException;
        var frame = text.Split('\n').Select(static l => l.Trim()).FirstOrDefault(static l => l.StartsWith("at Cached.", StringComparison.Ordinal) && !l.StartsWith("at Cached.Redis.Tests", StringComparison.Ordinal));
        _unobservedText.Enqueue($"{inner?.GetType().FullName}: {inner?.Message} [{frame}]");
    }

    private static int NewId() => Interlocked.Increment(ref s_ids);

    private T Own<T>(T item) where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }

    private RedisCache Redis(string name, string? connection = null) => Own(new RedisCache
    {
        ConnectionString = (connection ?? SharedRedis.Server.ConnectionString) + ",name=" + name + "-" + _ns,
        Namespace = _ns,
        Timeout = TimeSpan.FromSeconds(10),
    });

    private MultiLevelCache Node(string name, string? l2Connection = null, string? backplaneConnection = null) => Own(new MultiLevelCache(
        new SimpleMemoryCache(),
        Redis(name, l2Connection),
        new RedisBackplane((backplaneConnection ?? SharedRedis.Server.ConnectionString) + ",name=bp-" + name + "-" + _ns)));

    private CancelReview2Svc Service(ICache cache)
    {
        Caches.AddInstance(CancelReview2Svc.Alias, cache);
        return new CancelReview2Svc();
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

    private static async Task AssertCancelsPromptly(Task call, CancellationTokenSource cts, string where)
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

        Assert.That(clock.Elapsed, Is.LessThan(s_prompt), $"{where}: the OperationCanceledException came {clock.Elapsed.TotalMilliseconds:F0} ms after the cancel, not promptly");
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
        CollectGarbage();
        await Task.Delay(1_000);
        CollectGarbage();
        Assert.That(Volatile.Read(ref _unobserved), Is.Zero, "no unobserved task exception; seen: " + string.Join(" | ", _unobservedText));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // [MultiCached]

    [Test]
    public async Task Batch_cancelled_while_its_MGET_is_on_the_wire_leaves_promptly_and_runs_no_body([Values] bool tagged)
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var cache = Redis("batch", proxy.ConnectionString);
        var svc = Service(cache);
        await cache.SetAsync("warm", "x");
        var ids = new[] { NewId(), NewId(), NewId() };
        var bodies = 0;
        svc.BatchBody = (missing, _) =>
        {
            Interlocked.Increment(ref bodies);
            return Task.FromResult(missing.ToDictionary(static i => i, static i => "v" + i));
        };

        proxy.Hold();
        using var cts = new CancellationTokenSource();
        var call = tagged ? svc.TaggedBatchAsync(ids, cts.Token) : svc.BatchAsync(ids, cts.Token);
        await Task.Delay(200);
        try
        {
            await AssertCancelsPromptly(call, cts, "batch read on the wire");
        }
        finally
        {
            proxy.Release();
        }

        Assert.That(await cache.ExistsAsync("warm"), Is.True);
        Assert.That(bodies, Is.Zero, "a cancelled read is no miss: no body");
        Assert.That((await (tagged ? svc.TaggedBatchAsync(ids) : svc.BatchAsync(ids)).WaitAsync(s_limit)).Count, Is.EqualTo(3));
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task Batch_cancelled_in_its_body_leaves_promptly_the_body_sees_it_and_nothing_is_stored([Values] bool tagged, [Values] bool cluster)
    {
        var cache = Redis("batch", cluster ? SharedRedis.Cluster.ConnectionString : null);
        var direct = Redis("direct", cluster ? SharedRedis.Cluster.ConnectionString : null);
        var svc = Service(cache);
        var hit = NewId();
        var ids = new[] { hit, NewId(), NewId() };
        await (tagged ? svc.TaggedBatchAsync([hit]) : svc.BatchAsync([hit]));

        var started = Gate<IReadOnlyList<int>>();
        var sawCancel = Gate();
        svc.BatchBody = async (missing, ct) =>
        {
            started.TrySetResult(missing);
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                sawCancel.TrySetResult();
                throw;
            }

            return missing.ToDictionary(static i => i, static i => "half");
        };

        using var cts = new CancellationTokenSource();
        var call = tagged ? svc.TaggedBatchAsync(ids, cts.Token) : svc.BatchAsync(ids, cts.Token);
        var missing = await started.Task.WaitAsync(s_limit);
        Assert.That(missing, Is.EquivalentTo(ids.Skip(1)), "the body gets the missing keys only");
        await AssertCancelsPromptly(call, cts, "batch body");
        await sawCancel.Task.WaitAsync(s_prompt);
        var ns = tagged ? "cr2t" : "cr2b";
        foreach (var id in ids.Skip(1))
        {
            Assert.That(await direct.ExistsAsync(id.ToString(System.Globalization.CultureInfo.InvariantCulture), @namespace: _ns + ":" + ns) || await direct.ExistsAsync(id.ToString(System.Globalization.CultureInfo.InvariantCulture)), Is.False, "nothing half-made stored");
        }

        svc.BatchBody = (m, _) => Task.FromResult(m.ToDictionary(static i => i, static i => "v" + i));
        var after = await (tagged ? svc.TaggedBatchAsync(ids) : svc.BatchAsync(ids)).WaitAsync(s_limit);
        Assert.That(after.Values, Is.All.StartsWith("v"));
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task Batch_cancelled_while_its_store_is_on_the_wire_leaves_promptly([Values] bool tagged)
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var cache = Redis("batch", proxy.ConnectionString);
        var svc = Service(cache);
        await cache.SetAsync("warm", "x");
        var ids = new[] { NewId(), NewId() };
        var marker = "batch-value-" + Guid.NewGuid().ToString("N");
        svc.BatchBody = (missing, _) => Task.FromResult(missing.ToDictionary(static i => i, i => marker + i));

        proxy.HoldWhenSent(marker);
        using var cts = new CancellationTokenSource();
        var call = tagged ? svc.TaggedBatchAsync(ids, cts.Token) : svc.BatchAsync(ids, cts.Token);
        await proxy.MarkerHeld.Task.WaitAsync(s_limit);
        try
        {
            await AssertCancelsPromptly(call, cts, "batch store on the wire");
        }
        finally
        {
            proxy.Release();
        }

        Assert.That(await cache.ExistsAsync("warm"), Is.True);
        var bodies = 0;
        svc.BatchBody = (missing, _) =>
        {
            Interlocked.Increment(ref bodies);
            return Task.FromResult(missing.ToDictionary(static i => i, static i => "again"));
        };
        var after = await (tagged ? svc.TaggedBatchAsync(ids) : svc.BatchAsync(ids)).WaitAsync(s_limit);
        Assert.That(after[ids[0]], Is.EqualTo(marker + ids[0]), "the batch store, once sent, landed");
        Assert.That(bodies, Is.Zero);
        await AssertNoUnobservedExceptions();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Tags

    [Test]
    public async Task Tagged_cancelled_while_the_tag_version_read_is_on_the_wire_leaves_promptly([Values] bool leased)
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var cache = Redis("tags", proxy.ConnectionString);
        var svc = Service(cache);
        await cache.SetAsync("warm", "x");
        var id = NewId();
        var bodies = 0;
        svc.Body = (i, _) =>
        {
            Interlocked.Increment(ref bodies);
            return Task.FromResult("t-" + i);
        };

        proxy.HoldWhenSent("cr2u:" + id);
        using var cts = new CancellationTokenSource();
        var call = leased ? svc.TaggedLeasedAsync(id, cts.Token) : svc.TaggedAsync(id, cts.Token);
        await proxy.MarkerHeld.Task.WaitAsync(s_limit);
        try
        {
            await AssertCancelsPromptly(call, cts, "tag version read on the wire");
        }
        finally
        {
            proxy.Release();
        }

        Assert.That(await cache.ExistsAsync("warm"), Is.True);
        Assert.That(bodies, Is.Zero);
        if (leased)
        {
            await Until(async () => !await cache.ExistsAsync("cr2-tagged-l:" + id + "-lock"), "no lease left", s_prompt);
        }

        Assert.That(await (leased ? svc.TaggedLeasedAsync(id) : svc.TaggedAsync(id)).WaitAsync(s_limit), Is.EqualTo("t-" + id));
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task Tagged_cancelled_while_its_store_is_on_the_wire_leaves_promptly_and_an_invalidation_still_wins([Values] bool leased)
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var cache = Redis("tags", proxy.ConnectionString);
        var direct = Redis("direct");
        var svc = Service(cache);
        await cache.SetAsync("warm", "x");
        var id = NewId();
        var marker = "tagged-value-" + Guid.NewGuid().ToString("N");
        svc.Body = (_, _) => Task.FromResult(marker);

        proxy.HoldWhenSent(marker);
        using var cts = new CancellationTokenSource();
        var call = leased ? svc.TaggedLeasedAsync(id, cts.Token) : svc.TaggedAsync(id, cts.Token);
        await proxy.MarkerHeld.Task.WaitAsync(s_limit);
        try
        {
            await AssertCancelsPromptly(call, cts, "tagged store on the wire");
        }
        finally
        {
            proxy.Release();
        }

        Assert.That(await cache.ExistsAsync("warm"), Is.True);
        if (leased)
        {
            await Until(async () => !await direct.ExistsAsync("cr2-tagged-l:" + id + "-lock"), "lease released");
        }

        await direct.InvalidateTagsAsync(["cr2u:" + id]);
        svc.Body = (_, _) => Task.FromResult("after");
        Assert.That(await (leased ? svc.TaggedLeasedAsync(id) : svc.TaggedAsync(id)).WaitAsync(s_limit), Is.EqualTo("after"), "the invalidated entry misses");
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task InvalidateTagsAsync_cancelled_while_its_SET_is_on_the_wire_leaves_promptly_and_the_invalidation_lands()
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var cache = Redis("tags", proxy.ConnectionString);
        var direct = Redis("direct");
        var svc = Service(direct);
        var id = NewId();
        Assert.That(await svc.TaggedAsync(id), Is.EqualTo("t-" + id));
        await cache.SetAsync("warm", "x");

        proxy.HoldWhenSent("cr2u:" + id);
        using var cts = new CancellationTokenSource();
        var call = cache.InvalidateTagsAsync(["cr2u:" + id], cts.Token).AsTask();
        await proxy.MarkerHeld.Task.WaitAsync(s_limit);
        try
        {
            await AssertCancelsPromptly(call, cts, "tag invalidation on the wire");
        }
        finally
        {
            proxy.Release();
        }

        Assert.That(await cache.ExistsAsync("warm"), Is.True);
        svc.Body = (_, _) => Task.FromResult("after");
        Assert.That(await svc.TaggedAsync(id).WaitAsync(s_limit), Is.EqualTo("after"), "the sent invalidation landed");
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task InvalidateTags_method_cancelled_while_its_invalidation_is_on_the_wire_releases_its_caller_promptly_and_still_invalidates([Values] bool twoLevels)
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        ICache cache = twoLevels ? Node("a", proxy.ConnectionString) : Redis("tags", proxy.ConnectionString);
        var direct = Redis("direct");
        var svc = Service(cache);
        var id = NewId();
        Assert.That(await svc.TaggedAsync(id), Is.EqualTo("t-" + id));
        // The proxy watches a 256-character tail of what was sent: keep the fill's tag reads out of it.
        await cache.SetAsync("pad", new string('p', 600));

        proxy.HoldWhenSent("cr2u:" + id);
        using var cts = new CancellationTokenSource();
        var call = svc.ChangeAsync(id, cts.Token);
        await proxy.MarkerHeld.Task.WaitAsync(s_limit);
        var clock = Stopwatch.StartNew();
        cts.Cancel();
        try
        {
            // The invalidation goes on once sent (decorators.md); the caller, who cancelled, is not held for it, as
            // cache.InvalidateTagsAsync(tags, token) does not hold its caller (a passing test above).
            var ended = await Task.WhenAny(call, Task.Delay(s_limit)) == call;
            var took = clock.Elapsed;
            Assert.That(ended && took < s_prompt, Is.True, $"the cancelled caller of [InvalidateTags] ended {(ended ? $"{took.TotalMilliseconds:F0} ms" : "not within 20 s")} after its cancel ({call.Status}), with the cache's Timeout at 10 s: not promptly");
        }
        finally
        {
            proxy.Release();
        }

        try
        {
            await call.WaitAsync(s_limit);
        }
        catch (OperationCanceledException)
        {
        }

        Caches.Reset();
        var check = Service(direct);
        check.Body = (_, _) => Task.FromResult("after");
        await Until(async () => await check.TaggedAsync(id) == "after", "the invalidation landed");
        await AssertNoUnobservedExceptions();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Two levels

    [Test]
    public async Task MultiLevel_cancelled_during_the_L2_read_leaves_promptly_and_copies_nothing_into_L1()
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var node = Node("a", proxy.ConnectionString);
        var svc = Service(node);
        await node.SetAsync("warm", "x");
        var id = NewId();
        var bodies = 0;
        svc.Body = (i, _) =>
        {
            Interlocked.Increment(ref bodies);
            return Task.FromResult("t-" + i);
        };

        proxy.Hold();
        using var cts = new CancellationTokenSource();
        var call = svc.TaggedAsync(id, cts.Token);
        await Task.Delay(200);
        try
        {
            await AssertCancelsPromptly(call, cts, "two levels, L2 read on the wire");
        }
        finally
        {
            proxy.Release();
        }

        Assert.That(bodies, Is.Zero);
        Assert.That(node.IsInL1("cr2-tagged:" + id), Is.False);
        Assert.That(await svc.TaggedAsync(id).WaitAsync(s_limit), Is.EqualTo("t-" + id));
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task MultiLevel_a_cancelled_caller_of_a_fill_does_not_fail_the_other_caller_which_gets_the_value_in_L1()
    {
        var node = Node("a");
        var svc = Service(node);
        var id = NewId();
        var started = Gate();
        var release = Gate<string>();
        var calls = 0;
        svc.Body = async (_, ct) =>
        {
            Interlocked.Increment(ref calls);
            started.TrySetResult();
            return await release.Task.WaitAsync(ct);
        };

        using var cts = new CancellationTokenSource();
        var leader = svc.TaggedLeasedAsync(id, cts.Token);
        await started.Task.WaitAsync(s_limit);
        var other = svc.TaggedLeasedAsync(id);
        await Task.Delay(300);
        await AssertCancelsPromptly(leader, cts, "two levels, in the fill");
        Assert.That(other.IsCompleted, Is.False);
        release.SetResult("filled");
        Assert.That(await other.WaitAsync(s_limit), Is.EqualTo("filled"));
        Assert.That(calls, Is.EqualTo(1));
        await Until(async () => !await node.L2.ExistsAsync("cr2-tagged-l:" + id + "-lock"), "lease released");
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task MultiLevel_SetAsync_cancelled_while_its_L2_write_is_on_the_wire_leaves_promptly_and_other_nodes_drop_their_copy()
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var a = Node("a", proxy.ConnectionString);
        var b = Node("b");
        await a.SetAsync("warm", "x");
        var key = "ml-k-" + NewId();
        await b.L2.SetAsync(key, "old", TimeSpan.FromMinutes(1));
        Assert.That(await b.GetAsync<string>(key), Is.EqualTo("old"));
        Assert.That(b.IsInL1(key), Is.True);

        var marker = "new-" + Guid.NewGuid().ToString("N");
        proxy.HoldWhenSent(marker);
        using var cts = new CancellationTokenSource();
        var call = a.SetAsync(key, marker, TimeSpan.FromMinutes(1), cancellationToken: cts.Token).AsTask();
        await proxy.MarkerHeld.Task.WaitAsync(s_limit);
        try
        {
            await AssertCancelsPromptly(call, cts, "two levels, L2 write on the wire");
            await Until(() => Task.FromResult(!b.IsInL1(key)), "the other node dropped its copy on the cancel", s_prompt);
        }
        finally
        {
            proxy.Release();
        }

        await Until(async () => await b.GetAsync<string>(key) == marker, "the other node reads the write that landed");
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task MultiLevel_SetAsync_does_not_wait_for_its_backplane_publish_and_a_later_cancel_does_not_drop_the_message()
    {
        using var bpProxy = new LoopbackProxy(SharedRedis.Server.Port);
        var a = Node("a", backplaneConnection: bpProxy.ConnectionString);
        var b = Node("b");
        var key = "ml-p-" + NewId();
        await a.SetAsync("warm", "x");
        await b.L2.SetAsync(key, "old", TimeSpan.FromMinutes(1));
        Assert.That(await b.GetAsync<string>(key), Is.EqualTo("old"));
        Assert.That(b.IsInL1(key), Is.True);

        bpProxy.HoldWhenSent(key);
        using var cts = new CancellationTokenSource();
        // The write does not wait for its publish: it answers while the message is held, and a cancel after that
        // does not drop the message.
        Assert.That(await a.SetAsync(key, "new", TimeSpan.FromMinutes(1), cancellationToken: cts.Token).AsTask().WaitAsync(s_prompt), Is.True);
        await bpProxy.MarkerHeld.Task.WaitAsync(s_limit);
        cts.Cancel();
        bpProxy.Release();
        await Until(() => Task.FromResult(!b.IsInL1(key)), "the other node heard the publish");
        Assert.That(await b.GetAsync<string>(key), Is.EqualTo("new"));
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task MultiLevel_InvalidateTagsAsync_cancelled_while_L2_has_it_leaves_promptly_and_every_node_invalidates_when_it_lands()
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var a = Node("a", proxy.ConnectionString);
        var b = Node("b");
        await a.SetAsync("warm", "x");
        var id = NewId();
        var svcB = Service(b);
        Assert.That(await svcB.TaggedAsync(id), Is.EqualTo("t-" + id));

        proxy.HoldWhenSent("cr2u:" + id);
        using var cts = new CancellationTokenSource();
        var call = a.InvalidateTagsAsync(["cr2u:" + id], cts.Token).AsTask();
        await proxy.MarkerHeld.Task.WaitAsync(s_limit);
        try
        {
            await AssertCancelsPromptly(call, cts, "two levels, tag invalidation on the wire");
        }
        finally
        {
            proxy.Release();
        }

        svcB.Body = (_, _) => Task.FromResult("after");
        await Until(async () => await svcB.TaggedAsync(id) == "after", "node B reads the invalidation once L2 took it");
        await AssertNoUnobservedExceptions();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Eager refresh

    [Test]
    public async Task EagerRefresh_is_not_cancelled_by_the_token_of_the_caller_that_triggered_it()
    {
        var cache = Redis("eager");
        var svc = Service(cache);
        var id = NewId();
        svc.Body = (_, _) => Task.FromResult("v1");
        Assert.That(await svc.EagerAsync(id), Is.EqualTo("v1"));
        await Task.Delay(500); // past 0.1 × 3 s, well within the 3 s

        var started = Gate<CancellationToken>();
        var release = Gate<string>();
        svc.Body = async (_, ct) =>
        {
            started.TrySetResult(ct);
            return await release.Task.WaitAsync(ct);
        };
        using var cts = new CancellationTokenSource();
        Assert.That(await svc.EagerAsync(id, cts.Token).WaitAsync(s_prompt), Is.EqualTo("v1"), "the hit answers at once");
        var refreshToken = await started.Task.WaitAsync(s_limit);
        cts.Cancel();
        Assert.That(refreshToken.IsCancellationRequested, Is.False, "the refresh's token is not the caller's");
        release.SetResult("v2");
        await Until(async () => await cache.GetAsync<string>("cr2-eager:" + id) is not null && await svc.EagerAsync(id) == "v2", "the refresh stored v2");
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task EagerRefresh_that_fails_or_cancels_itself_is_not_an_unobserved_task_exception([Values] bool cancels)
    {
        var cache = Redis("eager");
        var svc = Service(cache);
        var id = NewId();
        svc.Body = (_, _) => Task.FromResult("v1");
        Assert.That(await svc.EagerAsync(id), Is.EqualTo("v1"));
        await Task.Delay(500);

        var ran = Gate();
        svc.Body = async (_, _) =>
        {
            ran.TrySetResult();
            await Task.Yield();
            if (cancels)
            {
                throw new OperationCanceledException("the refresh's own");
            }

            throw new InvalidOperationException("refresh failed");
        };
        using var cts = new CancellationTokenSource();
        Assert.That(await svc.EagerAsync(id, cts.Token).WaitAsync(s_prompt), Is.EqualTo("v1"));
        cts.Cancel();
        await ran.Task.WaitAsync(s_limit);
        Assert.That(await svc.EagerAsync(id).WaitAsync(s_prompt), Is.EqualTo("v1"), "the value stays");
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task EagerRefresh_with_a_lease_whose_take_is_on_the_wire_when_the_caller_cancels_still_refreshes([Values] bool tagged)
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var cache = Redis("eager", proxy.ConnectionString);
        var direct = Redis("direct");
        var svc = Service(cache);
        var id = NewId();
        svc.Body = (_, _) => Task.FromResult("v1");
        Assert.That(await (tagged ? svc.EagerTaggedAsync(id) : svc.EagerLeasedAsync(id)), Is.EqualTo("v1"));
        await Task.Delay(500);

        var refreshed = Gate<CancellationToken>();
        svc.Body = (_, ct) =>
        {
            refreshed.TrySetResult(ct);
            return Task.FromResult("v2");
        };
        // The hit's reply comes; what the refresh sends next (its lease take, or its tag reads) is held.
        var hit = tagged ? svc.EagerTaggedAsync(id, default) : default(Task<string>);
        using var cts = new CancellationTokenSource();
        if (!tagged)
        {
            // The proxy watches a 256-character tail of what was sent: push the first call's lease release out of it.
            await cache.SetAsync("pad", new string('p', 600));
            proxy.HoldWhenSent("cr2-eagerl:" + id + "-lock");
            var hitCall = svc.EagerLeasedAsync(id, cts.Token);
            Assert.That(await hitCall.WaitAsync(s_prompt), Is.EqualTo("v1"));
            await proxy.MarkerHeld.Task.WaitAsync(s_limit);
        }
        else
        {
            Assert.That(await hit!.WaitAsync(s_prompt), Is.EqualTo("v1"));
            await refreshed.Task.WaitAsync(s_limit);
            await Until(async () => await direct.GetAsync<byte[]>("cr2-eagert:" + id) is not null, "tagged entry");
            // Tagged: the hit, the refresh and its stored entry are checked above; the lease take held on the wire is
            // the plain case's.
            return;
        }

        cts.Cancel();
        proxy.Release();
        var token = await refreshed.Task.WaitAsync(s_limit);
        Assert.That(token.IsCancellationRequested, Is.False);
        await Until(async () => await svc.EagerLeasedAsync(id) == "v2", "the refresh stored v2");
        await Until(async () => !await direct.ExistsAsync("cr2-eagerl:" + id + "-lock"), "lease released");
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task Batch_a_cancelled_caller_does_not_fail_an_uncancelled_caller_of_overlapping_keys()
    {
        var cache = Redis("batch");
        var svc = Service(cache);
        var (k1, k2, k3) = (NewId(), NewId(), NewId());
        var firstIn = Gate();
        var release = Gate();
        var bodies = 0;
        svc.BatchBody = async (missing, ct) =>
        {
            if (Interlocked.Increment(ref bodies) == 1)
            {
                firstIn.TrySetResult();
                await release.Task.WaitAsync(ct);
            }

            return missing.ToDictionary(static i => i, static i => "v" + i);
        };

        using var cts = new CancellationTokenSource();
        var cancelled = svc.BatchAsync([k1, k2], cts.Token);
        await firstIn.Task.WaitAsync(s_limit);
        var other = svc.BatchAsync([k2, k3]);
        await Task.Delay(300);
        await AssertCancelsPromptly(cancelled, cts, "batch caller in its body");
        release.TrySetResult();
        var got = await other.WaitAsync(s_limit);
        Assert.That(got, Is.EquivalentTo(new Dictionary<int, string> { [k2] = "v" + k2, [k3] = "v" + k3 }));
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task Batch_on_a_server_that_does_not_answer_fails_open_at_the_cache_timeout()
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var cache = Own(new RedisCache { ConnectionString = proxy.ConnectionString + ",name=slow-" + _ns, Namespace = _ns, Timeout = TimeSpan.FromMilliseconds(500) });
        var svc = Service(cache);
        await cache.SetAsync("warm", "x");
        var ids = new[] { NewId(), NewId() };
        proxy.Hold();
        try
        {
            var clock = Stopwatch.StartNew();
            using var cts = new CancellationTokenSource();
            var got = await svc.BatchAsync(ids, cts.Token).WaitAsync(s_limit);
            Assert.That(got.Count, Is.EqualTo(2), "the body's values");
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)), "at the 0.5 s timeout (read, then store), not later");
        }
        finally
        {
            proxy.Release();
        }

        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task MultiLevel_batch_cancelled_while_its_L2_store_is_on_the_wire_leaves_promptly_and_L1_agrees_with_L2_after()
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var node = Node("a", proxy.ConnectionString);
        var svc = Service(node);
        await node.SetAsync("warm", "x");
        var ids = new[] { NewId(), NewId() };
        var marker = "mlbatch-" + Guid.NewGuid().ToString("N");
        svc.BatchBody = (missing, _) => Task.FromResult(missing.ToDictionary(static i => i, i => marker + i));
        proxy.HoldWhenSent(marker);
        using var cts = new CancellationTokenSource();
        var call = svc.TaggedBatchAsync(ids, cts.Token);
        await proxy.MarkerHeld.Task.WaitAsync(s_limit);
        try
        {
            await AssertCancelsPromptly(call, cts, "two levels, batch store on the wire");
        }
        finally
        {
            proxy.Release();
        }

        svc.BatchBody = (missing, _) => Task.FromResult(missing.ToDictionary(static i => i, static i => "again"));
        var after = await svc.TaggedBatchAsync(ids).WaitAsync(s_limit);
        Assert.That(after[ids[0]], Is.EqualTo(marker + ids[0]));
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task Batch_with_fail_safe_a_caller_cancelled_in_its_body_gets_its_cancellation_and_the_last_values_are_not_made_fresh()
    {
        var cache = Redis("batch");
        var svc = Service(cache);
        var ids = new[] { NewId(), NewId() };
        svc.BatchBody = (missing, _) => Task.FromResult(missing.ToDictionary(static i => i, static i => "v1"));
        Assert.That((await svc.SafeBatchAsync(ids)).Values, Is.All.EqualTo("v1"));
        await Task.Delay(1_300); // past Ttl (1 s), within FailSafe

        var started = Gate();
        svc.BatchBody = async (missing, ct) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return missing.ToDictionary(static i => i, static i => "half");
        };
        using var cts = new CancellationTokenSource();
        var call = svc.SafeBatchAsync(ids, cts.Token);
        await started.Task.WaitAsync(s_limit);
        await AssertCancelsPromptly(call, cts, "fail-safe batch, in the body");

        svc.BatchBody = (missing, _) => Task.FromResult(missing.ToDictionary(static i => i, static i => "v2"));
        var after = await svc.SafeBatchAsync(ids).WaitAsync(s_limit);
        Assert.That(after.Values, Is.All.EqualTo("v2"), "a cancellation is no failure: the last values were not written back fresh");
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task EagerRefresh_with_a_lease_that_fails_releases_the_lease_and_keeps_the_value()
    {
        var cache = Redis("eager");
        var svc = Service(cache);
        var id = NewId();
        svc.Body = (_, _) => Task.FromResult("v1");
        Assert.That(await svc.EagerLeasedAsync(id), Is.EqualTo("v1"));
        await Task.Delay(500);
        var ran = Gate();
        svc.Body = async (_, _) =>
        {
            ran.TrySetResult();
            await Task.Yield();
            throw new InvalidOperationException("refresh failed");
        };
        using var cts = new CancellationTokenSource();
        Assert.That(await svc.EagerLeasedAsync(id, cts.Token).WaitAsync(s_prompt), Is.EqualTo("v1"));
        cts.Cancel();
        await ran.Task.WaitAsync(s_limit);
        await Until(async () => !await cache.ExistsAsync("cr2-eagerl:" + id + "-lock"), "the refresh's lease released", s_prompt);
        Assert.That(await cache.GetAsync<string>("cr2-eagerl:" + id) is null, Is.False, "the value stays");
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task MultiLevel_tagged_read_on_an_L2_that_does_not_answer_fails_open_at_the_timeout_with_a_token_that_can_cancel()
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var node = Own(new MultiLevelCache(
            new SimpleMemoryCache(),
            Own(new RedisCache { ConnectionString = proxy.ConnectionString + ",name=slow-" + _ns, Namespace = _ns, Timeout = TimeSpan.FromMilliseconds(500) }),
            new RedisBackplane(SharedRedis.Server.ConnectionString + ",name=bp-slow-" + _ns)));
        var svc = Service(node);
        await node.SetAsync("warm", "x");
        var id = NewId();
        proxy.Hold();
        try
        {
            using var cts = new CancellationTokenSource();
            var clock = Stopwatch.StartNew();
            Assert.That(await svc.TaggedAsync(id, cts.Token).WaitAsync(s_limit), Is.EqualTo("t-" + id), "fails open: the body's value");
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)));
        }
        finally
        {
            proxy.Release();
        }

        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task A_caller_cancelled_while_the_shared_read_is_on_the_wire_does_not_fail_the_uncancelled_caller_of_the_key([Values] bool twoLevels, [Values] bool leased)
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        ICache cache = twoLevels ? Node("a", proxy.ConnectionString) : Redis("a", proxy.ConnectionString);
        var svc = Service(cache);
        await cache.SetAsync("warm", "x");
        var id = NewId();
        var bodies = 0;
        svc.Body = (i, _) =>
        {
            Interlocked.Increment(ref bodies);
            return Task.FromResult("t-" + i);
        };

        proxy.Hold();
        using var cts = new CancellationTokenSource();
        var first = leased ? svc.TaggedLeasedAsync(id, cts.Token) : svc.TaggedAsync(id, cts.Token);
        var second = leased ? svc.TaggedLeasedAsync(id) : svc.TaggedAsync(id);
        await Task.Delay(300);
        try
        {
            await AssertCancelsPromptly(first, cts, "the first caller, its read on the wire");
            await Task.Delay(200);
            Assert.That(second.IsFaulted || second.IsCanceled, Is.False, $"the uncancelled caller was not failed by the other's cancel ({second.Status}: {second.Exception?.InnerException?.Message})");
        }
        finally
        {
            proxy.Release();
        }

        Assert.That(await second.WaitAsync(s_limit), Is.EqualTo("t-" + id));
        Assert.That(bodies, Is.EqualTo(1));
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task Batch_a_caller_cancelled_while_its_MGET_is_on_the_wire_does_not_fail_an_uncancelled_caller_of_the_same_keys([Values] bool twoLevels)
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        ICache cache = twoLevels ? Node("a", proxy.ConnectionString) : Redis("a", proxy.ConnectionString);
        var svc = Service(cache);
        await cache.SetAsync("warm", "x");
        var ids = new[] { NewId(), NewId() };
        proxy.Hold();
        using var cts = new CancellationTokenSource();
        var first = svc.TaggedBatchAsync(ids, cts.Token);
        var second = svc.TaggedBatchAsync(ids);
        await Task.Delay(300);
        try
        {
            await AssertCancelsPromptly(first, cts, "batch, MGET on the wire");
            await Task.Delay(200);
            Assert.That(second.IsFaulted || second.IsCanceled, Is.False, $"the uncancelled batch was not failed ({second.Status})");
        }
        finally
        {
            proxy.Release();
        }

        Assert.That((await second.WaitAsync(s_limit)).Count, Is.EqualTo(2));
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task InvalidateTagsAsync_with_a_token_already_cancelled_returns_a_cancelled_task_and_invalidates_nothing([Values] bool twoLevels)
    {
        ICache cache = twoLevels ? Node("a") : Redis("a");
        var svc = Service(cache);
        var id = NewId();
        Assert.That(await svc.TaggedAsync(id), Is.EqualTo("t-" + id));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var task = cache.InvalidateTagsAsync(["cr2u:" + id], cts.Token);
        Assert.That(task.IsCanceled, Is.True, "a cancelled task");
        svc.Body = (_, _) => Task.FromResult("after");
        Assert.That(await svc.TaggedAsync(id), Is.EqualTo("t-" + id), "nothing invalidated");
    }

    [Test]
    public async Task EagerRefresh_on_two_levels_is_not_cancelled_by_the_caller_and_reaches_L1()
    {
        var node = Node("a");
        var svc = Service(node);
        var id = NewId();
        svc.Body = (_, _) => Task.FromResult("v1");
        Assert.That(await svc.EagerTaggedAsync(id), Is.EqualTo("v1"));
        await Task.Delay(500);
        var started = Gate<CancellationToken>();
        var release = Gate<string>();
        svc.Body = async (_, ct) =>
        {
            started.TrySetResult(ct);
            return await release.Task.WaitAsync(ct);
        };
        using var cts = new CancellationTokenSource();
        Assert.That(await svc.EagerTaggedAsync(id, cts.Token).WaitAsync(s_prompt), Is.EqualTo("v1"));
        var token = await started.Task.WaitAsync(s_limit);
        cts.Cancel();
        Assert.That(token.IsCancellationRequested, Is.False);
        release.SetResult("v2");
        await Until(async () => await svc.EagerTaggedAsync(id) == "v2", "the refresh stored v2");
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task MultiLevel_a_write_cancelled_on_the_wire_tells_the_other_nodes_again_when_it_lands([Values("set", "delete", "tags")] string kind)
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var a = Node("a", proxy.ConnectionString);
        var b = Node("b");
        await a.SetAsync("warm", "x");
        var id = NewId();
        var key = "ml-again-" + id;
        var svcB = Service(b);
        if (kind == "tags")
        {
            key = "cr2-tagged:" + id;
            Assert.That(await svcB.TaggedAsync(id), Is.EqualTo("t-" + id));
        }
        else
        {
            await b.L2.SetAsync(key, "old", TimeSpan.FromMinutes(1));
            Assert.That(await b.GetAsync<string>(key), Is.EqualTo("old"));
        }

        Assert.That(b.IsInL1(key), Is.True, "B holds a copy");
        // The proxy watches a 256-character tail of what was sent: keep earlier commands out of it.
        await a.L2.SetAsync("pad", new string('p', 600));
        var marker = kind == "tags" ? "cr2u:" + id : key;
        proxy.HoldWhenSent(marker);
        using var cts = new CancellationTokenSource();
        var call = kind switch
        {
            "set" => a.SetAsync(key, "new", TimeSpan.FromMinutes(1), cancellationToken: cts.Token).AsTask(),
            "delete" => a.DeleteAsync(key, cancellationToken: cts.Token).AsTask(),
            _ => a.InvalidateTagsAsync(["cr2u:" + id], cts.Token).AsTask(),
        };
        await proxy.MarkerHeld.Task.WaitAsync(s_limit);
        try
        {
            await AssertCancelsPromptly(call, cts, kind + " on the wire");
            // tags.md promises the invalidation of the L1s when L2 takes it, not at the cancel; a write (multilevel.md) both.
            if (kind != "tags")
            {
                await Until(() => Task.FromResult(!b.IsInL1(key)), "B dropped its copy on the cancel", s_prompt);
            }

            // B reads L2 again before the write lands: the old value comes back into its L1.
            if (kind == "tags")
            {
                Assert.That(await svcB.TaggedAsync(id), Is.EqualTo("t-" + id));
            }
            else
            {
                Assert.That(await b.GetAsync<string>(key), Is.EqualTo("old"));
            }

            Assert.That(b.IsInL1(key), Is.True, "B copied the old value again");
        }
        finally
        {
            proxy.Release();
        }

        Assert.That(await a.L2.ExistsAsync("warm"), Is.True, "the held write reached the server");
        svcB.Body = (_, _) => Task.FromResult("after");
        var expected = kind switch { "set" => "new", "delete" => null, _ => "after" };
        await Until(async () => (kind == "tags" ? await svcB.TaggedAsync(id) : await b.GetAsync<string>(key)) == expected, "B reads what landed, not its older copy");
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task EagerRefresh_running_when_its_cache_is_disposed_gets_its_token_cancelled_and_throws_nothing_unobserved()
    {
        var cache = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString + ",name=eager-dispose-" + _ns, Namespace = _ns, Timeout = TimeSpan.FromSeconds(10) };
        var svc = Service(cache);
        var id = NewId();
        svc.Body = (_, _) => Task.FromResult("v1");
        Assert.That(await svc.EagerLeasedAsync(id), Is.EqualTo("v1"));
        await Task.Delay(500);
        var started = Gate<CancellationToken>();
        var ended = Gate<Exception?>();
        svc.Body = async (_, ct) =>
        {
            started.TrySetResult(ct);
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
                ended.TrySetResult(null);
                return "never";
            }
            catch (Exception ex)
            {
                ended.TrySetResult(ex);
                throw;
            }
        };
        using var cts = new CancellationTokenSource();
        Assert.That(await svc.EagerLeasedAsync(id, cts.Token).WaitAsync(s_prompt), Is.EqualTo("v1"));
        cts.Cancel();
        var token = await started.Task.WaitAsync(s_limit);
        Assert.That(token.IsCancellationRequested, Is.False, "the caller's cancel does not reach the refresh");
        Caches.Reset();
        cache.Dispose();
        Assert.That(await ended.Task.WaitAsync(s_limit), Is.InstanceOf<OperationCanceledException>(), "the dispose cancelled the refresh");
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task MultiLevel_a_leader_cancelled_while_its_fill_is_stored_does_not_fail_its_passenger_and_both_levels_agree()
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var a = Node("a", proxy.ConnectionString);
        var b = Node("b");
        var svc = Service(a);
        await a.SetAsync("warm", "x");
        var id = NewId();
        var marker = "fill-" + Guid.NewGuid().ToString("N");
        var entered = Gate();
        var release = Gate();
        var calls = 0;
        svc.Body = async (_, _) =>
        {
            Interlocked.Increment(ref calls);
            entered.TrySetResult();
            await release.Task;
            return marker;
        };
        using var cts = new CancellationTokenSource();
        var leader = svc.TaggedLeasedAsync(id, cts.Token);
        await entered.Task.WaitAsync(s_limit);
        var passenger = svc.TaggedLeasedAsync(id);
        await Task.Delay(300);
        proxy.HoldWhenSent(marker);
        release.SetResult();
        await proxy.MarkerHeld.Task.WaitAsync(s_limit);
        try
        {
            await AssertCancelsPromptly(leader, cts, "two levels, the fill's store on the wire");
            await Task.Delay(200);
            Assert.That(passenger.IsFaulted || passenger.IsCanceled, Is.False, $"the passenger is not failed ({passenger.Status})");
        }
        finally
        {
            proxy.Release();
        }

        Assert.That(await passenger.WaitAsync(s_limit), Is.EqualTo(marker));
        Assert.That(calls, Is.EqualTo(1));
        Caches.Reset();
        var svcB = Service(b);
        svcB.Body = (_, _) => Task.FromResult("b-computed");
        Assert.That(await svcB.TaggedLeasedAsync(id).WaitAsync(s_limit), Is.EqualTo(marker), "L2 holds the fill");
        await Until(async () => !await b.L2.ExistsAsync("cr2-tagged-l:" + id + "-lock"), "lease released");
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task On_a_server_that_does_not_answer_with_a_token_that_can_cancel_the_timeout_still_bounds_the_wait([Values("invalidate", "tagged-leased", "batch-tagged")] string what)
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var cache = Own(new RedisCache { ConnectionString = proxy.ConnectionString + ",name=slow-" + _ns, Namespace = _ns, Timeout = TimeSpan.FromMilliseconds(500) });
        var svc = Service(cache);
        await cache.SetAsync("warm", "x");
        var id = NewId();
        proxy.Hold();
        try
        {
            using var cts = new CancellationTokenSource();
            var clock = Stopwatch.StartNew();
            Exception? error = null;
            try
            {
                switch (what)
                {
                    case "invalidate":
                        await cache.InvalidateTagsAsync(["cr2u:" + id], cts.Token).AsTask().WaitAsync(s_limit);
                        break;
                    case "tagged-leased":
                        Assert.That(await svc.TaggedLeasedAsync(id, cts.Token).WaitAsync(s_limit), Is.EqualTo("t-" + id), "fails open");
                        break;
                    default:
                        Assert.That((await svc.TaggedBatchAsync([id, id + 1], cts.Token).WaitAsync(s_limit)).Count, Is.EqualTo(2), "fails open");
                        break;
                }
            }
            catch (Exception ex) when (ex is not AssertionException)
            {
                error = ex;
            }

            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)), $"bounded by the 0.5 s timeout (each step), took {clock.Elapsed.TotalMilliseconds:F0} ms");
            if (what == "invalidate")
            {
                Assert.That(error, Is.Not.Null.And.Not.InstanceOf<OperationCanceledException>(), $"a timeout or cache fault, not the caller's cancellation ({error?.GetType().Name})");
            }
            else
            {
                Assert.That(error, Is.Null, $"fails open ({error?.GetType().Name}: {error?.Message})");
            }
        }
        finally
        {
            proxy.Release();
        }

        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task Tagged_leased_a_caller_waiting_for_another_process_s_lease_leaves_promptly_and_leaves_the_lease()
    {
        var cacheA = Redis("a");
        var cacheB = Redis("b");
        Caches.AddInstance(CancelReview2Svc.Alias, cacheA);
        var a = new CancelReview2Svc();
        var id = NewId();
        var releaseB = Gate<string>();
        var inB = cacheB.GetOrSetAsync("cr2-tagged-l:" + id, _ => new ValueTask<string>(releaseB.Task),
            new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), Lease = TimeSpan.FromSeconds(30), Tags = ["cr2u:" + id] }).AsTask();
        await Until(() => cacheA.ExistsAsync("cr2-tagged-l:" + id + "-lock").AsTask(), "B holds the lease");
        var bodies = 0;
        a.Body = (_, _) =>
        {
            Interlocked.Increment(ref bodies);
            return Task.FromResult("from A");
        };
        using var cts = new CancellationTokenSource();
        var inA = a.TaggedLeasedAsync(id, cts.Token);
        await Task.Delay(300);
        await AssertCancelsPromptly(inA, cts, "tagged, waiting for another process's lease");
        Assert.That(await cacheA.ExistsAsync("cr2-tagged-l:" + id + "-lock"), Is.True, "B's lease stays");
        releaseB.SetResult("from B");
        Assert.That(await inB.WaitAsync(s_limit), Is.EqualTo("from B"));
        Assert.That(await a.TaggedLeasedAsync(id).WaitAsync(s_limit), Is.EqualTo("from B"));
        Assert.That(bodies, Is.Zero);
        await AssertNoUnobservedExceptions();
    }

    [Test]
    public async Task A_read_abandoned_by_its_cancelled_caller_that_later_fails_is_not_an_unobserved_task_exception([Values("batch", "batch-tagged", "tagged", "ml-tagged", "ml-batch", "invalidate", "ml-set")] string shape)
    {
        await CancelThenDropTheConnection(shape);
        await AssertNoUnobservedExceptions();
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private async Task CancelThenDropTheConnection(string shape)
    {
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        var redis = new RedisCache { ConnectionString = proxy.ConnectionString + ",name=abandon-" + _ns, Namespace = _ns, Timeout = TimeSpan.FromSeconds(10) };
        ICache cache = shape.StartsWith("ml", StringComparison.Ordinal)
            ? new MultiLevelCache(new SimpleMemoryCache(), redis, new RedisBackplane(SharedRedis.Server.ConnectionString + ",name=bp-abandon-" + _ns))
            : redis;
        try
        {
            var svc = Service(cache);
            await cache.SetAsync("warm", "x");
            var id = NewId();
            proxy.Hold();
            using var cts = new CancellationTokenSource();
            Task call = shape switch
            {
                "batch" => svc.BatchAsync([id, id + 1], cts.Token),
                "batch-tagged" or "ml-batch" => svc.TaggedBatchAsync([id, id + 1], cts.Token),
                "invalidate" => cache.InvalidateTagsAsync(["cr2u:" + id], cts.Token).AsTask(),
                "ml-set" => cache.SetAsync("k" + id, "v", cancellationToken: cts.Token).AsTask(),
                _ => svc.TaggedAsync(id, cts.Token),
            };
            await Task.Delay(200);
            await AssertCancelsPromptly(call, cts, shape + ", on the wire");
            proxy.Cut();
            await Until(async () =>
            {
                try
                {
                    await redis.ExistsAsync("warm");
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
        finally
        {
            cache.Dispose();
            redis.Dispose();
        }
    }
}
