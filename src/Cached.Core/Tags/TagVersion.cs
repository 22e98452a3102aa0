namespace Cached.Tags;

/// <summary>
/// One tag's current version in an in-process store (<see cref="MemoryTagStore"/>). Entries kept by reference hold the
/// version they were computed under, so a hit checks one field per tag, with no lookup: the version is marked when its
/// tag is invalidated, and retired when the store drops it, and either makes every entry that holds it a miss.
/// </summary>
internal sealed class TagVersion(long token)
{
    private const long Retired = -1;

    private volatile bool _invalidated;

    // A timestamp of the store's clock until which an entry or a writer may hold this version; Retired once dropped.
    private long _keepUntil;

    /// <summary>The version as a number, for entries stored as bytes.</summary>
    public long Token { get; } = token;

    /// <summary>Whether an entry computed under this version may still be served: not invalidated, not retired.</summary>
    public bool IsCurrent => !_invalidated && Volatile.Read(ref _keepUntil) != Retired;

    /// <summary>Marks every entry that holds this version a miss.</summary>
    public void Invalidate() => _invalidated = true;

    /// <summary>Keeps the version until at least <paramref name="until"/>; false when it is retired already (take a new one).</summary>
    public bool TryKeepUntil(long until)
    {
        var current = Volatile.Read(ref _keepUntil);
        while (current != Retired)
        {
            if (current >= until)
            {
                return true;
            }

            var seen = Interlocked.CompareExchange(ref _keepUntil, until, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    /// <summary>
    /// Retires the version when nothing can hold it past <paramref name="now"/>; atomic with <see cref="TryKeepUntil"/>,
    /// so a writer that takes the version at the same moment either keeps it alive or finds it retired.
    /// </summary>
    public bool TryRetire(long now)
    {
        var current = Volatile.Read(ref _keepUntil);
        return current != Retired && current < now && Interlocked.CompareExchange(ref _keepUntil, Retired, current) == current;
    }
}
