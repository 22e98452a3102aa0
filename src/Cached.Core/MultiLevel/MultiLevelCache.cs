using Cached.Capabilities;
using Cached.MultiLevel;
using Cached.Plugins;
using Cached.Runtime;
using Cached.Serializers;

namespace Cached;

/// <summary>
/// Two caches as one: a fast first level (<see cref="L1"/>, typically a <see cref="SimpleMemoryCache"/> in each
/// process) in front of a shared second level (<see cref="L2"/>, typically Redis), kept coherent across processes by
/// a <see cref="Backplane"/>.
/// </summary>
/// <remarks>
/// <para>Reads try L1, then L2, and copy what L2 returns into L1 for the entry's remaining time to live, at most
/// <see cref="L1Ttl"/>. Writes go to L2, then L1, then the backplane, which makes every other node drop its copy;
/// <c>Raw</c> goes to L2. docs/multilevel.md gives each command's meaning.</para>
/// <para>When L2 cannot be reached, L1 keeps answering; a write that failed to reach L2 is kept in L1 and retried in
/// the background, newest first per key, in a bounded queue. When the backplane reports that messages may have been
/// lost (after a reconnect), L1 is emptied, so that nothing another node changed meanwhile is served stale.</para>
/// <para>The cache owns its levels and its backplane and disposes them with itself.</para>
/// </remarks>
public sealed partial class MultiLevelCache : ICache, IBackplaneSubscriber
{
    private readonly PendingWrites _pending;
    private readonly object _subscribeGate = new();
    private readonly TimeSpan? _l1Ttl;
    private IDisposable? _subscription;
    private volatile bool _subscribed;
    private string? _channel;
    private string? _alias;
    private int _disposed;

    /// <summary>Creates a two-level cache.</summary>
    /// <param name="l1">The first level, read first (usually a <see cref="SimpleMemoryCache"/>).</param>
    /// <param name="l2">The second level, shared by every node (usually a Redis cache).</param>
    /// <param name="backplane">Carries this node's changes to the others; <c>null</c> for a single node, whose L1 is
    /// then kept coherent only with its own writes (set <see cref="L1Ttl"/> to bound what it may miss).</param>
    /// <exception cref="ArgumentNullException"><paramref name="l1"/> or <paramref name="l2"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="l1"/> and <paramref name="l2"/> are the same instance.</exception>
    public MultiLevelCache(ICache l1, ICache l2, ICacheBackplane? backplane = null)
    {
        ArgumentNullException.ThrowIfNull(l1);
        ArgumentNullException.ThrowIfNull(l2);
        if (ReferenceEquals(l1, l2))
        {
            throw new ArgumentException("The two levels must be different caches.", nameof(l2));
        }

        L1 = l1;
        L2 = l2;
        Backplane = backplane;
        _pending = new PendingWrites(this);
        if (l1 is BaseCache first)
        {
            first.Level = "L1";
        }

        if (l2 is BaseCache second)
        {
            second.Level = "L2";
        }
    }

    /// <summary>The first level, read first.</summary>
    public ICache L1 { get; }

    /// <summary>The second level, shared by every node.</summary>
    public ICache L2 { get; }

    /// <summary>Carries changes between nodes; <c>null</c> for a single node.</summary>
    public ICacheBackplane? Backplane { get; }

    /// <summary>
    /// The longest an entry stays in L1, whatever its time to live in L2; <c>null</c> (the default) bounds it by L2's
    /// remaining time to live alone. Set it when there is no backplane, or to bound what a lost message can cost.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public TimeSpan? L1Ttl
    {
        get => _l1Ttl;
        init => _l1Ttl = value is { } ttl && ttl <= TimeSpan.Zero
            ? throw new ArgumentOutOfRangeException(nameof(L1Ttl), value, "L1Ttl must be positive, or null for no bound.")
            : value;
    }

    /// <summary>
    /// The backplane channel: by default <c>cached:</c> followed by L2's namespace, so that nodes sharing a key space
    /// hear each other and two applications with their own namespaces on one server do not flush each other.
    /// </summary>
    /// <exception cref="ArgumentException">The value is empty.</exception>
    public string Channel
    {
        get => _channel ?? "cached:" + (L2.Namespace ?? string.Empty);
        init
        {
            ArgumentException.ThrowIfNullOrEmpty(value, nameof(Channel));
            _channel = value;
        }
    }

    /// <summary>At most this many writes wait for L2 to come back; when full, the oldest is dropped and logged.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public int PendingWriteLimit
    {
        get => _pending.Limit;
        init => _pending.Limit = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(PendingWriteLimit), value, "PendingWriteLimit must be positive.");
    }

    /// <summary>This node's identity on the backplane; a node skips its own messages.</summary>
    public Guid InstanceId { get; } = Guid.NewGuid();

    /// <summary>Writes that failed to reach L2 and wait to be retried.</summary>
    public int PendingWriteCount => _pending.Count;

    /// <inheritdoc />
    public string? Namespace => L2.Namespace;

    /// <inheritdoc />
    public ISerializer Serializer => L2.Serializer;

    /// <summary>None: each level runs its own plugins.</summary>
    public IReadOnlyList<ICachePlugin> Plugins => [];

    /// <inheritdoc />
    public TimeSpan? Timeout => L2.Timeout;

    /// <inheritdoc />
    public TimeSpan? Ttl => L2.Ttl;

    /// <inheritdoc />
    public string BuildKey(string key, string? @namespace = null) => L2.BuildKey(key, @namespace);

    /// <inheritdoc />
    void IBackplaneSubscriber.OnMessage(BackplaneMessage message)
    {
        if (message.SenderId == InstanceId || Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        try
        {
            switch (message.Action)
            {
                case BackplaneAction.Clear:
                    L1.Clear(message.Namespace);
                    break;
                case BackplaneAction.Tags:
                    // Entries are not indexed by tag in L1; dropping L1 is always correct.
                    L1.Clear();
                    break;
                default:
                    foreach (var key in message.Keys)
                    {
                        L1.Delete(key, message.Namespace);
                    }

                    break;
            }

            MultiLevelTelemetry.Received(this, message.Action);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            MultiLevelLog.ApplyFailed(CachedLogging.Logger, ex, message.ToString(), AliasForLogs);
        }
    }

    /// <inheritdoc />
    void IBackplaneSubscriber.OnMessagesMayBeLost()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        try
        {
            L1.Clear();
            MultiLevelLog.L1Flushed(CachedLogging.Logger, AliasForLogs);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            MultiLevelLog.ApplyFailed(CachedLogging.Logger, ex, "flush after lost messages", AliasForLogs);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _pending.Dispose();
        _subscription?.Dispose();
        L1.Dispose();
        L2.Dispose();
        if (Backplane is not null)
        {
            Backplane.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _pending.StopAsync().ConfigureAwait(false);
        _pending.Dispose();
        _subscription?.Dispose();
        await L1.DisposeAsync().ConfigureAwait(false);
        await L2.DisposeAsync().ConfigureAwait(false);
        if (Backplane is not null)
        {
            await Backplane.DisposeAsync().ConfigureAwait(false);
        }
    }

    internal string AliasForLogs => _alias ?? "(multi-level)";

    /// <summary>
    /// Subscribes to the backplane before L1 first takes an entry (until then L1 holds nothing a message could make
    /// stale). False while subscribing fails: L1 then takes nothing, and reads go to L2.
    /// </summary>
    private bool CanFillL1()
    {
        if (Backplane is null || _subscribed)
        {
            return true;
        }

        lock (_subscribeGate)
        {
            if (_subscribed)
            {
                return true;
            }

            try
            {
                _subscription = Backplane.Subscribe(Channel, this);
                _subscribed = true;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                MultiLevelLog.SubscribeFailed(CachedLogging.Logger, ex, Channel, AliasForLogs);
            }

            return _subscribed;
        }
    }

    /// <summary>How long L1 may keep an entry L2 keeps for <paramref name="remaining"/>; zero when not at all.</summary>
    private TimeSpan? L1Life(TimeSpan? remaining)
    {
        if (remaining is { } left && _l1Ttl is { } bound)
        {
            return left < bound ? left : bound;
        }

        return remaining ?? _l1Ttl;
    }

    /// <summary>The L1 life of an entry written with <paramref name="ttl"/> (or L2's default when null).</summary>
    private TimeSpan? L1LifeOfWrite(TimeSpan? ttl) => L1Life(ttl ?? L2.Ttl);

    private void Publish(BackplaneAction action, string? @namespace, IReadOnlyList<string> keys)
    {
        if (Backplane is null)
        {
            return;
        }

        try
        {
            Backplane.Publish(Channel, new BackplaneMessage(InstanceId, action, @namespace, keys, DateTimeOffset.UtcNow));
            MultiLevelTelemetry.Published(this, action);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // L2 holds the change; the other nodes keep their copies until L1Ttl or their next reconnect.
            MultiLevelLog.PublishFailed(CachedLogging.Logger, ex, action.ToString(), AliasForLogs);
        }
    }

    internal async ValueTask PublishAsync(BackplaneAction action, string? @namespace, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        if (Backplane is null)
        {
            return;
        }

        try
        {
            await Backplane.PublishAsync(Channel, new BackplaneMessage(InstanceId, action, @namespace, keys, DateTimeOffset.UtcNow), cancellationToken).ConfigureAwait(false);
            MultiLevelTelemetry.Published(this, action);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException and not OperationCanceledException)
        {
            MultiLevelLog.PublishFailed(CachedLogging.Logger, ex, action.ToString(), AliasForLogs);
        }
    }

    /// <summary>True for a fault that means L2 could not be reached, after which a write is kept for a retry.</summary>
    internal static bool IsUnreachable(Exception exception) => exception is CacheBackendException or TimeoutException;

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
}
