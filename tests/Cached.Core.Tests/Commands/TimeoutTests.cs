using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Commands;

/// <summary>The timeout that BaseCache enforces on async commands, with a backend whose operations wait for a gate.</summary>
public sealed class TimeoutTests
{
    private readonly FakeTimeProvider _time = new();

    [Test]
    public void An_async_command_that_outlasts_the_timeout_throws_TimeoutException()
    {
        using var cache = new GatedCache { TimeProvider = _time, Timeout = TimeSpan.FromMilliseconds(200) };

        var pending = cache.GetAsync<string>("key").AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(199));
        Assert.That(pending.IsCompleted, Is.False);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        var error = Assert.ThrowsAsync<TimeoutException>(async () => await pending);
        Assert.That(error!.Message, Does.Contain("Get").And.Contain("200"));
    }

    [Test]
    public void A_cancellation_of_a_sync_command_that_nobody_asked_for_is_a_backend_fault()
    {
        // StackExchange.Redis's sync call can end in TaskCanceledException when its connection was reset under it (seen
        // after an outage). A sync command has no caller's token: the caller must not take it for its own cancellation.
        using var cache = new GatedCache { SyncReadFault = new TaskCanceledException("A task was canceled.") };

        var error = Assert.Throws<CacheBackendException>(() => cache.Get<string>("key"));

        Assert.That(error!.Unreachable, Is.True);
        Assert.That(error.InnerException, Is.InstanceOf<TaskCanceledException>());
        Assert.That(error.Message, Does.Contain("Get").And.Contain("key"));
    }

    [Test]
    public void Every_async_command_is_under_the_timeout()
    {
        using var cache = new GatedCache { TimeProvider = _time, Timeout = TimeSpan.FromMilliseconds(2) };

        foreach (var command in EveryAsyncCommand(cache))
        {
            var pending = command();
            _time.Advance(TimeSpan.FromMilliseconds(2));
            Assert.ThrowsAsync<TimeoutException>(async () => await pending);
        }
    }

    /// <summary>Every async command of <see cref="ICache"/>, each as a call of its own on key <c>k</c>.</summary>
    internal static Func<Task>[] EveryAsyncCommand(ICache cache) =>
    [
        () => cache.AddAsync("k", 1).AsTask(),
        () => cache.GetAsync<int>("k").AsTask(),
        () => cache.TryGetAsync<int>("k").AsTask(),
        () => cache.SetAsync("k", 1).AsTask(),
        () => cache.MultiGetAsync<int>(["k"]).AsTask(),
        () => cache.MultiSetAsync([new KeyValuePair<string, int>("k", 1)]).AsTask(),
        () => cache.ExistsAsync("k").AsTask(),
        () => cache.IncrementAsync("k").AsTask(),
        () => cache.DeleteAsync("k").AsTask(),
        () => cache.ClearAsync().AsTask(),
        () => cache.ExpireAsync("k", TimeSpan.FromSeconds(1)).AsTask(),
        () => cache.RawAsync("ping").AsTask(),
    ];

    [Test]
    public async Task Without_a_timeout_a_slow_command_completes()
    {
        using var cache = new GatedCache { TimeProvider = _time, Timeout = null };

        var pending = cache.GetAsync("key", "default").AsTask();
        _time.Advance(TimeSpan.FromHours(1));
        Assert.That(pending.IsCompleted, Is.False);
        cache.Open();

        Assert.That(await pending, Is.EqualTo("default"));
    }

    [Test]
    public async Task A_command_that_finishes_within_the_timeout_returns_its_result()
    {
        using var cache = new GatedCache { TimeProvider = _time, Timeout = TimeSpan.FromSeconds(1) };

        var pending = cache.SetAsync("key", "value").AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(500));
        cache.Open();

        Assert.That(await pending, Is.True);
    }

    [Test]
    public void Cancelling_a_slow_command_throws_OperationCanceledException()
    {
        using var cache = new GatedCache { TimeProvider = _time, Timeout = TimeSpan.FromSeconds(1) };
        using var cancellation = new CancellationTokenSource();

        var pending = cache.GetAsync<string>("key", cancellationToken: cancellation.Token).AsTask();
        cancellation.Cancel();

        Assert.CatchAsync<OperationCanceledException>(async () => await pending);
    }

    [Test]
    public void A_read_whose_client_enforces_the_timeout_still_obeys_a_test_clock()
    {
        using var cache = new GatedCache { TimeProvider = _time, Timeout = TimeSpan.FromMilliseconds(200), EnforcesTimeout = true };

        var pending = cache.GetAsync<string>("key").AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(200));

        var error = Assert.ThrowsAsync<TimeoutException>(async () => await pending);
        Assert.That(error!.Message, Does.Contain("did not complete within"));
    }

    [Test]
    public void On_the_system_clock_a_read_whose_client_enforces_the_timeout_gets_the_clients_TimeoutException()
    {
        using var cache = new GatedCache { Timeout = TimeSpan.FromSeconds(30), EnforcesTimeout = true };

        var pending = cache.GetAsync<string>("key").AsTask();
        cache.Fail(new TimeoutException("the client's own"));

        // No timer of the pipeline's own: the client's exception arrives as it is, not wrapped as the timer's.
        var error = Assert.ThrowsAsync<TimeoutException>(async () => await pending);
        Assert.That(error!.Message, Is.EqualTo("the client's own"));
    }

    [Test]
    public void A_read_whose_client_enforces_the_timeout_is_still_cancelled_by_the_callers_token()
    {
        using var cache = new GatedCache { Timeout = TimeSpan.FromSeconds(30), EnforcesTimeout = true };
        using var cancellation = new CancellationTokenSource();

        var pending = cache.GetAsync<string>("key", cancellationToken: cancellation.Token).AsTask();
        cancellation.Cancel();

        Assert.CatchAsync<OperationCanceledException>(async () => await pending);
    }

    [Test]
    public void Commands_other_than_a_one_key_read_keep_the_pipelines_timer_when_the_client_enforces_the_timeout()
    {
        using var cache = new GatedCache { Timeout = TimeSpan.FromSeconds(30), EnforcesTimeout = true };

        var pending = cache.SetAsync("key", "value").AsTask();
        cache.Fail(new TimeoutException("the client's own"));

        var error = Assert.ThrowsAsync<TimeoutException>(async () => await pending);
        Assert.That(error!.Message, Does.Contain("did not complete within"));
    }

    [Test]
    public void A_zero_or_negative_timeout_is_read_as_none_or_refused()
    {
        using var none = new GatedCache { Timeout = TimeSpan.Zero };
        Assert.That(none.Timeout, Is.Null);
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new GatedCache { Timeout = TimeSpan.FromSeconds(-1) });
    }
}
