using Cached.Capabilities;
using Cached.Pipeline;
using Cached.Serializers;

namespace Cached.Runtime;

/// <summary>
/// The fenced fill a flight's leader opens before its body runs: a <see cref="FillTicket"/> of any fenced cache, or,
/// on a store in this process, the fence alone (<see cref="InProcessFill"/>), so that a miss there allocates no
/// ticket. The default is no fill: the cache fences nothing, or the fill failed to open. Disposed once, by the leader.
/// </summary>
internal readonly struct LeaderFill : IDisposable
{
    private readonly FillTicket? _ticket;
    private readonly BaseCache? _owner;
    private readonly InProcessFill _local;

    public LeaderFill(FillTicket ticket) => _ticket = ticket;

    public LeaderFill(BaseCache owner, InProcessFill local)
    {
        _owner = owner;
        _local = local;
    }

    /// <summary>Whether a fill is open: its result is stored through it, and only if it is current.</summary>
    public bool IsOpen => _ticket is not null || _owner is not null;

    /// <summary>The ticket of a fill opened through <see cref="IFencedFillCache"/>; null for a fill in this process.</summary>
    public FillTicket? Ticket => _ticket;

    /// <summary>The fence of a fill in this process; meaningless unless <see cref="Ticket"/> is null and the fill is open.</summary>
    public FillFences.Ticket LocalFence => _local.Fence;

    /// <summary>
    /// Opens the fill of <paramref name="key"/> on <paramref name="cache"/>, in this process when its store lives there.
    /// The async open is the leader's own (<c>CachedMethod.OpenFillAsync</c>), so that it costs no frame of this type's.
    /// </summary>
    public static LeaderFill Open(IFencedFillCache cache, string key, string? @namespace)
        => cache is BaseCache { OpensFillsInProcess: true } local
            ? OpenInProcess(local, key, @namespace)
            : new LeaderFill(cache.OpenFill(key, @namespace));

    /// <summary>The fill of <paramref name="key"/> on a store in this process (<see cref="BaseCache.OpensFillsInProcess"/>): its fence alone.</summary>
    public static LeaderFill OpenInProcess(BaseCache local, string key, string? @namespace)
        => new(local, local.OpenInProcessFill(key, @namespace));

    /// <summary>Stores <paramref name="value"/> if nothing invalidated the key since the fill opened.</summary>
    public bool TryFill<T>(ICache cache, T value, TimeSpan? ttl, ISerializer? serializer)
        => _ticket is not null
            ? ((IFencedFillCache)cache).TryFill(_ticket, value, ttl, serializer)
            : _owner!.TryFillInProcess(in _local, value, ttl, serializer);

    /// <inheritdoc cref="TryFill"/>
    public ValueTask<bool> TryFillAsync<T>(ICache cache, T value, TimeSpan? ttl, ISerializer? serializer, CancellationToken cancellationToken)
        => _ticket is not null
            ? ((IFencedFillCache)cache).TryFillAsync(_ticket, value, ttl, serializer, cancellationToken)
            : _owner!.TryFillInProcessAsync(_local, value, ttl, serializer, cancellationToken);

    /// <summary>Closes the fill, stored or not. Call once: a fill in this process is a value, with nothing to say it closed.</summary>
    public void Dispose()
    {
        if (_ticket is not null)
        {
            _ticket.Dispose();
        }
        else
        {
            _owner?.CloseInProcessFill(in _local);
        }
    }
}
