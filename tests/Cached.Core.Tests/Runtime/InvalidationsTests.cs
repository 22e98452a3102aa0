using Cached.Runtime;
using Cached.Tests.Commands;

namespace Cached.Tests.Runtime;

/// <summary>
/// The deletes of an async [InvalidateCache] method, in flight together: <see cref="Invalidations.WhenAll"/> across
/// the methods it names, and the keys of one [MultiCached] method.
/// </summary>
public sealed class InvalidationsTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(5);

    [Test]
    public async Task A_multi_cached_methods_keys_are_deleted_side_by_side()
    {
        // In an outage each delete waits out the cache's timeout: one after another, a hundred keys took a hundred.
        var cache = new GatedCache { OpensWhenWaiting = 3 };
        var method = new MultiCachedMethod<string, string>(new CachedMethodOptions { Method = "Tests.Service.GetUsers", CacheFactory = () => cache });

        await method.InvalidateAsync(["a", "b", "c", "a"], 0, static (_, key) => "user:" + key, CancellationToken.None).AsTask().WaitAsync(s_limit);

        Assert.That(cache.MostWaiting, Is.EqualTo(3), "the three keys' deletes waited at the gate together");
    }

    [Test]
    public async Task A_multi_cached_methods_deletes_that_fail_together_do_not_fail_the_invalidation()
    {
        var cache = new GatedCache();
        var method = new MultiCachedMethod<string, string>(new CachedMethodOptions { Method = "Tests.Service.GetUsers", CacheFactory = () => cache });

        var invalidation = method.InvalidateAsync(["a", "b"], 0, static (_, key) => "user:" + key, CancellationToken.None).AsTask();
        cache.Fail(new CacheBackendException("down", null, unreachable: true));

        await invalidation.WaitAsync(s_limit);
        Assert.That(cache.MostWaiting, Is.EqualTo(2), "both were in flight together; their faults did not reach the caller");
    }

    [Test]
    public async Task WhenAll_ends_when_the_last_invalidation_ends()
    {
        var first = new TaskCompletionSource();
        var second = new TaskCompletionSource();

        var all = Invalidations.WhenAll(new ValueTask(first.Task), new ValueTask(second.Task)).AsTask();
        second.SetResult();
        Assert.That(all.IsCompleted, Is.False, "the first is still in flight");

        first.SetResult();
        await all;
    }

    [Test]
    public void WhenAll_awaits_every_invalidation_then_rethrows_the_first_exception()
    {
        var failed = new InvalidOperationException("first");
        var later = new TaskCompletionSource();

        var all = Invalidations.WhenAll(
            ValueTask.FromException(failed),
            new ValueTask(later.Task),
            ValueTask.FromException(new InvalidOperationException("third"))).AsTask();
        Assert.That(all.IsCompleted, Is.False, "an exception does not end it before the others");

        later.SetResult();
        var thrown = Assert.ThrowsAsync<InvalidOperationException>(async () => await all);
        Assert.That(thrown, Is.SameAs(failed));
    }

    [Test]
    public async Task WhenAll_of_none_ends_at_once()
    {
        var all = Invalidations.WhenAll();

        Assert.That(all.IsCompletedSuccessfully, Is.True);
        await all;
    }
}
