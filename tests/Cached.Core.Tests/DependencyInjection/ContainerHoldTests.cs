using Cached.Tests.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cached.Tests.DependencyInjection;

/// <summary>
/// A cache a container hands out without owning it (an instance given to <c>Caches.AddInstance</c>): each registration
/// that returned it is a hold the container's Dispose lets go of, and the cache is disposed by the last of its holders.
/// </summary>
[NonParallelizable]
public sealed class ContainerHoldTests : ProcessWideStateFixture
{
    [Test]
    public async Task A_swapped_in_instance_is_disposed_once_by_the_last_of_its_owner_and_the_container([Values] bool ownerFirst, [Values] bool async)
    {
        var services = new ServiceCollection();
        services.AddCached(cached => cached.AddCache("default", new CacheConfig { Cache = "Cached.Tests.Runtime.TestBackend" }));
        var provider = services.BuildServiceProvider();
        var mine = new TestBackend();
        Caches.AddInstance("default", mine);

        // Both registrations of the default alias return it: the container disposes it once for each.
        Assert.That(provider.GetRequiredService<ICache>(), Is.SameAs(mine));
        Assert.That(provider.GetRequiredKeyedService<ICache>("default"), Is.SameAs(mine));

        if (ownerFirst)
        {
            await Dispose(mine, async);
            Assert.That(mine.DisposeCount, Is.Zero, "the container still hands it out");
            await Dispose(provider, async);
        }
        else
        {
            await Dispose(provider, async);
            Assert.That(mine.DisposeCount, Is.Zero, "the owner has not let go");
            await Dispose(mine, async);
        }

        // (DisposeAsync releases through both of BaseCache's overridable disposers: the count is per call to them.)
        var disposed = mine.DisposeCount;
        Assert.That(disposed, Is.GreaterThan(0), "disposed by the last holder");
        await Dispose(mine, async);
        Assert.That(mine.DisposeCount, Is.EqualTo(disposed), "once: disposing again does nothing");
    }

    [Test]
    public async Task A_two_level_instance_swapped_in_is_held_too([Values] bool async)
    {
        var services = new ServiceCollection();
        services.AddCached(_ => { });
        var provider = services.BuildServiceProvider();
        var l2 = new TestBackend();
        var mine = new MultiLevelCache(new SimpleMemoryCache(), l2);
        Caches.AddInstance("default", mine);
        Assert.That(provider.GetRequiredService<ICache>(), Is.SameAs(mine));

        await Dispose(provider, async);
        Assert.That(l2.DisposeCount, Is.Zero, "the container let go of its hold; the owner still has it");

        await Dispose(mine, async);
        Assert.That(l2.DisposeCount, Is.GreaterThan(0), "the owner's Dispose disposes it, and its levels");
    }

    private static async Task Dispose(object disposable, bool async)
    {
        if (async)
        {
            await ((IAsyncDisposable)disposable).DisposeAsync();
        }
        else
        {
            ((IDisposable)disposable).Dispose();
        }
    }
}
