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

    /// <summary>
    /// The exception for <paramref name="alias"/>, its message naming the configured alias it was most likely meant to
    /// be and the aliases there are (<see cref="Runtime.AliasSuggestions"/>).
    /// </summary>
    internal UnknownCacheAliasException(string alias, IReadOnlyCollection<string> configured)
        : base(alias, $"no configuration for alias '{alias}'.{Runtime.AliasSuggestions.Describe(alias, configured)} {HowToAdd}")
    {
        Alias = alias;
    }

    /// <summary>The ways an alias is added, for messages.</summary>
    internal const string HowToAdd = "Add it to the \"Cached\" section of appsettings.json read by services.AddCached(...), with AddCache(alias, ...) in AddCached, or with Caches.SetConfig, Caches.Add or Caches.AddInstance.";

    /// <summary>The alias that has no configuration.</summary>
    public string Alias { get; }
}
