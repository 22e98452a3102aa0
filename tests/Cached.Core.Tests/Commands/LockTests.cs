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
        await using var acquired = await second.WaitAsync(TimeSpan.FromSeconds(10));

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

        await using var again = await RedLock.AcquireAsync(Cache, "key", s_lease).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
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

    // ---- review of the locks: RedLock ----

    [Test]
    public async Task RedLock_admits_one_holder_at_a_time_under_contention()
    {
        var inside = 0;
        var most = 0;
        var entries = 0;
        var notAcquired = 0;

        async Task Contend()
        {
            for (var i = 0; i < 5; i++)
            {
                await using var held = await RedLock.AcquireAsync(Cache, "key", TimeSpan.FromMinutes(1));
                if (!held.IsAcquired)
                {
                    Interlocked.Increment(ref notAcquired);
                }

                var now = Interlocked.Increment(ref inside);
                InterlockedMax(ref most, now);
                Interlocked.Increment(ref entries);
                await Task.Yield();
                Interlocked.Decrement(ref inside);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(Contend))).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.That(entries, Is.EqualTo(30));
        Assert.That(notAcquired, Is.Zero, "with a lease of a minute, every caller waits for the lock and takes it");
        Assert.That(most, Is.EqualTo(1), "one holder at a time");
        Assert.That(Cache.Exists("key-lock"), Is.False);
    }

    [Test]
    public async Task A_RedLock_waiter_gets_the_value_its_holder_stored([Values] bool sync)
    {
        var holder = await RedLock.AcquireAsync(Cache, "value", s_lease);
        var waiter = Task.Run(async () =>
        {
            if (sync)
            {
                using var held = new RedLock(Cache, "value", s_lease);
                return (held.IsAcquired, Cache.Get<string>("value"));
            }

            await using var heldAsync = await RedLock.AcquireAsync(Cache, "value", s_lease);
            return (heldAsync.IsAcquired, await Cache.GetAsync<string>("value"));
        });

        await Cache.SetAsync("value", "stored by the holder");
        await holder.DisposeAsync();
        var (acquired, seen) = await waiter.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.That(acquired, Is.True);
        Assert.That(seen, Is.EqualTo("stored by the holder"));
    }

    [Test]
    public async Task A_RedLock_waiter_cancelled_while_waiting_leaves_nothing_and_the_holder_keeps_the_lock()
    {
        await using var holder = await RedLock.AcquireAsync(Cache, "key", s_lease);
        using var cancel = new CancellationTokenSource();
        var waiter = RedLock.AcquireAsync(Cache, "key", s_lease, cancellationToken: cancel.Token).AsTask();

        cancel.Cancel();

        Assert.CatchAsync<OperationCanceledException>(async () => await waiter.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.That(Cache.Exists("key-lock"), Is.True, "the holder still holds the lock");
        await holder.DisposeAsync();
        Assert.That(Cache.Exists("key-lock"), Is.False, "the holder's token was still there, and the cancelled waiter left no lock behind");
    }

    [Test]
    public void A_RedLock_asked_with_a_cancelled_token_takes_nothing()
    {
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();

        // As every async command of the cache does (CommandTests' sweep): a cancelled token gives a cancelled task.
        Assert.CatchAsync<OperationCanceledException>(async () => await RedLock.AcquireAsync(Cache, "key", s_lease, cancellationToken: cancel.Token));
        Assert.That(Cache.Exists("key-lock"), Is.False, "no lock taken for a caller that had already left");
    }

    [Test]
    public async Task An_OptimisticLock_Cas_with_a_cancelled_token_writes_nothing()
    {
        Cache.Set("key", "value");
        await using var lck = await OptimisticLock.AcquireAsync(Cache, "key");
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();

        Assert.CatchAsync<OperationCanceledException>(async () => await lck.CasAsync("mine", cancellationToken: cancel.Token));
        Assert.That(Cache.Get<string>("key"), Is.EqualTo("value"), "a caller that had already left wrote nothing");
    }

    [Test]
    public async Task Disposing_a_RedLock_twice_never_releases_the_next_owner()
    {
        var first = new RedLock(Cache, "key", s_lease);
        first.Dispose();
        await using var second = await RedLock.AcquireAsync(Cache, "key", s_lease);
        Assert.That(second.IsAcquired, Is.True);

        first.Dispose();
        await first.DisposeAsync();

        Assert.That(Cache.Exists("key-lock"), Is.True, "the second owner still holds the lock");
    }

    [Test]
    public async Task A_RedLock_given_a_namespace_lives_in_that_namespace_and_excludes_only_there()
    {
        var other = NewCache(new CacheOptions { Namespace = "other" });
        await using var held = await RedLock.AcquireAsync(Cache, "key", s_lease, @namespace: "shared");

        Assert.That(Cache.Exists("key-lock", "shared"), Is.True, "lock key is build_key(key + '-lock', namespace)");
        Assert.That(Cache.Exists("key-lock"), Is.False, "not in the cache's own namespace");

        await using (var elsewhere = await RedLock.AcquireAsync(Cache, "key", s_lease).AsTask().WaitAsync(TimeSpan.FromSeconds(5)))
        {
            Assert.That(elsewhere.IsAcquired, Is.True, "the cache's own namespace is another lock");
        }

        // Two memory caches are two processes' stores; on a server the other cache shares the lock.
        var contender = RedLock.AcquireAsync(Backend.Name == "memory" ? Cache : other, "key", s_lease, @namespace: "shared").AsTask();
        await Task.Delay(200);
        Assert.That(contender.IsCompleted, Is.False, "another cache naming the same namespace waits for the same lock");
        await held.DisposeAsync();
        await using var taken = await contender.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.That(taken.IsAcquired, Is.True);
    }

    [Test]
    public async Task RedLocks_on_keys_in_different_slots_are_held_at_once()
    {
        // "a" and "b" hash to different cluster slots (15495 and 3300).
        await using var a = await RedLock.AcquireAsync(Cache, "a", s_lease).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        await using var b = await RedLock.AcquireAsync(Cache, "b", s_lease).AsTask().WaitAsync(TimeSpan.FromSeconds(5));

        Assert.That(a.IsAcquired && b.IsAcquired, Is.True);
        await a.DisposeAsync();
        Assert.That(Cache.Exists("a-lock"), Is.False);
        Assert.That(Cache.Exists("b-lock"), Is.True);
    }

    // ---- review of the locks: OptimisticLock ----

    [Test]
    public void OptimisticLock_loses_when_the_key_was_deleted_since_the_lock([Values] bool sync)
    {
        Cache.Set("key", "value");
        using var lck = new OptimisticLock(Cache, "key");
        Cache.Delete("key");

        if (sync)
        {
            Assert.Throws<OptimisticLockException>(() => lck.Cas("mine"));
        }
        else
        {
            Assert.ThrowsAsync<OptimisticLockException>(async () => await lck.CasAsync("mine"));
        }

        Assert.That(Cache.Exists("key"), Is.False, "nothing was written");
    }

    [Test]
    public void OptimisticLock_loses_when_the_key_expired_since_the_lock([Values] bool sync)
    {
        Cache.Set("key", "value", TimeSpan.FromMilliseconds(300));
        using var lck = new OptimisticLock(Cache, "key");
        Backend.Advance(TimeSpan.FromMilliseconds(600));

        if (sync)
        {
            Assert.Throws<OptimisticLockException>(() => lck.Cas("mine"));
        }
        else
        {
            Assert.ThrowsAsync<OptimisticLockException>(async () => await lck.CasAsync("mine"));
        }

        Assert.That(Cache.Exists("key"), Is.False, "the key expired and nothing was written");
    }

    [Test]
    public void OptimisticLock_and_a_write_of_an_equal_value_in_between_is_as_documented()
    {
        Cache.Set("key", "value");
        using var lck = new OptimisticLock(Cache, "key");
        Cache.Set("key", "value");

        if (Backend.Name == "memory")
        {
            // The entry is the version: any write counts as a change.
            Assert.Throws<OptimisticLockException>(() => lck.Cas("mine"));
            Assert.That(Cache.Get<string>("key"), Is.EqualTo("value"));
        }
        else
        {
            // On Redis the stored bytes are compared, as aiocache does.
            Assert.That(lck.Cas("mine"), Is.True);
            Assert.That(Cache.Get<string>("key"), Is.EqualTo("mine"));
        }
    }

    [Test]
    public async Task OptimisticLocks_racing_on_one_key_let_exactly_one_writer_win()
    {
        Cache.Set("key", 0);
        var locks = new List<OptimisticLock>();
        for (var i = 0; i < 6; i++)
        {
            locks.Add(await OptimisticLock.AcquireAsync(Cache, "key"));
        }

        var outcomes = await Task.WhenAll(locks.Select((lck, i) => Task.Run(async () =>
        {
            try
            {
                return await lck.CasAsync(i + 1);
            }
            catch (OptimisticLockException)
            {
                return false;
            }
        })));

        Assert.That(outcomes.Count(won => won), Is.EqualTo(1));
        var winner = Array.IndexOf(outcomes, true) + 1;
        Assert.That(Cache.Get<int>("key"), Is.EqualTo(winner));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
