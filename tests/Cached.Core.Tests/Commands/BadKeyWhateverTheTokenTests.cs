using Cached.Capabilities;
using Cached.Tests.Capabilities;

namespace Cached.Tests.Commands;

/// <summary>
/// A null key is refused with the key's <see cref="ArgumentException"/> by every method that takes one, and by an async
/// one in its task whatever the token: the commands, the capabilities the runtime uses (locks, versions, fills), on one
/// level and on two.
/// </summary>
public sealed class BadKeyWhateverTheTokenTests
{
    private static readonly Type[] s_capabilities = [typeof(ILockingCache), typeof(IVersionedCache), typeof(IFencedFillCache)];

    [Test]
    public async Task On_a_BaseCache()
    {
        using var cache = new SimpleMemoryCache();

        var swept = await BadKeyCalls.AssertEveryMethodRefusesANullKey(cache, [cache.GetType(), .. s_capabilities]);

        Assert.That(swept, Has.Some.Contains(".GetOrSetAsync").And.Some.Contains(".OpenFillAsync").And.Some.Contains(".TryAcquireLockAsync")
            .And.Some.Contains(".SetIfVersionAsync").And.Some.Contains(".TryAcquireLock(").And.Some.Contains(".MultiGetAsync"));
    }

    [Test]
    public async Task On_two_levels()
    {
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache());

        var swept = await BadKeyCalls.AssertEveryMethodRefusesANullKey(cache, [cache.GetType(), .. s_capabilities]);

        Assert.That(swept, Has.Some.Contains(".AddAsync").And.Some.Contains(".OpenFillAsync").And.Some.Contains(".TryAcquireLockAsync")
            .And.Some.Contains(".ExpireAsync").And.Some.Contains(".Increment(").And.Some.Contains(".MultiGetAsync"));
    }

    [Test]
    public async Task On_a_cache_of_another_type_through_the_interface_defaults()
    {
        var cache = new DelegatingCache(new SimpleMemoryCache());

        var swept = await BadKeyCalls.AssertEveryMethodRefusesANullKey(cache, typeof(ICache));

        Assert.That(swept, Has.Some.Contains(".GetOrSetAsync").And.Some.Contains(".SetAsync"));
    }
}
