using Cached.MultiLevel;

namespace Cached.Tests.MultiLevel;

/// <summary>
/// L1 takes nothing until the backplane subscription is made; a caller that finds another making it reads through L2
/// rather than wait for it (an outside check: every cold caller waited, held a thread-pool thread, and on two cores the
/// starved pool delayed the very connection the subscription waited for: 5-10 s, past the connect wait).
/// </summary>
public sealed class MultiLevelSubscribeTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);

    /// <summary>A backplane whose first subscription waits at a gate, as one waiting for its connection does.</summary>
    private sealed class SlowBackplane : ICacheBackplane
    {
        private readonly MemoryBackplane _inner = new();

        public readonly ManualResetEventSlim Entered = new();

        public readonly ManualResetEventSlim Release = new();

        public IDisposable Subscribe(string channel, IBackplaneSubscriber subscriber)
        {
            Entered.Set();
            Release.Wait(s_limit);
            return _inner.Subscribe(channel, subscriber);
        }

        public void Publish(string channel, BackplaneMessage message) => _inner.Publish(channel, message);

        public ValueTask PublishAsync(string channel, BackplaneMessage message, CancellationToken cancellationToken = default)
            => _inner.PublishAsync(channel, message, cancellationToken);

        public ValueTask DisposeAsync() => _inner.DisposeAsync();
    }

    [Test]
    public async Task A_read_that_finds_the_subscription_being_made_reads_L2_without_waiting_for_it([Values] bool async)
    {
        var backplane = new SlowBackplane();
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache(), backplane);
        cache.L2.Set("k", "in L2");
        var first = Task.Factory.StartNew(() => cache.Get<string>("k"), TaskCreationOptions.LongRunning);
        Assert.That(backplane.Entered.Wait(s_limit), Is.True, "the first read is subscribing");

        var second = async ? cache.GetAsync<string>("k").AsTask() : Task.Factory.StartNew(() => cache.Get<string>("k"), TaskCreationOptions.LongRunning);

        Assert.That(await second.WaitAsync(s_limit), Is.EqualTo("in L2"), "answered while the subscription is still being made");
        Assert.That(first.IsCompleted, Is.False);
        Assert.That(cache.IsInL1("k"), Is.False, "L1 took nothing before the subscription");
        backplane.Release.Set();
        Assert.That(await first.WaitAsync(s_limit), Is.EqualTo("in L2"));
        Assert.That(cache.Get<string>("k"), Is.EqualTo("in L2"));
        Assert.That(cache.IsInL1("k"), Is.True, "once subscribed, L1 takes its copies");
    }
}
