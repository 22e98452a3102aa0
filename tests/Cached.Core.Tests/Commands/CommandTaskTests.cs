using Cached.Capabilities;

namespace Cached.Tests.Commands;

/// <summary>
/// The task of an async command whose operation goes on asynchronously. Its last frame comes from a pool when this
/// library awaits it once itself (issue 19); a command that hands the pipeline's task straight to its caller must still
/// hand out a task that behaves as any task does: awaited twice, or blocked on before it completes.
/// </summary>
public sealed class CommandTaskTests
{
    [Test]
    public async Task A_lock_acquired_asynchronously_may_be_awaited_twice()
    {
        using var cache = new GatedCache();

        var acquiring = ((ILockingCache)cache).TryAcquireLockAsync("key", null, "token", TimeSpan.FromSeconds(1), CancellationToken.None);
        Assert.That(acquiring.IsCompleted, Is.False, "the operation waits at the gate");
        cache.Open();

        Assert.That(await acquiring, Is.True);
        Assert.That(await acquiring, Is.True, "awaited a second time");
    }

    [Test]
    public async Task A_lock_check_may_be_awaited_again_after_the_cache_ran_another_command()
    {
        using var cache = new GatedCache();

        var checking = ((ILockingCache)cache).IsLockedAsync("key", null, CancellationToken.None);
        cache.Open();
        Assert.That(await checking, Is.False);

        Assert.That(await cache.SetAsync("other", "value"), Is.True);
        Assert.That(await checking, Is.False, "awaited a second time");
        Assert.That(checking.AsTask().Result, Is.False, "as a task");
    }

    [Test]
    public void A_conditional_write_may_be_blocked_on_before_it_completes()
    {
        using var cache = new GatedCache();

        var writing = ((IVersionedCache)cache).SetIfVersionAsync("key", null, version: null, "value", ttl: null, CancellationToken.None);
        Assert.That(writing.IsCompleted, Is.False, "the operation waits at the gate");
        _ = Task.Run(async () =>
        {
            await Task.Delay(50).ConfigureAwait(false);
            cache.Open();
        });

        // What a caller blocking on a ValueTask does; a pooled frame's result cannot be taken before it completes.
        Assert.That(writing.GetAwaiter().GetResult().Found, Is.False);
    }

    [Test]
    public async Task A_fill_of_several_tickets_may_be_awaited_twice()
    {
        using var cache = new GatedCache();
        IFencedFillCache fills = cache;
        // The fills open in this process (this backend keeps no fences of its own), without the gate.
        var tickets = await fills.OpenFillsAsync(["a", "b"]);

        var storing = fills.TryFillManyAsync(tickets.Select(ticket => KeyValuePair.Create(ticket, "value")));
        Assert.That(storing.IsCompleted, Is.False, "the batch set waits at the gate");
        cache.Open();

        Assert.That(await storing, Is.EqualTo(2));
        Assert.That(await storing, Is.EqualTo(2), "awaited a second time");
    }
}
