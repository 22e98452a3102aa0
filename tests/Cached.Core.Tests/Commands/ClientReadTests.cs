using Cached.Plugins;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Commands;

/// <summary>
/// A read of one entry that the backend starts as its client's own task (<see cref="BaseCache.TryStartEntryRead"/>):
/// awaited as it is where the client bounds it, watched as it is by the cache's shared deadlines, and read through the
/// backend's frame (<c>GetEntryAsync</c>) wherever a timer per command must wait on it (a token that can cancel, a test clock).
/// </summary>
public sealed class ClientReadTests
{
    [Test]
    public async Task A_read_whose_client_enforces_the_timeout_awaits_the_clients_own_task_and_is_observed_as_any_read()
    {
        var ratio = new HitMissRatioPlugin();
        using var cache = new GatedCache { Timeout = TimeSpan.FromSeconds(30), EnforcesTimeout = true, StartsClientReads = true, ClientReadPayload = "value"u8.ToArray(), Plugins = [ratio] };

        var pending = cache.GetAsync<string>("key").AsTask();
        Assert.That(pending.IsCompleted, Is.False);
        cache.Open();

        Assert.That(await pending, Is.EqualTo("value"));
        Assert.That((cache.ClientReads, cache.FramedReads), Is.EqualTo((1, 0)));
        Assert.That((ratio.Hits, ratio.Total), Is.EqualTo((1L, 1L)));
    }

    [Test]
    public async Task A_client_read_that_finds_nothing_is_a_miss()
    {
        using var cache = new GatedCache { Timeout = TimeSpan.FromSeconds(30), EnforcesTimeout = true, StartsClientReads = true };

        var pending = cache.TryGetAsync<string>("key").AsTask();
        cache.Open();

        Assert.That((await pending).Found, Is.False);
        Assert.That(cache.ClientReads, Is.EqualTo(1));
    }

    [Test]
    public void A_failed_client_read_throws_the_clients_own_exception_not_an_AggregateException()
    {
        using var cache = new GatedCache { Timeout = TimeSpan.FromSeconds(30), EnforcesTimeout = true, StartsClientReads = true };

        var pending = cache.GetAsync<string>("key").AsTask();
        cache.Fail(new TimeoutException("the client's own"));

        var error = Assert.ThrowsAsync<TimeoutException>(async () => await pending);
        Assert.That(error!.Message, Is.EqualTo("the client's own"));
        Assert.That(cache.ClientReads, Is.EqualTo(1));
    }

    [Test]
    public async Task A_client_read_that_completed_at_once_answers_synchronously()
    {
        using var cache = new GatedCache { Timeout = TimeSpan.FromSeconds(30), EnforcesTimeout = true, StartsClientReads = true, ClientReadPayload = "value"u8.ToArray() };
        cache.Open();

        var read = cache.GetAsync<string>("key");

        Assert.That(read.IsCompletedSuccessfully, Is.True);
        Assert.That(await read, Is.EqualTo("value"));
        Assert.That((cache.ClientReads, cache.FramedReads), Is.EqualTo((1, 0)));
    }

    [Test]
    public async Task A_read_under_the_shared_deadlines_watches_the_clients_own_task()
    {
        // The cache's one sweeping timer keeps the timeout (the client does not) and watches the client's task itself:
        // no frame of the backend's between them (it was one, which cost a hit a continuation more).
        using var cache = new GatedCache { Timeout = TimeSpan.FromSeconds(30), StartsClientReads = true, ClientReadPayload = "value"u8.ToArray() };

        var pending = cache.GetAsync<string>("key").AsTask();
        Assert.That(pending.IsCompleted, Is.False);
        cache.Open();

        Assert.That(await pending, Is.EqualTo("value"));
        Assert.That((cache.ClientReads, cache.FramedReads), Is.EqualTo((1, 0)));
    }

    [Test]
    public async Task A_read_timed_on_another_clock_goes_through_the_backends_frame()
    {
        // A test clock is obeyed by a timer per command, which waits on a task: the backend's pooled frame gives one.
        using var cache = new GatedCache { Timeout = TimeSpan.FromSeconds(30), StartsClientReads = true, ClientReadPayload = "value"u8.ToArray(), TimeProvider = new FakeTimeProvider() };

        var pending = cache.GetAsync<string>("key").AsTask();
        cache.Open();

        Assert.That(await pending, Is.Null, "the frame's read answers from the gated store, which holds nothing");
        Assert.That((cache.ClientReads, cache.FramedReads), Is.EqualTo((0, 1)));
    }

    [Test]
    public void A_read_with_a_token_that_can_cancel_goes_through_the_backends_frame_and_is_cancelled_by_it()
    {
        using var cache = new GatedCache { Timeout = TimeSpan.FromSeconds(30), EnforcesTimeout = true, StartsClientReads = true };
        using var cancellation = new CancellationTokenSource();

        var pending = cache.GetAsync<string>("key", cancellationToken: cancellation.Token).AsTask();
        cancellation.Cancel();

        Assert.CatchAsync<OperationCanceledException>(async () => await pending);
        Assert.That((cache.ClientReads, cache.FramedReads), Is.EqualTo((0, 1)));
    }

    [Test]
    public void A_pending_read_needs_its_task_and_its_conversion()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => new PendingEntryRead(null!, static _ => CacheResult<object?>.Miss), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("reply"));
            Assert.That(() => new PendingEntryRead(Task.CompletedTask, null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("toEntry"));
        });
    }
}
