namespace Cached.Capabilities;

/// <summary>
/// A cache that can make the backplane its nodes share (a Redis cache: pub/sub on the same server), so that a
/// <see cref="MultiLevelCache"/> made from a URL such as <c>redis://127.0.0.1:6379/0?l1=memory</c> is kept coherent
/// without more configuration.
/// </summary>
public interface IBackplaneProvider
{
    /// <summary>Makes a new backplane on this cache's server; the caller owns it.</summary>
    ICacheBackplane CreateBackplane();
}
