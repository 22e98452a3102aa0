namespace Cached.Memory;

/// <summary>One stored value. Immutable but for <see cref="LastUsed"/>, so that updates are compare-and-swap replacements.</summary>
internal sealed class MemoryEntry(object? value, string? @namespace, long expiresAt, long lastUsed)
{
    public object? Value { get; } = value;

    /// <summary>The namespace the entry was written in, so Clear removes exactly that namespace's entries.</summary>
    public string? Namespace { get; } = @namespace;

    /// <summary>The timestamp from which the entry is expired; 0 for never.</summary>
    public long ExpiresAt { get; } = expiresAt;

    /// <summary>Written without synchronization: a stale value only makes eviction order approximate.</summary>
    public long LastUsed { get; set; } = lastUsed;

    public bool IsExpiredAt(long now) => ExpiresAt != 0 && now >= ExpiresAt;
}
