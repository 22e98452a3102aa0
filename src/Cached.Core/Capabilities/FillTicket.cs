using Cached.Pipeline;

namespace Cached.Capabilities;

/// <summary>
/// An open fill of one key (<see cref="IFencedFillCache.OpenFill"/>): the key's fence when it opened. Dispose it when
/// the fill is over, stored or not.
/// </summary>
public sealed class FillTicket : IDisposable
{
    private readonly BaseCache _owner;
    private readonly FillFences _fences;
    private int _closed;
    private volatile bool _attempted;

    internal FillTicket(BaseCache owner, FillFences fences, FillFences.Ticket local, string key, string? @namespace, object? remoteFence)
    {
        _owner = owner;
        _fences = fences;
        Local = local;
        Key = key;
        Namespace = @namespace;
        RemoteFence = remoteFence;
    }

    /// <summary>The caller's key, as given to <see cref="IFencedFillCache.OpenFill"/>.</summary>
    public string Key { get; }

    /// <summary>The namespace the key is in, resolved (the cache's own when none was given).</summary>
    public string? Namespace { get; }

    /// <summary>The fence in this process.</summary>
    internal FillFences.Ticket Local { get; }

    /// <summary>What the backend noted of its own fence (on Redis, the fence tokens read), or null.</summary>
    internal object? RemoteFence { get; }

    /// <summary>The full key the fill stores under.</summary>
    internal string FullKey => Local.FullKey;

    /// <summary>Whether no invalidation of the key in this process came since the ticket opened.</summary>
    internal bool IsCurrentInProcess => FillFences.IsCurrent(Local);

    /// <summary>Whether this ticket was opened against <paramref name="fences"/>.</summary>
    internal bool IsFrom(FillFences fences) => ReferenceEquals(_fences, fences);

    /// <summary>Notes that a store of this fill was sent to the backend (which then settles its fence).</summary>
    internal void MarkAttempted() => _attempted = true;

    /// <summary>
    /// A second level's ticket for the same key (a <see cref="MultiLevelCache"/> fills its first level through it),
    /// closed with this one.
    /// </summary>
    internal FillTicket? Companion { get; set; }

    /// <summary>
    /// Marks a fence that other callers may hold too: one a read opened (<c>MultiLevelCache</c>'s read of a miss), whose
    /// token every caller that read the miss got, in this process or another. Closing such a fill without storing leaves
    /// the fence to expire (<c>RedisCache.MaxFillDuration</c>) or to go with the next fill that stores, rather than
    /// releasing it under a caller that still fills through it.
    /// </summary>
    internal void MarkShared() => _attempted = true;

    /// <summary>
    /// Closes a fill its opener will not make, leaving the backend's fence as it is: the caller that leads fills through
    /// the same fence (see <see cref="MarkShared"/>).
    /// </summary>
    internal void Forgo()
    {
        MarkAttempted();
        Dispose();
    }

    /// <summary>
    /// Closes the fill; later calls do nothing. A fill that never tried to store lets the backend release the fence it
    /// opened, so that nothing is left behind for a key nobody stored.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            if (!_attempted && IsCurrentInProcess)
            {
                _owner.ReleaseFill(this);
            }

            _fences.Close(Local);
            Companion?.Dispose();
        }
    }
}
