using Cached.Resilience;

namespace Cached.Tests.Resilience;

/// <summary>EagerRefresh: a hit late in the entry's life refreshes it in the background, once, and returns at once.</summary>
public sealed class EagerRefreshTests : ResilienceFixture
{
    private static readonly CacheEntryOptions s_eager = new() { Ttl = TimeSpan.FromSeconds(10), EagerRefresh = 0.8 };

    [Test]
    public async Task A_hit_before_the_refresh_point_does_not_refresh([Values] bool async)
    {
        var calls = 0;
        await Get(async, () => ++calls);
        Time.Advance(TimeSpan.FromSeconds(7.9));

        Assert.That(await Get(async, () => ++calls), Is.EqualTo(1));
        await Task.Delay(50);
        Assert.That(calls, Is.EqualTo(1));
    }

    [Test]
    public async Task A_hit_past_the_refresh_point_returns_at_once_and_one_refresh_runs_in_the_background([Values] bool async)
    {
        await Get(async, () => 1);
        Time.Advance(TimeSpan.FromSeconds(8));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        async ValueTask<int> Refresh(CancellationToken _)
        {
            Interlocked.Increment(ref calls);
            await release.Task;
            return 2;
        }

        for (var i = 0; i < 20; i++)
        {
            var hit = async ? await Cache.GetOrSetAsync("k", Refresh, s_eager) : Cache.GetOrSet("k", ct => Refresh(ct).AsTask().GetAwaiter().GetResult(), s_eager);
            Assert.That(hit, Is.EqualTo(1), "the current value, without waiting for the refresh");
        }

        await WaitUntil(() => Volatile.Read(ref calls) == 1);
        release.SetResult();
        await WaitUntil(() => Cache.Get<int>("k") == 2);
        Assert.That(calls, Is.EqualTo(1), "one refresh for twenty late hits");
        Time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.That(await Get(async, () => 3), Is.EqualTo(2), "the refresh gave the entry a whole new life");
    }

    [Test]
    public async Task A_failing_refresh_is_logged_and_counted_and_the_entry_stays_until_it_expires()
    {
        await Get(async: true, () => 1);
        Time.Advance(TimeSpan.FromSeconds(9));

        Assert.That(Cache.GetOrSet<int>("k", _ => throw new InvalidOperationException("source down"), s_eager), Is.EqualTo(1));

        await WaitUntil(() => Logs.Entries.Any(static e => e.EventId == 8));
        var entry = Logs.Entries.Single(static e => e.EventId == 8);
        Assert.That(entry.Exception, Is.InstanceOf<InvalidOperationException>());
        Assert.That(entry.Message, Does.Contain("'k'"));
        Assert.That(Cache.Get<int>("k"), Is.EqualTo(1));
    }

    [Test]
    public async Task A_fail_safe_throttle_starts_no_refresh()
    {
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), EagerRefresh = 0.5, FailSafe = TimeSpan.FromSeconds(60), FailSafeThrottle = TimeSpan.FromSeconds(5) };
        await Cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), options);
        Time.Advance(TimeSpan.FromSeconds(11));
        var calls = 0;
        int Failing(CancellationToken _)
        {
            Interlocked.Increment(ref calls);
            throw new InvalidOperationException("source down");
        }

        Assert.That(Cache.GetOrSet("k", Failing, options), Is.EqualTo(1));
        Time.Advance(TimeSpan.FromSeconds(4));
        Assert.That(Cache.GetOrSet("k", Failing, options), Is.EqualTo(1));
        await Task.Delay(100);

        Assert.That(calls, Is.EqualTo(1), "the throttled value is past half its short life, but refreshing it would hammer the source");
    }

    [Test]
    public async Task Eager_refreshes_are_bounded_beyond_the_limit_they_are_skipped()
    {
        var keys = BackgroundWork.Limit + 10;
        for (var i = 0; i < keys; i++)
        {
            await Cache.GetOrSetAsync("k" + i, _ => new ValueTask<int>(1), s_eager);
        }

        Time.Advance(TimeSpan.FromSeconds(9));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = 0;
        for (var i = 0; i < keys; i++)
        {
            await Cache.GetOrSetAsync("k" + i, async _ =>
            {
                Interlocked.Increment(ref started);
                await release.Task;
                return 2;
            }, s_eager);
        }

        await WaitUntil(() => Volatile.Read(ref started) == BackgroundWork.Limit);
        await Task.Delay(100);
        Assert.That(started, Is.EqualTo(BackgroundWork.Limit));
        release.SetResult();
    }

    [Test]
    public async Task Disposing_the_cache_cancels_a_running_refresh_and_starts_no_more()
    {
        await Get(async: true, () => 1);
        Time.Advance(TimeSpan.FromSeconds(9));
        var token = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        await Cache.GetOrSetAsync("k", async ct =>
        {
            token.SetResult(ct);
            await Task.Delay(Timeout.Infinite, ct);
            return 2;
        }, s_eager);
        var running = await token.Task.WaitAsync(Limit);

        Cache.Dispose();

        await WaitUntil(() => running.IsCancellationRequested);
        var calls = 0;
        Cache.GetOrSet("k", _ => ++calls, s_eager);
        await Task.Delay(50);
        Assert.That(calls, Is.Zero, "a disposed cache starts no background work");
        Assert.That(Logs.Entries.Where(static e => e.EventId == 8), Is.Empty, "a cancelled refresh did not fail");
    }

    private ValueTask<int> Get(bool async, Func<int> factory)
        => async
            ? Cache.GetOrSetAsync("k", _ => new ValueTask<int>(factory()), s_eager)
            : new ValueTask<int>(Cache.GetOrSet("k", _ => factory(), s_eager));

    [Test]
    public async Task A_refresh_whose_lease_faults_runs_without_it_and_fails_nobody([Values] bool async)
    {
        // Regression: a fault while taking an eager refresh's lease failed the refresh's flight with the cache's
        // exception, which callers boarding that flight then saw: a cache fault must never fail a call.
        using var cache = new LockFailingCache { TimeProvider = Time };
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), EagerRefresh = 0.5, Lease = TimeSpan.FromSeconds(5) };
        cache.GetOrSet("k", _ => 1, options);
        Time.Advance(TimeSpan.FromSeconds(6));
        cache.FailLocks = true;
        var calls = 0;

        var hit = async
            ? await cache.GetOrSetAsync("k", _ => new ValueTask<int>(Interlocked.Increment(ref calls) + 1), options)
            : cache.GetOrSet("k", _ => Interlocked.Increment(ref calls) + 1, options);

        Assert.That(hit, Is.EqualTo(1));
        await WaitUntil(() => cache.Get<int>("k") == 2);
        Assert.That(calls, Is.EqualTo(1), "the refresh ran without its lease");
        Assert.That(Logs.Entries.Select(static e => e.EventId), Does.Contain(3).And.Not.Contain(8), "the lease fault logged; no failed refresh");
    }

    /// <summary>A dictionary backend whose locks (Add) fault on demand.</summary>
    private sealed class LockFailingCache : BaseCache
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, object?> _entries = new();

        public bool FailLocks { get; set; }

        protected override bool StoresReferences => true;

        protected override CacheResult<object?> GetEntry(string key)
            => _entries.TryGetValue(key, out var payload) ? CacheResult<object?>.Hit(payload) : CacheResult<object?>.Miss;

        protected override bool AddEntry(string key, string? @namespace, object? payload, TimeSpan? ttl)
            => FailLocks ? throw new CacheException("locks are down") : _entries.TryAdd(key, payload);

        protected override bool SetEntry(string key, string? @namespace, object? payload, TimeSpan? ttl)
        {
            _entries[key] = payload;
            return true;
        }

        protected override bool ContainsEntry(string key) => _entries.ContainsKey(key);

        protected override long IncrementEntry(string key, string? @namespace, long delta) => throw new NotSupportedException();

        protected override int RemoveEntry(string key) => _entries.TryRemove(key, out _) ? 1 : 0;

        protected override bool ClearEntries(string? @namespace)
        {
            _entries.Clear();
            return true;
        }

        protected override bool ExpireEntry(string key, TimeSpan? ttl) => _entries.ContainsKey(key);

        protected override object? ExecuteRaw(string command, object?[] args) => null;
    }
}
