namespace Cached;

/// <summary>Thrown by <see cref="Caches"/> when no configuration is registered under an alias.</summary>
public sealed class UnknownCacheAliasException : CacheConfigurationException
{
    /// <summary>Creates the exception for <paramref name="alias"/>.</summary>
    public UnknownCacheAliasException(string alias)
        : base(alias, $"no configuration for alias '{alias}'. {HowToAdd}")
    {
        Alias = alias;
    }

    /// <summary>The ways an alias is added, for messages.</summary>
    internal const string HowToAdd = "Add it to the \"Cached\" section of appsettings.json read by services.AddCached(...), with AddCache(alias, ...) in AddCached, or with Caches.SetConfig, Caches.Add or Caches.AddInstance.";

    /// <summary>The alias that has no configuration.</summary>
    public string Alias { get; }
}
