namespace Cached.Capabilities;

/// <summary>
/// A cache whose hits come from another cache it holds (a <see cref="MultiLevelCache"/> and its L1): generated methods
/// read that cache by span directly, in the namespace the owner keeps copies under, so a hit costs what a hit of the
/// inner cache costs, without a second dispatch through the owner.
/// </summary>
internal interface ISpanReaderOwner
{
    /// <summary>The cache that answers hits, and the namespace to read it in for <paramref name="namespace"/>; false when none can.</summary>
    bool TryGetSpanReader(string? @namespace, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ISpanReadableCache? reader, out string? readerNamespace);
}
