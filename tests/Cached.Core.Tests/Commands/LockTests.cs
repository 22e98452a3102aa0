using Cached.Tests.Backends;

namespace Cached.Tests.Commands;

/// <summary>RedLock and OptimisticLock (aiocache-semantics.md checks 115-126), on every backend.</summary>
[TestFixtureSource(typeof(Backends.Backends), nameof(Backends.Backends.All))]
public sealed class LockTests(CacheBackend backend) : CommandFixture(backend)
{
    private static readonly TimeSpan s_lease = TimeSpan.FromSeconds(5);

    [Test]
    public void RedLock_stores_a_token_under_key_lock_with_the_lease_and_deletes_it_on_release()
    {
        using (var held = new RedLock(Cache, "key", s_lease))
        {
            Assert.That(held.IsAcquired, Is.True);
            Assert.That(Cache.Exists("key-lock"), Is.True, "the lock lives under build_key(key + '-lock')");
        }

        Assert.That(Cache.Exists("key-lock"), Is.False);
    }

    [Test]
    public async Task A_value_stored_under_key_lock_is_not_a_lock_so_RedLock_goes_on_at_once_and_leaves_it()
    {
        Cache.Set("key-lock", "a value named like a lock");

        // A lease of ten minutes: waiting it out would outlast the test's limit.
        await using var redLock = await RedLock.AcquireAsync(Cache, "key", TimeSpan.FromMinutes(10)).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.That(redLock.IsAcquired, Is.False, "nobody holds the lock, and it cannot be taken without overwriting the value");
        Assert.That(Cache.Get<string>("key-lock"), Is.EqualTo("a value named like a lock"));
    }

    [Test]
    public async Task RedLock_is_exclusive_until_its_owner_releases_it()
    {
        var first = await RedLock.AcquireAsync(Cache, "key", s_lease);
        var second = RedLock.AcquireAsync(Cache, "key", s_lease).AsTask();
        await Task.Delay(200);
        Assert.That(second.IsCompleted, Is.False, "the second caller waits while the lock is held");

        await first.DisposeAsync();
        await using var acquired = await second.WaitAsync(TimeSpan.FromSeconds(3));

        Assert.That(acquired.IsAcquired, Is.True, "the waiter takes the lock once it is released");
    }

    [Test]
    public async Task A_lease_shorter_than_the_work_lets_a_waiter_through_without_deadlock()
    {
        using var holder = new RedLock(Cache, "key", TimeSpan.FromMilliseconds(300));
        var waiter = Task.Run(() => new RedLock(Cache, "key", s_lease));

        Backend.Advance(TimeSpan.FromMilliseconds(500));
        using var through = await waiter.WaitAsync(TimeSpan.FromSeconds(3));

        Assert.That(holder.IsAcquired, Is.True);
        Assert.That(through.IsAcquired, Is.True, "the holder's lease ran out, so the waiter took the lock");
    }

    [Test]
    public void Releasing_a_lock_that_expired_and_was_taken_by_another_leaves_it_to_them()
    {
        var stale = new RedLock(Cache, "key", TimeSpan.FromMilliseconds(200));
        Backend.Advance(TimeSpan.FromMilliseconds(400));
        using var owner = new RedLock(Cache, "key", s_lease);
        Assert.That(owner.IsAcquired, Is.True);

        stale.Dispose();

        Assert.That(Cache.Exists("key-lock"), Is.True, "only the owner's token releases the lock");
    }

    [Test]
    public async Task An_exception_inside_the_lock_propagates_and_releases_it()
    {
        Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var held = await RedLock.AcquireAsync(Cache, "key", s_lease);
            throw new InvalidOperationException("inside");
        });

        await using var again = await RedLock.AcquireAsync(Cache, "key", s_lease).AsTask().WaitAsync(TimeSpan.FromSeconds(1));
        Assert.That(again.IsAcquired, Is.True);
    }

    [Test]
    public async Task Concurrent_callers_that_get_or_compute_under_the_lock_compute_once()
    {
        var computed = 0;
        async Task<string> GetOrCompute()
        {
            var hit = await Cache.TryGetAsync<string>("value");
            if (hit.Found)
            {
                return hit.Value!;
            }

            await using var held = await RedLock.AcquireAsync(Cache, "value", s_lease);
            hit = await Cache.TryGetAsync<string>("value");
            if (hit.Found)
            {
                return hit.Value!;
            }

            Interlocked.Increment(ref computed);
            await Task.Delay(100);
            await Cache.SetAsync("value", "computed");
            return "computed";
        }

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(GetOrCompute)));

        Assert.That(results, Is.All.EqualTo("computed"));
        Assert.That(computed, Is.EqualTo(1));
    }

    [Test]
    public void RedLock_refuses_a_bad_lease_or_key()
    {
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new RedLock(Cache, "key", TimeSpan.Zero))!.ParamName, Is.EqualTo("lease"));
        Assert.Throws<ArgumentException>(() => _ = new RedLock(Cache, string.Empty, s_lease));
    }

    [Test]
    public void OptimisticLock_writes_when_nobody_changed_the_key()
    {
        Cache.Set("key", "value");
        using var lck = new OptimisticLock(Cache, "key");

        Assert.That(lck.Cas("new_value"), Is.True);
        Assert.That(Cache.Get<string>("key"), Is.EqualTo("new_value"));
        Assert.That(lck.Cas("third"), Is.True, "its own write is the new version");
    }

    [Test]
    public async Task OptimisticLock_loses_to_a_concurrent_writer_and_writes_nothing()
    {
        Cache.Set("key", "value");
        await using var lck = await OptimisticLock.AcquireAsync(Cache, "key");
        await Cache.SetAsync("key", "concurrent");

        var error = Assert.ThrowsAsync<OptimisticLockException>(async () => await lck.CasAsync("mine"));

        Assert.That(error!.Key, Is.EqualTo("key"));
        Assert.That(Cache.Get<string>("key"), Is.EqualTo("concurrent"));
    }

    [Test]
    public void OptimisticLock_on_a_missing_key_writes_unless_someone_created_it()
    {
        using (var lck = new OptimisticLock(Cache, "fresh"))
        {
            Assert.That(lck.Cas(1), Is.True);
        }

        var late = new OptimisticLock(Cache, "other");
        Cache.Set("other", 2);
        Assert.Throws<OptimisticLockException>(() => late.Cas(3));
        Assert.That(Cache.Get<int>("other"), Is.EqualTo(2));
    }

    [Test]
    public void OptimisticLock_Cas_with_a_ttl_makes_the_value_expire()
    {
        Cache.Set("key", "value");
        using var lck = new OptimisticLock(Cache, "key");

        lck.Cas("short", ttl: TimeSpan.FromMilliseconds(300));
        Backend.Advance(TimeSpan.FromMilliseconds(600));

        Assert.That(Cache.Exists("key"), Is.False);
    }
}
