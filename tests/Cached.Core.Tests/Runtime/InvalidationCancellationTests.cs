using Cached.Runtime;
using Cached.Tests.Commands;
using Cached.Tests.DependencyInjection;

namespace Cached.Tests.Runtime;

/// <summary>
/// An invalidating method's caller whose token cancels while the invalidation waits on a slow backend: it stops waiting
/// at once, and the invalidation is not stopped (the backend still has it waiting at its gate).
/// </summary>
public sealed class InvalidationCancellationTests : ProcessWideStateFixture
{
    private const string Alias = "invalidation_cancellation";

    [Test]
    public void An_InvalidateCache_caller_that_cancels_leaves_at_once_and_the_delete_goes_on()
    {
        using var cache = new GatedCache { Timeout = TimeSpan.FromSeconds(30) };
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = "Tests.Service.Get", CacheFactory = () => cache });
        using var cancellation = new CancellationTokenSource();

        var invalidating = method.InvalidateAsync("user:1", cancellation.Token).AsTask();
        Assert.That(invalidating.IsCompleted, Is.False, "the delete waits at the backend's gate");
        cancellation.Cancel();

        Assert.CatchAsync<OperationCanceledException>(async () => await invalidating.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.That(cache.MostWaiting, Is.EqualTo(1));
        cache.Open();
    }

    [Test]
    public void An_InvalidateTags_caller_that_cancels_leaves_at_once_and_the_invalidation_goes_on()
    {
        using var cache = new GatedCache { Timeout = TimeSpan.FromSeconds(30) };
        Caches.AddInstance(Alias, cache);
        using var cancellation = new CancellationTokenSource();

        var invalidating = TagInvalidation.InvalidateAsync(Alias, ["user:1"], cancellation.Token).AsTask();
        Assert.That(invalidating.IsCompleted, Is.False, "the invalidation waits at the backend's gate");
        cancellation.Cancel();

        Assert.CatchAsync<OperationCanceledException>(async () => await invalidating.WaitAsync(TimeSpan.FromSeconds(5)));
        cache.Open();
    }

    [Test]
    public async Task A_caller_whose_token_cannot_cancel_still_waits_for_the_invalidation()
    {
        using var cache = new GatedCache { Timeout = TimeSpan.FromSeconds(30) };
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = "Tests.Service.Get", CacheFactory = () => cache });

        var invalidating = method.InvalidateAsync("user:1", CancellationToken.None).AsTask();
        Assert.That(invalidating.IsCompleted, Is.False);
        cache.Open();

        await invalidating.WaitAsync(TimeSpan.FromSeconds(5));
    }
}
