namespace Cached.Capabilities;

/// <summary>
/// A cache that carries the alias it is known by, for its metrics, traces and logs. <see cref="Caches"/> names the
/// caches it creates or is given after their alias.
/// </summary>
public interface IAliasedCache
{
    /// <summary>The alias; <c>null</c> for a cache made on its own, unless set.</summary>
    string? Alias { get; }

    /// <summary>Names the cache after <paramref name="alias"/>, unless it has a name already.</summary>
    void AssignAlias(string alias);
}
