using Cached.Runtime;

namespace Cached.Tests.Capabilities;

/// <summary>
/// The runtime finds optional abilities by interface, never by downcasting to BaseCache: a cache of any type that
/// implements <c>ISpanReadableCache</c> gets the allocation-free hit, one that implements <c>ILockingCache</c> gets
/// the stampede lease and RedLock.
/// </summary>
[NonParallelizable]
public sealed class CapabilityTests
{
    private const string Alias = "capabilities";

    private static readonly Func<int, string> s_body = static _ => "body";

    [SetUp]
    public void SetUp() => Caches.Reset();

    [TearDown]
    public void TearDown() => Caches.Reset();

    private static CachedMethod<string> Method(ICache cache, double lease = 0)
    {
        Caches.AddInstance(Alias, cache);
        return new CachedMethod<string>(new CachedMethodOptions { Method = "Test.Get", Alias = Alias, Lease = lease });
    }

    [Test]
    public async Task A_cache_of_another_type_gets_the_interface_defaults_which_return_cancelled_tasks_too()
    {
        using var inner = new SimpleMemoryCache();
        var cache = new DelegatingCache(inner);

        var swept = await Cached.Tests.Commands.CancelledCalls.AssertEveryAsyncMethodReturnsACancelledTask(cache, typeof(ICache));

        Assert.That(swept, Has.Some.StartsWith("InvalidateTagsAsync").And.Some.StartsWith("GetOrSetAsync"));
        Assert.That(inner.Exists("cancelled-call"), Is.False);
    }

    [Test]
    public void A_cache_that_is_not_a_BaseCache_answers_hits_by_span_when_it_implements_the_capability()
    {
        var cache = new DelegatingCache(new SimpleMemoryCache());
        var method = Method(cache);
        Assert.That(method.Invoke("k".AsSpan(), 0, static _ => "body", null), Is.EqualTo("body"));
        var ordinaryAfterMiss = cache.OrdinaryReads;

        Assert.That(method.Invoke("k".AsSpan(), 0, static _ => "other", null), Is.EqualTo("body"));

        Assert.That(cache.SpanReads, Is.EqualTo(1), "the second call, with the cache resolved, asked the span reader");
        Assert.That(cache.OrdinaryReads, Is.EqualTo(ordinaryAfterMiss), "the hit never took the ordinary read");
    }

    [Test]
    public void A_span_hit_through_the_capability_allocates_nothing()
    {
        var cache = new DelegatingCache(new SimpleMemoryCache());
        var method = Method(cache);
        method.Invoke("k".AsSpan(), 0, s_body, null);
        method.Invoke("k".AsSpan(), 0, s_body, null);

        var allocated = Allocations.Fewest(() =>
        {
            for (var i = 0; i < 100; i++)
            {
                method.Invoke("k".AsSpan(), 0, s_body, null);
            }
        });

        Assert.That(allocated, Is.Zero);
    }

    [Test]
    public async Task The_stampede_lease_is_taken_through_the_capability_on_any_cache()
    {
        var cache = new DelegatingCache(new SimpleMemoryCache());
        var method = Method(cache, lease: 5);

        Assert.That(await method.InvokeAsync("k", 0, static (_, _) => new ValueTask<string>("body"), null, default), Is.EqualTo("body"));

        Assert.That(cache.LocksTaken, Is.EqualTo(1));
        Assert.That(cache.IsLocked("k", null), Is.False, "the lease was released after the body");
    }

    [Test]
    public void RedLock_works_on_any_cache_that_can_hold_locks()
    {
        var cache = new DelegatingCache(new SimpleMemoryCache());

        using (new RedLock(cache, "k", TimeSpan.FromSeconds(5)))
        {
            Assert.That(cache.IsLocked("k", null), Is.True);
        }

        Assert.That(cache.LocksTaken, Is.EqualTo(1));
        Assert.That(cache.IsLocked("k", null), Is.False);
    }

    [TestCase("0f8fad5bd9cb469fa16570867728950e", true, TestName = "our token (N format) is a lock")]
    [TestCase("0f8fad5b-d9cb-469f-a165-70867728950e", true, TestName = "a Python aiocache token (D format) is a lock")]
    [TestCase("sales report", false, TestName = "any other text is not a lock")]
    public void A_lock_key_counts_as_held_only_when_it_holds_a_lock_token(string stored, bool held)
    {
        using var cache = new SimpleMemoryCache();
        cache.Raw("set", "k-lock", stored);

        Assert.That(((Cached.Capabilities.ILockingCache)cache).IsLocked("k", null), Is.EqualTo(held));
    }
}
