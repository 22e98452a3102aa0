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
public sealed partial class MultiLevelCache : ICache, IBackplaneSubscriber, DependencyInjection.IContainerHeld, IRetirableCache
{
    // The running call's CacheEntryOptions.LocalTtl. Ambient because the read-through core reaches L1 through this
    // cache's own commands, which take no options; set only around a GetOrSet or Set that names one.
    // The cache is part of the value: a factory that calls another two-level cache must not pass the bound on to it.
    private static readonly AsyncLocal<CallL1Bound?> s_callL1Bound = new();

    private readonly PendingWrites _pending;
    private readonly TimeSpan? _l1Ttl;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string?> _l1Namespaces = new(StringComparer.Ordinal);
    private readonly UnsentMessages _unsent;
    private string? _channel;
    private string? _alias;
    private int _disposed;
    private DependencyInjection.ContainerHolds _containerHolds;

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
        _unsent = new UnsentMessages(this);
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

    /// <summary>
    /// Whether disposing this cache disposes its <see cref="Backplane"/> (the default); false for a backplane that
    /// several caches share, which its owner disposes.
    /// </summary>
    public bool OwnsBackplane { get; init; } = true;

    /// <summary>This node's identity on the backplane; a node skips its own messages.</summary>
    public Guid InstanceId { get; } = Guid.NewGuid();

    /// <summary>
    /// Writes that failed to reach L2 and wait to be retried. A retried write stops counting once it reached L2, this
    /// node's first level dropped the key and the other nodes were told (the message handed to the backplane).
    /// </summary>
    public int PendingWriteCount => _pending.Count;

    /// <summary>Backplane messages kept because their send failed, to be sent again when the connection comes back.</summary>
    internal int UnsentMessageCount => _unsent.Count;

    /// <summary>
    /// Whether this node's L1 holds a live copy of the key, kept under L2's namespace (the default namespace and the
    /// same one spelled out are one entry). For diagnostics and tests. It asks L1's <c>Exists</c>, which counts as a use
    /// of the copy on a bounded L1 (<c>MaxEntries</c>) and does not look at tags: a tagged copy whose tag was
    /// invalidated is still there, and every read answers it as a miss.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="key"/> is null or empty, or a level cannot hold it or the namespace (as every command refuses them).</exception>
    public bool IsInL1(string key, string? @namespace = null)
    {
        CheckKey(key, @namespace);
        return L1.Exists(key, L1Space(@namespace));
    }

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
        // A message of no keys is neither applied nor counted as received: another node's probe, most often.
        if (message.SenderId == InstanceId || Volatile.Read(ref _disposed) != 0 || message.ChangesNothing)
        {
            return;
        }

        try
        {
            switch (message.Action)
            {
                case BackplaneAction.Clear:
                    ClearL1(message.Namespace);
                    break;
                case BackplaneAction.Tags:
                    InvalidateInL1(message.Keys as string[] ?? message.Keys.ToArray());
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
            FlushL1();
            MultiLevelLog.L1Flushed(CachedLogging.Logger, AliasForLogs);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            MultiLevelLog.ApplyFailed(CachedLogging.Logger, ex, "flush after lost messages", AliasForLogs);
        }

        // The connection is back: what this node could not send reaches the others now, and the writes it kept for L2
        // are tried at once rather than after their back-off (up to 5 s), during which every node reads L2's old entries.
        _unsent.SendAgain();
        _pending.RetryNow();
    }

    /// <summary>
    /// Empties L1 in every namespace this cache put entries in, and forgets them (a namespace per tenant would otherwise
    /// be kept, and emptied again on every clear). A namespace is forgotten before it is emptied; a write records its
    /// namespace before it writes L1, so a copy that lands before this clear empties it is found, and again after (in a
    /// <c>finally</c>), so a copy that lands after it, whose namespace this clear forgot, is found by the next.
    /// </summary>
    private void FlushL1()
    {
        foreach (var recorded in _l1Namespaces)
        {
            _l1Namespaces.TryRemove(recorded);
            try
            {
                L1.Clear(recorded.Value);
            }
            catch
            {
                Track(recorded.Value);
                throw;
            }
        }
    }

    /// <summary>
    /// The namespace a key lives in on L1: the one L2 resolves it to, so that every name of one L2 entry (the default
    /// namespace given as null, or spelled out) is one L1 entry, on every node, and in every message.
    /// </summary>
    internal string? L1Space(string? @namespace) => @namespace ?? L2.Namespace;

    /// <inheritdoc />
    void DependencyInjection.IContainerHeld.AddContainerHold() => _containerHolds.Add();

    /// <summary>
    /// L2's commands, for <see cref="Caches"/> retiring a replaced two-level alias: disposing this cache disposes L2
    /// (its connection), so it waits until no command runs on L2; L1 is in process. Nothing to wait for when L2 keeps
    /// serving after it is disposed.
    /// </summary>
    Pipeline.CommandCount? IRetirableCache.CountCommands() => (L2 as IRetirableCache)?.CountCommands();

    /// <summary>
    /// Records a namespace L1 holds entries in, for <see cref="FlushL1"/>: before each write to L1 and again after it.
    /// A lookup comes first, since adding takes a lock even when the namespace is there.
    /// </summary>
    private void Track(string? space)
    {
        var recorded = space ?? "\0";
        if (!_l1Namespaces.ContainsKey(recorded))
        {
            _l1Namespaces.TryAdd(recorded, space);
        }
    }

    /// <inheritdoc cref="BaseCache.Dispose()"/>
    public void Dispose()
    {
        if (_containerHolds.TryRelease() || Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        StopBackgroundWork();
        _pending.Dispose();
        _pending.Drained.Wait(TimeSpan.FromSeconds(1));
        EndSubscription();
        L1.Dispose();
        L2.Dispose();
        if (Backplane is not null && OwnsBackplane)
        {
            Backplane.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    /// <inheritdoc cref="BaseCache.Dispose()"/>
    public async ValueTask DisposeAsync()
    {
        if (_containerHolds.TryRelease() || Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        StopBackgroundWork();
        await _pending.StopAsync().ConfigureAwait(false);
        _pending.Dispose();
        EndSubscription();
        await L1.DisposeAsync().ConfigureAwait(false);
        await L2.DisposeAsync().ConfigureAwait(false);
        if (Backplane is not null && OwnsBackplane)
        {
            await Backplane.DisposeAsync().ConfigureAwait(false);
        }
    }

    internal string AliasForLogs => _alias ?? "(multi-level)";

    /// <summary>The writes waiting for L2 (tests set its retry delays).</summary>
    internal PendingWrites WaitingWrites => _pending;

    /// <summary>
    /// How long L1 may keep an entry L2 keeps for <paramref name="remaining"/>: the shortest of that, <see cref="L1Ttl"/>
    /// and the running call's <see cref="CacheEntryOptions.LocalTtl"/>; zero when not at all.
    /// </summary>
    private TimeSpan? L1Life(TimeSpan? remaining)
        => Shorter(Shorter(remaining, _l1Ttl), s_callL1Bound.Value is { } call && ReferenceEquals(call.Cache, this) ? call.Bound : null);

    /// <summary>The <see cref="CacheEntryOptions.LocalTtl"/> of the call in progress on one cache.</summary>
    private sealed record CallL1Bound(MultiLevelCache Cache, TimeSpan Bound);

    private static TimeSpan? Shorter(TimeSpan? first, TimeSpan? second)
        => first is { } a && second is { } b ? (a < b ? a : b) : first ?? second;

    /// <summary>
    /// The L1 life of an entry written with <paramref name="ttl"/>: L2's default when null, none for zero or
    /// <see cref="Timeout.InfiniteTimeSpan"/>, as every cache reads a time to live.
    /// </summary>
    private TimeSpan? L1LifeOfWrite(TimeSpan? ttl) => L1Life(ExpiryOf(ttl));

    /// <summary>How long L2 keeps an entry written with <paramref name="ttl"/>; null for no expiry.</summary>
    internal TimeSpan? ExpiryOf(TimeSpan? ttl) => ttl is null ? L2.Ttl : TtlRules.Normalize(ttl, nameof(ttl));

    /// <summary>
    /// Tells the other nodes, after L2 took the change. The message goes onto the connection at once, in order behind
    /// the write, without waiting for the server's reply; a send that fails is logged and sent again when the
    /// backplane's connection comes back (<see cref="UnsentMessages"/>). The caller's token does not cancel it: the
    /// change is already made.
    /// </summary>
    internal void Publish(BackplaneAction action, string? space, IReadOnlyList<string> keys)
    {
        if (Backplane is null)
        {
            return;
        }

        var message = new BackplaneMessage(InstanceId, action, space, keys, DateTimeOffset.UtcNow);
        if (Send(Channel, message) && _channel is null && space is not null && action != BackplaneAction.Tags
            && !string.Equals(space, L2.Namespace, StringComparison.Ordinal))
        {
            // A change of keys in another namespace than L2's (a per-call namespace) concerns the nodes whose L2 is in
            // that one, which listen on its default channel; a channel the application named is every node's already.
            // Tags are not keys of a namespace: their records live in this cache's. (Kept for a resend once, by the
            // first send: a resend publishes on both again.)
            Send("cached:" + (space ?? string.Empty), message);
        }
    }

    /// <summary>Sends <paramref name="message"/> on <paramref name="channel"/>; false when it failed at once and is kept.</summary>
    private bool Send(string channel, BackplaneMessage message)
    {
        ValueTask sending;
        try
        {
            sending = Backplane!.PublishAsync(channel, message, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _unsent.Failed(message, ex);
            return false;
        }

        if (sending.IsCompletedSuccessfully)
        {
            MultiLevelTelemetry.Published(this, message.Action);
            return true;
        }

        _ = Observe(sending.AsTask(), message);
        return true;
    }

    private async Task Observe(Task sending, BackplaneMessage message)
    {
        try
        {
            await sending.ConfigureAwait(false);
            MultiLevelTelemetry.Published(this, message.Action);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _unsent.Failed(message, ex);
        }
    }

    /// <summary>True for a fault that means L2 could not be reached, after which a write is kept for a retry.</summary>
    internal static bool IsUnreachable(Exception exception) => exception is CacheBackendException { Unreachable: true } or TimeoutException;

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
}
