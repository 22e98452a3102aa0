using Cached.Tests.Runtime;

namespace Cached.Tests.Commands;

/// <summary>
/// The task of an async read of one entry. A remote read runs in a frame taken from a pool (issue 19), which a second
/// await would find reused; what the public API hands out must still behave as any task does.
/// </summary>
public sealed class ReadTaskTests
{
    [Test]
    public async Task A_remote_TryGetAsync_may_be_awaited_again_after_the_cache_ran_another_read()
    {
        using var backend = Backend();

        var first = AfterTheServer(backend, () => backend.TryGetAsync<string>("a"), started => Assert.That(started.IsCompleted, Is.False, "the read waits for the server"));
        Assert.That((await first).Value, Is.EqualTo("first"));

        // Another remote read, run to its end: a pooled frame handed out as it is would now serve this one.
        Assert.That((await AfterTheServer(backend, () => backend.TryGetAsync<string>("b"))).Value, Is.EqualTo("second"));

        Assert.That((await first).Value, Is.EqualTo("first"), "awaited a second time");
        Assert.That(first.AsTask().Result.Value, Is.EqualTo("first"), "as a task");
    }

    [Test]
    public async Task A_remote_GetAsync_may_be_awaited_again_after_the_cache_ran_another_read()
    {
        using var backend = Backend();

        var first = AfterTheServer(backend, () => backend.GetAsync<string>("a"));
        Assert.That(await first, Is.EqualTo("first"));
        Assert.That(await AfterTheServer(backend, () => backend.GetAsync<string>("b")), Is.EqualTo("second"));

        Assert.That(await first, Is.EqualTo("first"), "awaited a second time");
    }

    private static TestBackend Backend()
    {
        var backend = new TestBackend();
        backend.Set("a", "first");
        backend.Set("b", "second");
        return backend;
    }

    /// <summary>Starts <paramref name="read"/> while the server holds it (it goes on asynchronously), then lets the server answer.</summary>
    private static ValueTask<T> AfterTheServer<T>(TestBackend backend, Func<ValueTask<T>> read, Action<ValueTask<T>>? whileHeld = null)
    {
        var gate = new TaskCompletionSource();
        backend.ReadGate = gate.Task;
        var started = read();
        whileHeld?.Invoke(started);
        gate.SetResult();
        return started;
    }

    [Test]
    public void A_client_timeout_passes_through_a_read_under_the_callers_token_when_no_Timeout_is_set()
    {
        using var cache = new GatedCache { Timeout = null };
        using var cancellation = new CancellationTokenSource();

        var pending = cache.TryGetAsync<string>("key", cancellationToken: cancellation.Token).AsTask();
        cache.Fail(new TimeoutException("the client gave up"));

        var error = Assert.ThrowsAsync<TimeoutException>(async () => await pending);
        Assert.That(error!.Message, Is.EqualTo("the client gave up"));
    }

    [Test]
    public void A_client_timeout_under_a_Timeout_names_the_command_and_keeps_the_clients_exception()
    {
        using var cache = new GatedCache { Timeout = TimeSpan.FromMinutes(1) };

        var pending = cache.TryGetAsync<string>("key").AsTask();
        cache.Fail(new TimeoutException("the client gave up"));

        var error = Assert.ThrowsAsync<TimeoutException>(async () => await pending);
        Assert.That(error!.Message, Does.Contain("Get").And.Contain("60000"));
        Assert.That(error.InnerException?.Message, Is.EqualTo("the client gave up"));
    }
}

/// <summary>What an in-process async read costs in clock reads: a remote read's timer needs a timestamp, a memory hit does not.</summary>
public sealed class InProcessReadClockTests
{
    [Test]
    public async Task An_async_memory_hit_of_an_entry_without_expiry_reads_no_clock()
    {
        var clock = new CountingClock();
        using var cache = new SimpleMemoryCache { TimeProvider = clock, Timeout = TimeSpan.FromSeconds(5) };
        cache.Set("k", "v");
        var before = clock.Reads;

        var read = await cache.TryGetAsync<string>("k");

        Assert.That(read.Value, Is.EqualTo("v"));
        Assert.That(clock.Reads - before, Is.Zero, "no timestamp for a timer the read never needed");
    }

    private sealed class CountingClock : TimeProvider
    {
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public override long GetTimestamp()
        {
            Interlocked.Increment(ref _reads);
            return System.GetTimestamp();
        }
    }
}
