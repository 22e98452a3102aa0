using Cached.Plugins;

namespace Cached.Tests.Commands;

/// <summary>
/// A cancellation that a command's caller did not ask for: StackExchange.Redis cancels a command whose connection was
/// reset under it. The caller must see a backend fault (which two levels and fail-safe know how to survive), never an
/// <see cref="OperationCanceledException"/> it would take for its own.
/// </summary>
public sealed class UnaskedCancellationTests
{
    /// <summary>How the pipeline waits for an async command: each way has its own frame that sorts the failure.</summary>
    public enum Wait
    {
        /// <summary>No timeout and no token: the operation awaited as it is.</summary>
        Plain,

        /// <summary>A timeout on the system clock and no token: the shared deadline timer.</summary>
        Deadline,

        /// <summary>A token that can cancel (and does not): a timer of its own.</summary>
        Token,
    }

    private static readonly Func<ICache, CancellationToken, Task>[] s_commands =
    [
        (c, ct) => c.AddAsync("k", 1, cancellationToken: ct).AsTask(),
        (c, ct) => c.GetAsync<int>("k", cancellationToken: ct).AsTask(),
        (c, ct) => c.SetAsync("k", 1, cancellationToken: ct).AsTask(),
        (c, ct) => c.MultiGetAsync<int>(["k"], cancellationToken: ct).AsTask(),
        (c, ct) => c.MultiSetAsync([new KeyValuePair<string, int>("k", 1)], cancellationToken: ct).AsTask(),
        (c, ct) => c.ExistsAsync("k", cancellationToken: ct).AsTask(),
        (c, ct) => c.IncrementAsync("k", cancellationToken: ct).AsTask(),
        (c, ct) => c.DeleteAsync("k", cancellationToken: ct).AsTask(),
        (c, ct) => c.ClearAsync(cancellationToken: ct).AsTask(),
        (c, ct) => c.ExpireAsync("k", TimeSpan.FromSeconds(1), cancellationToken: ct).AsTask(),
    ];

    [Test]
    public void An_async_command_the_backend_cancels_is_a_backend_fault([Values] Wait wait, [Range(0, 9)] int command)
    {
        using var cache = new GatedCache { Timeout = wait == Wait.Deadline ? TimeSpan.FromSeconds(30) : null };
        using var notCancelled = new CancellationTokenSource();
        var pending = s_commands[command](cache, wait == Wait.Token ? notCancelled.Token : CancellationToken.None);
        Assert.That(pending.IsCompleted, Is.False, "the command waits for the backend");

        cache.Fail(new TaskCanceledException("A task was canceled."));

        var error = Assert.ThrowsAsync<CacheBackendException>(async () => await pending);
        Assert.That(error!.Unreachable, Is.True, "survived like a connection lost");
        Assert.That(error.InnerException, Is.InstanceOf<TaskCanceledException>());
        Assert.That(error.Message, Does.Contain("did not cancel"));
    }

    [Test]
    public void The_callers_own_cancellation_stays_a_cancellation([Range(0, 9)] int command)
    {
        using var cache = new GatedCache { Timeout = TimeSpan.FromSeconds(30) };
        using var cancel = new CancellationTokenSource();
        var pending = s_commands[command](cache, cancel.Token);

        cancel.Cancel();

        Assert.That(async () => await pending, Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public void A_plugins_cancellation_is_the_plugins_and_passes_as_it_is([Values] bool async)
    {
        // Only what the backend's operation throws is the backend's: a hook that throws speaks for itself.
        using var cache = new SimpleMemoryCache { Plugins = [new CancellingPlugin()] };

        if (async)
        {
            Assert.That(async () => await cache.GetAsync<int>("k"), Throws.TypeOf<OperationCanceledException>());
            Assert.That(async () => await cache.SetAsync("k", 1), Throws.TypeOf<OperationCanceledException>());
        }
        else
        {
            Assert.That(() => cache.Get<int>("k"), Throws.TypeOf<OperationCanceledException>());
            Assert.That(() => cache.Set("k", 1), Throws.TypeOf<OperationCanceledException>());
        }
    }

    [Test]
    public async Task On_two_levels_an_L2_write_the_backend_cancels_is_kept_as_in_an_outage()
    {
        // Before, the cancellation reached the caller, who never cancelled, and the write was neither applied nor kept.
        var l2 = new GatedCache();
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), l2);
        var write = cache.SetAsync("k", 1).AsTask();
        Assert.That(write.IsCompleted, Is.False, "L2 has the write");

        l2.Fail(new TaskCanceledException("A task was canceled."));

        Assert.That(await write, Is.True, "kept for when L2 is back, as a write during an outage is");
        Assert.That(cache.PendingWriteCount, Is.EqualTo(1));
        Assert.That(cache.Get<int>("k"), Is.EqualTo(1), "this node reads its own write meanwhile");
    }

    private sealed class CancellingPlugin : CachePlugin
    {
        public override void Post(CacheCommandContext context) => throw new OperationCanceledException("The plugin gave up.");
    }
}
