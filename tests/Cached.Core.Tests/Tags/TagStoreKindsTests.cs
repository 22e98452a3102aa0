using Cached.Tests.Capabilities;
using Cached.Tests.Runtime;

namespace Cached.Tests.Tags;

/// <summary>
/// Tags on caches that keep values by reference but their tag records as entries: a backend of the user's own
/// (a <see cref="BaseCache"/> that is not the memory cache) and an <see cref="ICache"/> that is not a
/// <see cref="BaseCache"/> at all. The stored stamp is shared by every read, so no read may leave its check behind on it.
/// </summary>
public sealed class TagStoreKindsTests
{
    private static readonly CacheEntryOptions s_tagged = new() { Tags = ["t"] };

    [Test]
    public async Task A_backend_of_one_s_own_misses_after_each_invalidation_though_reads_found_the_shared_stamp_current()
    {
        using var cache = new TestBackend();
        var calls = 0;

        for (var round = 1; round <= 3; round++)
        {
            Assert.That(cache.GetOrSet("k", _ => ++calls, s_tagged), Is.EqualTo(round));
            Assert.That(await cache.GetOrSetAsync("k", _ => new ValueTask<int>(++calls), s_tagged), Is.EqualTo(round), "a hit, checked");
            Assert.That(cache.Get<int?>("k"), Is.EqualTo(round), "a plain read, checked");
            cache.InvalidateTags("t");
            Assert.That(cache.Get<int?>("k"), Is.Null, $"invalidation {round}");
        }
    }

    [Test]
    public async Task A_cache_that_is_not_a_BaseCache_misses_after_each_invalidation_through_it()
    {
        var inner = new SimpleMemoryCache();
        using ICache cache = new DelegatingCache(inner);
        var calls = 0;

        for (var round = 1; round <= 3; round++)
        {
            Assert.That(cache.GetOrSet("k", _ => ++calls, s_tagged), Is.EqualTo(round));
            Assert.That(await cache.GetOrSetAsync("k", _ => new ValueTask<int>(++calls), s_tagged), Is.EqualTo(round), "a hit, checked");
            cache.InvalidateTags("t");
        }

        // Its tag records are entries of its own: a plain read of the cache it wraps cannot prove the entry current.
        Assert.That(inner.Get<int?>("k"), Is.Null);
    }
}
