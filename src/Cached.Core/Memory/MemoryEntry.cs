namespace Cached.Memory;

/// <summary>One stored value. Immutable but for <see cref="LastUsed"/>, so that updates are compare-and-swap replacements.</summary>
internal sealed class MemoryEntry(object? value, string? @namespace, long expiresAt, long lastUsed, long liveBeforeTick = 0)
{
    public object? Value { get; } = value;

    /// <summary>The namespace the entry was written in, so Clear removes exactly that namespace's entries.</summary>
    public string? Namespace { get; } = @namespace;

    /// <summary>The timestamp from which the entry is expired; 0 for never.</summary>
    public long ExpiresAt { get; } = expiresAt;

    /// <summary>
    /// The <see cref="CoarseClock"/> tick before which the entry is certainly not expired, so that a hit can skip the
    /// precise clock; 0 when unknown (no TTL, or a clock other than the system's).
    /// </summary>
    public long LiveBeforeTick { get; } = liveBeforeTick;

    /// <summary>Written without synchronization: a stale value only makes eviction order approximate.</summary>
    public long LastUsed { get; set; } = lastUsed;

    public bool IsExpiredAt(long now) => ExpiresAt != 0 && now >= ExpiresAt;

    /// <summary>True when <paramref name="tick"/>, read on the <see cref="CoarseClock"/>, proves the entry live.</summary>
    public bool IsCertainlyLiveAt(long tick) => tick < LiveBeforeTick;
}
