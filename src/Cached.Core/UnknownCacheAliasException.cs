namespace Cached;

/// <summary>Thrown by <see cref="Caches"/> when no configuration is registered under an alias.</summary>
public sealed class UnknownCacheAliasException : CacheConfigurationException
{
    /// <summary>Creates the exception for <paramref name="alias"/>.</summary>
    public UnknownCacheAliasException(string alias)
        : base(alias, $"no configuration for alias '{alias}'; add it with Caches.SetConfig or Caches.Add.")
    {
        Alias = alias;
    }

    /// <summary>The alias that has no configuration.</summary>
    public string Alias { get; }
}
