namespace Cached;

/// <summary>
/// One named cache's configuration, the same shape as one entry of pycached's <c>caches.set_config</c> dictionary:
/// <see cref="Cache"/> (a type name), <see cref="Serializer"/>, <see cref="Plugins"/>, and a setting per cache
/// property (<c>config["Namespace"] = "main"</c>, <c>config["Ttl"] = "10"</c>, <c>config["Port"] = "6379"</c>).
/// </summary>
/// <remarks>
/// Settings are text, as in <c>appsettings.json</c>, and are converted to the property's type when the cache is
/// created: numbers and booleans with the invariant culture, enums by name, <see cref="TimeSpan"/> as seconds
/// (<c>"1.5"</c>) or <c>hh:mm:ss</c>. Names match properties case-insensitively, with pycached's snake_case
/// accepted (<c>max_entries</c> for <c>MaxEntries</c>, <c>db</c> for <c>Database</c>). Two settings that name one
/// property (<c>db</c> and <c>Database</c>) are refused with a <see cref="CacheConfigurationException"/> naming both.
/// </remarks>
public sealed class CacheConfig
{
    private readonly Dictionary<string, string?> _settings = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The full name of the cache type: <c>"Cached.SimpleMemoryCache"</c>, <c>"Cached.Redis.RedisCache"</c> or a user type.</summary>
    public string? Cache { get; set; }

    /// <summary>The serializer, or <c>null</c> for the cache type's default.</summary>
    public ClassConfig? Serializer { get; set; }

    /// <summary>The plugins, in the order their hooks run.</summary>
    public IList<ClassConfig> Plugins { get; set; } = [];

    /// <summary>For a <see cref="MultiLevelCache"/>: its first level, configured as any cache is.</summary>
    public CacheConfig? L1 { get; set; }

    /// <summary>For a <see cref="MultiLevelCache"/>: its second level, configured as any cache is.</summary>
    public CacheConfig? L2 { get; set; }

    /// <summary>
    /// For a <see cref="MultiLevelCache"/>: its backplane, a class implementing <see cref="ICacheBackplane"/>; a
    /// <c>Configuration</c> setting goes to its constructor that takes one string (as <c>Cached.Redis.RedisBackplane</c>'s).
    /// </summary>
    public ClassConfig? Backplane { get; set; }

    /// <summary>A setting for one of the cache's properties, as text; <c>null</c> when absent.</summary>
    public string? this[string setting]
    {
        get => _settings.GetValueOrDefault(setting);
        set => _settings[setting] = value;
    }

    /// <summary>
    /// Sets <paramref name="setting"/> in place of any other spelling of it (<c>max_entries</c> replaces
    /// <c>MaxEntries</c>), as an override of <see cref="Caches.Create"/> must, where both kept would be refused.
    /// </summary>
    internal void Override(string setting, string? value)
    {
        foreach (var other in _settings.Keys.Where(other => Configuration.SettingNames.NameSameProperty(other, setting)).ToList())
        {
            _settings.Remove(other);
        }

        _settings[setting] = value;
    }

    /// <summary>Every setting, by property name.</summary>
    public IReadOnlyDictionary<string, string?> Settings => _settings;

    /// <summary>Where this entry was read from (<c>Cached:redis_alt</c> in <c>appsettings.json</c>), so errors name that path; <c>null</c> for the alias.</summary>
    internal string? SourcePath { get; set; }

    /// <summary>A copy that shares nothing with this configuration.</summary>
    public CacheConfig Clone()
    {
        var copy = new CacheConfig
        {
            Cache = Cache,
            SourcePath = SourcePath,
            Serializer = Serializer?.Clone(),
            // A null entry is kept, so that creating the cache reports it with its path.
            Plugins = (Plugins ?? []).Select(static plugin => plugin?.Clone()!).ToList(),
            L1 = L1?.Clone(),
            L2 = L2?.Clone(),
            Backplane = Backplane?.Clone(),
        };
        foreach (var pair in _settings)
        {
            copy._settings[pair.Key] = pair.Value;
        }

        return copy;
    }
}
