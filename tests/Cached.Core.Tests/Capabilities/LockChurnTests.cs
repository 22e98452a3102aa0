using System.Collections.Concurrent;
using Cached.Runtime;
using Cached.Serializers;
using Cached.Tests.Runtime;

namespace Cached.Tests.Capabilities;

/// <summary>
/// A lock that other callers release and take again between the two steps of one attempt (take, then look whether a
/// lock token is there) is a busy lock, not a value named like a lock: the attempt must not give up at once. The
/// backend below lets the test play those other callers at exact points of the attempt, as other processes would on
/// a busy Redis (RedLock_admits_one_holder_at_a_time_under_contention shows it happen there by itself).
/// </summary>
public sealed class LockChurnTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);

    [Test]
    public async Task A_RedLock_whose_lock_is_released_and_taken_again_mid_attempt_waits_and_takes_it([Values] bool sync)
    {
        using var cache = new ChurningLockBackend();
        var holder = new RedLock(cache, "k", TimeSpan.FromMinutes(10));
        Assert.That(holder.IsAcquired, Is.True);
        cache.ChurnNextAttempt(releaseFirst: holder);

        var contender = sync
            ? await Task.Run(() => new RedLock(cache, "k", TimeSpan.FromMinutes(10))).WaitAsync(s_limit)
            : await RedLock.AcquireAsync(cache, "k", TimeSpan.FromMinutes(10)).AsTask().WaitAsync(s_limit);

        Assert.That(cache.Churned, Is.True, "the holder released, a third caller took and released the lock mid-attempt");
        Assert.That(contender.IsAcquired, Is.True, "the lock is free once the churn is over: the caller takes it rather than go on without it, one lease early");
        Assert.That(cache.HoldsLock("k-lock"), Is.True);
    }

    [Test]
    public async Task A_lease_whose_lock_is_released_and_taken_again_mid_attempt_reads_the_value_rather_than_run_the_body()
    {
        using var cache = new ChurningLockBackend();
        var holder = new RedLock(cache, "k", TimeSpan.FromMinutes(10));
        // The third caller stores the value before it releases, as a leader in another process does.
        cache.ChurnNextAttempt(releaseFirst: holder, storeBeforeRelease: ("k", "from another process"));
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = "Test.Churn", CacheFactory = () => cache, Lease = 600 });
        var calls = new Calls();

        var result = await method.InvokeAsync("k", calls, static (c, _) =>
        {
            c.Increment();
            return new ValueTask<string>("computed here");
        }, null, CancellationToken.None).AsTask().WaitAsync(s_limit);

        Assert.That(cache.Churned, Is.True);
        Assert.That(result, Is.EqualTo("from another process"));
        Assert.That(calls.Count, Is.Zero, "the body ran although another process had just computed the value");
    }

    /// <summary>
    /// An in-memory backend whose lock takes (<c>AddEntry</c>) can be interleaved: after the next failed take, the
    /// holder releases; before the take after that, a third caller takes the lock; after it, that caller releases.
    /// </summary>
    private sealed class ChurningLockBackend : BaseCache
    {
        private readonly ConcurrentDictionary<string, object?> _store = new(StringComparer.Ordinal);
        private RedLock? _releaseFirst;
        private (string Key, object Value)? _store3rd;
        private int _step = -1;

        public bool Churned { get; private set; }

        protected override bool StoresReferences => true;

        protected override ISerializer CreateDefaultSerializer() => NullSerializer.Instance;

        public void ChurnNextAttempt(RedLock releaseFirst, (string Key, object Value)? storeBeforeRelease = null)
        {
            _releaseFirst = releaseFirst;
            _store3rd = storeBeforeRelease;
            _step = 0;
        }

        public bool HoldsLock(string key) => _store.TryGetValue(key, out var v) && v is string s && Guid.TryParse(s, out _);

        protected override bool AddEntry(string key, string? @namespace, object? payload, TimeSpan? ttl)
        {
            if (_step == 1 && key.EndsWith("-lock", StringComparison.Ordinal))
            {
                // A third caller takes the lock the holder just released...
                _store[key] = Guid.NewGuid().ToString("D");
                var added = _store.TryAdd(key, payload);
                // ...and, its work done, releases it.
                if (_store3rd is { } value)
                {
                    _store[BuildKey(value.Key)] = value.Value;
                }

                _store.TryRemove(key, out _);
                _step = -1;
                Churned = true;
                return added;
            }

            var taken = _store.TryAdd(key, payload);
            if (_step == 0 && !taken && key.EndsWith("-lock", StringComparison.Ordinal))
            {
                // The holder releases right after this failed take.
                _step = 1;
                _releaseFirst!.Dispose();
            }

            return taken;
        }

        protected override CacheResult<object?> GetEntry(string key)
            => _store.TryGetValue(key, out var value) ? CacheResult<object?>.Hit(value) : CacheResult<object?>.Miss;

        protected override bool SetEntry(string key, string? @namespace, object? payload, TimeSpan? ttl)
        {
            _store[key] = payload;
            return true;
        }

        protected override bool ContainsEntry(string key) => _store.ContainsKey(key);

        protected override long IncrementEntry(string key, string? @namespace, long delta) => throw new NotSupportedException();

        protected override int RemoveEntry(string key) => _store.TryRemove(key, out _) ? 1 : 0;

        protected override bool ClearEntries(string? @namespace)
        {
            _store.Clear();
            return true;
        }

        protected override bool ExpireEntry(string key, TimeSpan? ttl) => _store.ContainsKey(key);

        protected override object? ExecuteRaw(string command, object?[] args) => null;

        protected override bool SupportsConditionalOperations => true;

        protected override bool RemoveEntryIfEquals(string key, object? expected)
            => _store.TryRemove(new KeyValuePair<string, object?>(key, expected));

        protected override object? GetEntryVersion(string key) => _store.TryGetValue(key, out var value) ? value : null;

        protected override CacheResult<object?> SetEntryIfVersion(string key, string? @namespace, object? version, object? payload, TimeSpan? ttl)
            => (version is null ? _store.TryAdd(key, payload) : _store.TryUpdate(key, payload, version)) ? CacheResult<object?>.Hit(payload) : CacheResult<object?>.Miss;
    }
}
