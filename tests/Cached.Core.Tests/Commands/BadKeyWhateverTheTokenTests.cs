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

    [Test]
    public void A_disposed_two_level_cache_fails_the_task_of_its_reads_and_raw_commands()
    {
        // Regression (outside check of two levels): GetAsync, TryGetAsync and RawAsync, which are not async methods,
        // threw ObjectDisposedException from the call where every other async command (and a single cache) fails the task.
        var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache());
        cache.Dispose();
        var calls = new (string Name, Func<Task> Call)[]
        {
            ("GetAsync", () => cache.GetAsync<int>("k").AsTask()),
            ("TryGetAsync", () => cache.TryGetAsync<int>("k").AsTask()),
            ("RawAsync", () => cache.RawAsync("get", ["k"]).AsTask()),
            ("SetAsync", () => cache.SetAsync("k", 1).AsTask()),
        };

        Assert.Multiple(() =>
        {
            foreach (var (name, call) in calls)
            {
                Task task = null!;
                Assert.DoesNotThrow(() => { task = call(); }, name + " returned its task");
                Assert.That(async () => await task, Throws.TypeOf<ObjectDisposedException>(), name);
            }
        });
    }

    [Test]
    public void GetOrSet_refuses_a_null_key_before_a_null_factory_as_its_async_twin_does([Values] bool twoLevels)
    {
        // Regression (outside check): the sync form named 'factory', the async form 'key'.
        using var single = new SimpleMemoryCache();
        using var levels = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache());
        ICache cache = twoLevels ? levels : single;

        var sync = Assert.Throws<ArgumentNullException>(() => cache.GetOrSet<int>(null!, null!));
        var async = Assert.ThrowsAsync<ArgumentNullException>(async () => await cache.GetOrSetAsync<int>(null!, null!));

        Assert.That((sync!.ParamName, async!.ParamName), Is.EqualTo(("key", "key")));
    }
}
