using Cached.Runtime;

namespace Cached.Tests.Capabilities;

/// <summary>
/// A call cancelled while it takes a lock never leaves the lock behind: the backend may have stored it before the
/// cancellation, so the call releases its own token on the way out, and other callers need not wait out the lease.
/// </summary>
public sealed class OrphanLockTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);

    [Test]
    public async Task A_lease_cancelled_after_the_backend_took_the_lock_releases_it()
    {
        using var cache = new SlowReplyBackend();
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = "Test.Get", CacheFactory = () => cache, Lease = 600 });
        using var cancel = new CancellationTokenSource();

        var call = method.InvokeAsync("k", 0, static (_, _) => new ValueTask<string>("body"), null, cancel.Token).AsTask();
        Assert.That(await cache.Stored.Task.WaitAsync(s_limit), Is.EqualTo("k-lock"));
        Assert.That(cache.Holds("k-lock"), Is.True, "the backend ran the take; its answer has not come back");

        cancel.Cancel();

        Assert.CatchAsync<OperationCanceledException>(async () => await call.WaitAsync(s_limit));
        Assert.That(cache.Holds("k-lock"), Is.False, "the cancelled call released the lock it may have taken");
    }

    [Test]
    public async Task A_RedLock_cancelled_after_the_backend_took_the_lock_releases_it()
    {
        using var cache = new SlowReplyBackend();
        using var cancel = new CancellationTokenSource();

        var acquire = RedLock.AcquireAsync(cache, "k", TimeSpan.FromMinutes(10), cancellationToken: cancel.Token).AsTask();
        await cache.Stored.Task.WaitAsync(s_limit);
        cancel.Cancel();

        Assert.CatchAsync<OperationCanceledException>(async () => await acquire.WaitAsync(s_limit));
        Assert.That(cache.Holds("k-lock"), Is.False);
    }
}
