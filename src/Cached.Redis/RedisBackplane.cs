using StackExchange.Redis;

namespace Cached.Redis;

/// <summary>
/// A <see cref="MultiLevelCache"/> backplane on Redis pub/sub: each node publishes its changes on the cache's channel
/// and drops what its L1 holds of the keys other nodes changed.
/// </summary>
/// <remarks>
/// <para>Delivery is at most once, as Redis pub/sub is: a node that is cut off misses what is published meanwhile. So
/// when a connection comes back the backplane tells every subscriber that messages may have been lost, and each cache
/// empties its L1. StackExchange.Redis subscribes again by itself.</para>
/// <para>On Redis Cluster the channels are sharded (<c>SPUBLISH</c>/<c>SSUBSCRIBE</c>, Redis 7 and later) unless
/// <see cref="Sharded"/> says otherwise: a message then travels to the shard that owns its channel instead of to every
/// node of the cluster. When the channel's hash slot moves to another primary, Redis ends the subscription; the backplane
/// checks its sharded subscriptions every second and on every slot move the client sees, subscribes again when the client
/// did not within a second, and tells the subscriber that messages may have been lost whenever the subscription was
/// lost or moved.</para>
/// </remarks>
public sealed partial class RedisBackplane : ICacheBackplane
{
    // How often sharded subscriptions are checked: the check reads the client's own state, so it costs no round trip
    // unless a subscription has to be made again.
    private static readonly TimeSpan s_subscriptionCheckInterval = TimeSpan.FromSeconds(1);

    // The first connection attempt of a backplane made from a configuration string, and its client's heartbeat: those of
    // a RedisCache with its default Timeout and ConnectWait.
    private static readonly TimeSpan s_firstConnectionWait = TimeSpan.FromMilliseconds(1500);
    private static readonly TimeSpan s_heartbeat = TimeSpan.FromMilliseconds(500);

    // How long a sharded subscription may live on no server before it counts as lost: the client's own subscribing
    // again after a slot move (through the old owner, then where it is sent) takes a few round trips.
    private static readonly TimeSpan s_subscriptionGrace = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_firstProbePause = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan s_lastProbePause = TimeSpan.FromSeconds(1);

    private readonly IConnectionMultiplexer _multiplexer;
    private readonly bool _ownsMultiplexer;
    private readonly object _gate = new();
    private readonly object _decision = new();
    private readonly List<Subscription> _subscriptions = [];
    private int _disposed;
    private Timer? _subscriptionCheck;

    // Whether the server is a cluster, decided once a server has answered: 0 not yet, 1 no, 2 yes.
    private int _cluster;

    /// <summary>Connects to the Redis named by a StackExchange.Redis configuration string (for example <c>"127.0.0.1:6379"</c>).</summary>
    /// <param name="configuration">
    /// The configuration string. The connection is opened now: the constructor waits for the first attempt (1.5 s
    /// unless the string sets <c>connectTimeout</c>, which the client may spend twice when the server refuses), and
    /// further attempts run in the background if Redis is not
    /// there yet. The client checks the connection every half second, as a <see cref="RedisCache"/>'s own connection
    /// does, so that after an outage the backplane is back about when the caches are.
    /// </param>
    /// <exception cref="ArgumentException"><paramref name="configuration"/> is empty or not a configuration string.</exception>
    public RedisBackplane(string configuration)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration);
        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(configuration);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"'{configuration}' is not a StackExchange.Redis configuration string: {ex.Message}", nameof(configuration), ex);
        }

        // A backplane that starts before Redis does keeps trying, as the caches do, instead of failing the start; its
        // first attempt and its heartbeat are a RedisCache's, so it neither holds the start for 5 s nor comes back from
        // an outage later than the caches' connections (while it is back and the backplane is not, L1 copies are stale).
        options.AbortOnConnectFail = false;
        if (!configuration.Contains("connectTimeout", StringComparison.OrdinalIgnoreCase))
        {
            options.ConnectTimeout = (int)s_firstConnectionWait.TotalMilliseconds;
        }

        if (options.HeartbeatInterval > s_heartbeat)
        {
            options.HeartbeatInterval = s_heartbeat;
        }

        _multiplexer = ConnectionMultiplexer.Connect(options);
        _ownsMultiplexer = true;
        Watch();
    }

    /// <summary>Connects with options a <see cref="RedisCache"/> worked out (its endpoint, credentials and TLS trust).</summary>
    internal RedisBackplane(ConfigurationOptions options)
    {
        options = options.Clone();
        options.AbortOnConnectFail = false;
        _multiplexer = ConnectionMultiplexer.Connect(options);
        _ownsMultiplexer = true;
        Watch();
    }

    /// <summary>Uses a connection the application already has; it stays open when the backplane is disposed.</summary>
    /// <param name="multiplexer">The connection.</param>
    /// <exception cref="ArgumentNullException"><paramref name="multiplexer"/> is null.</exception>
    public RedisBackplane(IConnectionMultiplexer multiplexer)
    {
        ArgumentNullException.ThrowIfNull(multiplexer);
        _multiplexer = multiplexer;
        Watch();
    }

    /// <summary>
    /// Whether channels are sharded (<c>SPUBLISH</c>); <c>null</c> (the default) shards them on Redis Cluster and not
    /// on a single server, nor on a cluster that cannot list its shard channels (Microsoft Garnet's cluster mode, which
    /// takes sharded subscriptions but delivers their messages as plain ones, which the client drops).
    /// </summary>
    public bool? Sharded { get; init; }

    private bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>The connection the backplane publishes and subscribes on.</summary>
    public IConnectionMultiplexer Connection => _multiplexer;

    /// <inheritdoc />
    public IDisposable Subscribe(string channel, IBackplaneSubscriber subscriber)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        ArgumentNullException.ThrowIfNull(subscriber);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var subscription = new Subscription(this, channel, subscriber);
        lock (_gate)
        {
            _subscriptions.Add(subscription);
        }

        try
        {
            subscription.Start();
        }
        catch (Exception ex) when (ex is RedisConnectionException or TimeoutException)
        {
            // The client keeps the subscription and makes it when the connection comes; what was published until then
            // is reported lost on that reconnect.
            RedisLog.SubscribeDeferred(CachedLogging.Logger, channel, ex.Message);
        }
        catch (RedisException ex)
        {
            // The client registered the handler before the server refused: take it back, with the subscription.
            subscription.Dispose();
            throw new CacheBackendException($"Subscribing to backplane channel '{channel}' failed: {ex.Message}", ex);
        }

        return subscription;
    }

    /// <inheritdoc />
    public void Publish(string channel, BackplaneMessage message)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        ArgumentNullException.ThrowIfNull(message);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var to = PublishChannelOf(channel);
        try
        {
            _multiplexer.GetSubscriber().Publish(to, message.ToBytes());
        }
        catch (RedisException ex)
        {
            throw new CacheBackendException($"Publishing on backplane channel '{channel}' failed: {ex.Message}", ex);
        }
    }

    /// <inheritdoc />
    public async ValueTask PublishAsync(string channel, BackplaneMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        ArgumentNullException.ThrowIfNull(message);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        var to = PublishChannelOf(channel);
        try
        {
            await _multiplexer.GetSubscriber().PublishAsync(to, message.ToBytes()).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RedisException ex)
        {
            throw new CacheBackendException($"Publishing on backplane channel '{channel}' failed: {ex.Message}", ex);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _multiplexer.ConnectionRestored -= OnConnectionRestored;
        _multiplexer.ConnectionFailed -= OnConnectionFailed;
        _multiplexer.HashSlotMoved -= OnHashSlotMoved;
        if (_subscriptionCheck is { } check)
        {
            await check.DisposeAsync().ConfigureAwait(false);
        }

        lock (_gate)
        {
            _subscriptions.Clear();
        }

        if (_ownsMultiplexer)
        {
            await _multiplexer.CloseAsync(allowCommandsToComplete: true).ConfigureAwait(false);
            _multiplexer.Dispose();
        }
    }

    private void Watch()
    {
        _multiplexer.ConnectionRestored += OnConnectionRestored;
        _multiplexer.ConnectionFailed += OnConnectionFailed;
        _multiplexer.HashSlotMoved += OnHashSlotMoved;
        _subscriptionCheck = new Timer(
            static state => ((RedisBackplane)state!).CheckSubscriptions(),
            this,
            s_subscriptionCheckInterval,
            s_subscriptionCheckInterval);
        if (_multiplexer.IsConnected)
        {
            // On the constructor's thread, which waited for the connection already, rather than on a later write (before
            // an init-only Sharded is set, so asked even when it will say: one round trip).
            _ = IsCluster();
        }
    }

    /// <summary>
    /// Makes sure every sharded subscription still lives on a server. A slot's migration ends its sharded subscriptions
    /// (Redis sends <c>SUNSUBSCRIBE</c> without dropping the connection); the client subscribes again on its own, but
    /// not always successfully (when the old owner learns of the move before the new one, the new subscription is
    /// refused), and never without a gap in which messages are lost. Each subscription is checked on its own, so one
    /// waiting for an unreachable shard holds up no other.
    /// </summary>
    private void CheckSubscriptions()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        Subscription[] subscriptions;
        lock (_gate)
        {
            subscriptions = [.. _subscriptions];
        }

        foreach (var subscription in subscriptions)
        {
            _ = CheckAsync(subscription);
        }
    }

    private async Task CheckAsync(Subscription subscription)
    {
        try
        {
            await subscription.CheckAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (Volatile.Read(ref _disposed) != 0 && ex is ObjectDisposedException or RedisException)
        {
            // The backplane closed its connection under a running check: nothing is left to check.
        }
        catch (Exception ex)
        {
            // A timer's work has no caller to throw to; the next check tries again.
            RedisLog.SubscriptionCheckFailed(CachedLogging.Logger, ex, subscription.Name);
        }
    }

    private void OnHashSlotMoved(object? sender, HashSlotMovedEventArgs e)
    {
        // The client saw a slot move (a MOVED reply): check at once rather than at the next tick.
        if (Volatile.Read(ref _disposed) == 0)
        {
            CheckSubscriptions();
        }
    }

    private RedisChannel ChannelOf(string channel)
        => (Sharded ?? IsCluster()) ? RedisChannel.Sharded(channel) : RedisChannel.Literal(channel);

    /// <summary>
    /// The channel a message goes out on. Before any server has answered, whether that is a cluster is not known, and
    /// the client would queue the message and send it as a plain publish once connected, which the nodes of a cluster,
    /// listening on sharded channels, never hear: the publish fails instead, as while the server is down, and the
    /// message is kept and sent again when the connection comes (<see cref="IBackplaneSubscriber.OnMessagesMayBeLost"/>).
    /// </summary>
    private RedisChannel PublishChannelOf(string channel)
    {
        if (Sharded is null && !IsCluster() && Volatile.Read(ref _cluster) == 0)
        {
            throw new CacheBackendException($"Publishing on backplane channel '{channel}' failed: no Redis server has answered yet.", null, unreachable: true);
        }

        return ChannelOf(channel);
    }

    /// <summary>
    /// Whether the server is a Redis Cluster whose channels are sharded, decided once, when a server first answers, so
    /// that every later publish and subscription agrees (a sharded and a plain channel never hear each other). Until
    /// then: no, and a publish fails to be sent again (<see cref="PublishChannelOf"/>). Garnet's cluster mode is a
    /// cluster without working sharded channels (<see cref="ListsShardChannels"/>): no there too. One caller asks at a
    /// time, and the constructor asks first when it finds the server connected, so that the question is rarely left to
    /// a write; once decided, subscriptions made before move to the kind decided.
    /// </summary>
    private bool IsCluster()
    {
        var decided = Volatile.Read(ref _cluster);
        if (decided != 0)
        {
            return decided == 2;
        }

        bool cluster;
        lock (_decision)
        {
            decided = Volatile.Read(ref _cluster);
            if (decided != 0)
            {
                return decided == 2;
            }

            var connected = false;
            IServer? primary = null;
            foreach (var endpoint in _multiplexer.GetEndPoints())
            {
                if (_multiplexer.GetServer(endpoint) is { IsConnected: true } server)
                {
                    connected = true;
                    primary ??= server.ServerType == ServerType.Cluster && !server.IsReplica ? server : null;
                }
            }

            if (!connected || (primary is not null ? ListsShardChannels(primary) : false) is not { } sharded)
            {
                // Not known yet (no server, or no answer from one): asked again by the next caller.
                return false;
            }

            cluster = sharded;
            Volatile.Write(ref _cluster, cluster ? 2 : 1);
        }

        if (cluster)
        {
            // Subscriptions made while it was not known are plain: they move now, not at the next reconnect.
            ThreadPool.UnsafeQueueUserWorkItem(static backplane => backplane.FollowDecision(), this, preferLocal: false);
        }

        return cluster;
    }

    private void FollowDecision()
    {
        Subscription[] subscriptions;
        lock (_gate)
        {
            subscriptions = [.. _subscriptions];
        }

        foreach (var subscription in subscriptions)
        {
            subscription.Follow(ChannelOf(subscription.Name));
        }
    }

    /// <summary>
    /// Whether a cluster's primary lists its sharded channels (<c>PUBSUB SHARDCHANNELS</c>): the mark of a server whose
    /// sharded channels work. Redis before 7 has none, and Microsoft Garnet's cluster mode does not know the subcommand
    /// either; there sharded messages are lost: it takes SSUBSCRIBE and SPUBLISH, and counts the subscriber, but pushes
    /// the message as a plain "message", which StackExchange.Redis hands to no sharded subscription. It forwards a plain
    /// PUBLISH across its cluster, so plain channels carry the messages there. <c>null</c> when the server gave no such
    /// answer (a timeout, a lost connection, a refusal such as an ACL's or a node still loading): not known yet.
    /// </summary>
    private static bool? ListsShardChannels(IServer server)
    {
        try
        {
            server.Execute("PUBSUB", "SHARDCHANNELS");
            return true;
        }
        catch (RedisServerException ex) when (ex.Message.Contains("unknown", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        catch (Exception ex) when (ex is RedisException or RedisCommandException or TimeoutException)
        {
            return null;
        }
    }

    // The connection types whose loss was logged and whose restoration is still to be: the client also reports a
    // connection it makes for the first time after the handlers were attached (the subscription connection, made on
    // the first subscribe, or a first connect slower than the client's start) as restored, which lost nothing.
    private int _lostTypes;

    private static int TypeBit(ConnectionType type) => type == ConnectionType.Subscription ? 2 : 1;

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        Interlocked.Or(ref _lostTypes, TypeBit(e.ConnectionType));
        RedisLog.ConnectionLost(CachedLogging.Logger, e.EndPoint, e.ConnectionType, e.FailureType);
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        var bit = TypeBit(e.ConnectionType);
        if ((Interlocked.And(ref _lostTypes, ~bit) & bit) != 0)
        {
            RedisLog.ConnectionRestored(CachedLogging.Logger, e.EndPoint, e.ConnectionType);
        }

        // Whether or not a loss was seen, L1 is emptied and the subscriptions confirmed, as after any gap.

        Subscription[] subscriptions;
        lock (_gate)
        {
            subscriptions = [.. _subscriptions];
        }

        foreach (var subscription in subscriptions)
        {
            // A subscription made before any server answered was plain; on a cluster it moves to the sharded channel.
            subscription.Follow(ChannelOf(subscription.Name));
            subscription.Subscriber.OnMessagesMayBeLost();

            // And once more when the server has the subscription again, which the client makes after this event.
            _ = subscription.ConfirmAsync();
        }
    }
}
