using System.Diagnostics;
using System.Net;
using StackExchange.Redis;

namespace Cached.Redis;

public sealed partial class RedisBackplane
{
    /// <summary>
    /// One subscriber's subscription to its channel. Making it, moving it to another kind of channel and checking it
    /// take turns (<see cref="_turn"/>), so that the handler is registered with the client once; disposing it does not
    /// wait for a turn, and whatever holds the turn unsubscribes again when it finds the subscription disposed.
    /// </summary>
    private sealed class Subscription(RedisBackplane owner, string name, IBackplaneSubscriber subscriber) : IDisposable
    {
        private readonly SemaphoreSlim _turn = new(1, 1);
        private Action<RedisChannel, RedisValue>? _handler;
        private volatile Probe? _probe;
        private RedisChannel? _channel;
        private EndPoint? _subscribedAt;
        private long _missingSince;
        private int _disposed;

        public string Name => name;

        // One delegate for the subscription's life, made on first use (a field initializer cannot reach this instance):
        // the client keeps handlers per channel, and unsubscribes by the same delegate.
        private Action<RedisChannel, RedisValue> Handler
        {
            get
            {
                var handler = Volatile.Read(ref _handler);
                if (handler is null)
                {
                    Interlocked.CompareExchange(ref _handler, (_, value) => Deliver(value), null);
                    handler = _handler;
                }

                return handler;
            }
        }

        public IBackplaneSubscriber Subscriber => subscriber;

        private bool IsDisposed => Volatile.Read(ref _disposed) != 0;

        /// <summary>Subscribes to the channel of the kind the server calls for, decided in the turn (see <see cref="Follow"/>).</summary>
        public void Start()
        {
            _turn.Wait();
            try
            {
                StartInTurn(owner.ChannelOf(name));
            }
            finally
            {
                _turn.Release();
            }
        }

        /// <summary>Moves the subscription to <paramref name="channel"/> when it is another kind of channel.</summary>
        public void Follow(RedisChannel channel)
        {
            _turn.Wait();
            try
            {
                if (IsDisposed || _channel is not { } current || current == channel)
                {
                    return;
                }

                owner._multiplexer.GetSubscriber().Unsubscribe(current, Handler, CommandFlags.FireAndForget);
                StartInTurn(channel);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                RedisLog.SubscribeDeferred(CachedLogging.Logger, name, ex.Message);
            }
            finally
            {
                _turn.Release();
            }
        }

        /// <summary>
        /// Checks a sharded subscription, unless another turn is under way. It reports messages as possibly lost when
        /// the subscription moved to another server, or came back after living on none; and subscribes again when it has
        /// lived on no server for longer than the client takes to subscribe again by itself.
        /// </summary>
        public async Task CheckAsync()
        {
            if (IsDisposed || !_turn.Wait(0))
            {
                return;
            }

            try
            {
                await CheckInTurnAsync().ConfigureAwait(false);
            }
            finally
            {
                _turn.Release();
            }
        }

        /// <summary>
        /// After a reconnect: the client reports the connection back before it has subscribed again, so messages
        /// published until the server has the subscription are lost, and a copy L1 takes meanwhile may be stale already.
        /// This publishes a probe on the channel until the subscription hears it (the server then had the subscription
        /// before the probe was published), and then drops L1 once more. A newer reconnect's probe takes over.
        /// </summary>
        public async Task ConfirmAsync()
        {
            var probe = new Probe();
            _probe = probe;
            var pause = s_firstProbePause;
            while (!IsDisposed && _probe == probe && !owner.IsDisposed)
            {
                try
                {
                    await owner.PublishAsync(name, new BackplaneMessage(probe.Id, BackplaneAction.Set, null, [], DateTimeOffset.UtcNow)).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // Not connected yet, or again (or disposed meanwhile, which the loop sees): the next probe tries. Nothing
                    // observes this task, so nothing may escape it.
                }

                if (await Task.WhenAny(probe.Heard.Task, Task.Delay(pause)).ConfigureAwait(false) == probe.Heard.Task)
                {
                    if (!IsDisposed)
                    {
                        subscriber.OnMessagesMayBeLost();
                    }

                    return;
                }

                pause = pause * 2 < s_lastProbePause ? pause * 2 : s_lastProbePause;
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            lock (owner._gate)
            {
                owner._subscriptions.Remove(this);
            }

            if (_channel is { } channel)
            {
                Unsubscribe(channel);
            }
        }

        private void StartInTurn(RedisChannel channel)
        {
            _channel = channel;
            _subscribedAt = null;
            _missingSince = 0;
            var client = owner._multiplexer.GetSubscriber();
            if (owner._multiplexer.IsConnected)
            {
                client.Subscribe(channel, Handler);
            }
            else
            {
                // No server answers yet: the client keeps the subscription and makes it when one does, and that reconnect
                // reports what was missed. Waiting here would hold every first read of the cache for the client's timeout.
                _ = client.SubscribeAsync(channel, Handler).ContinueWith(
                    static (failed, state) => RedisLog.SubscribeDeferred(CachedLogging.Logger, (string)state!, failed.Exception!.GetBaseException().Message),
                    name,
                    CancellationToken.None,
                    TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
                RedisLog.SubscribeDeferred(CachedLogging.Logger, name, "no Redis server is connected yet");
            }

            if (IsDisposed)
            {
                Unsubscribe(channel);
                return;
            }

            // Where it lives now, so that a move before the first check is noticed too.
            _subscribedAt = client.SubscribedEndpoint(channel);
        }

        private async Task CheckInTurnAsync()
        {
            if (IsDisposed || _channel is not { IsSharded: true } channel)
            {
                return;
            }

            var client = owner._multiplexer.GetSubscriber();
            var endpoint = client.SubscribedEndpoint(channel);
            if (endpoint is not null)
            {
                var wasMissing = _missingSince != 0;
                _missingSince = 0;
                if (wasMissing || (_subscribedAt is { } previous && !previous.Equals(endpoint)))
                {
                    RedisLog.SubscriptionMoved(CachedLogging.Logger, name, _subscribedAt, endpoint);
                    subscriber.OnMessagesMayBeLost();
                }

                _subscribedAt = endpoint;
                return;
            }

            if (!owner._multiplexer.IsConnected)
            {
                // No server at all: the reconnect subscribes again and reports the loss.
                return;
            }

            var now = Stopwatch.GetTimestamp();
            if (_missingSince == 0)
            {
                // Perhaps the client is subscribing again right now (a slot move, a reconnect): give it its time.
                _missingSince = now;
                return;
            }

            if (Stopwatch.GetElapsedTime(_missingSince, now) < s_subscriptionGrace)
            {
                return;
            }

            RedisLog.SubscriptionLost(CachedLogging.Logger, name);
            try
            {
                // The same handler, so that it is registered once: the client keeps handlers per channel.
                await client.UnsubscribeAsync(channel, Handler).ConfigureAwait(false);
                if (!IsDisposed)
                {
                    await client.SubscribeAsync(channel, Handler).ConfigureAwait(false);
                    _subscribedAt = client.SubscribedEndpoint(channel);
                    _missingSince = _subscribedAt is null ? _missingSince : 0;
                }

                if (IsDisposed)
                {
                    Unsubscribe(channel);
                    return;
                }
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                // The next check tries again; until a subscription holds, each check drops what L1 took meanwhile.
                RedisLog.SubscribeDeferred(CachedLogging.Logger, name, ex.Message);
            }

            // After the new subscription, not before: a copy taken before it may already be stale.
            subscriber.OnMessagesMayBeLost();
        }

        /// <summary>A message for the subscriber, or the probe this subscription waits for, which is nobody else's business.</summary>
        private void Deliver(RedisValue value)
        {
            if (BackplaneMessage.TryParse(((ReadOnlyMemory<byte>)value).Span, out var message))
            {
                if (_probe is { } probe && message.SenderId == probe.Id)
                {
                    probe.Heard.TrySetResult();
                    return;
                }

                subscriber.OnMessage(message);
            }
            else
            {
                // A version this node does not know, or a damaged message: what it said is lost.
                subscriber.OnMessagesMayBeLost();
            }
        }

        private void Unsubscribe(RedisChannel channel)
        {
            try
            {
                owner._multiplexer.GetSubscriber().Unsubscribe(channel, Handler, CommandFlags.FireAndForget);
            }
            catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
            {
                // The connection is gone, and the subscription with it.
            }
        }
    }

    /// <summary>
    /// A probe a subscription publishes on its own channel after a reconnect. Other nodes read it as a change of no keys,
    /// which changes nothing, and neither apply nor count it as a message received; its sender id is this probe's own.
    /// </summary>
    private sealed class Probe
    {
        public Guid Id { get; } = Guid.NewGuid();

        public TaskCompletionSource Heard { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
