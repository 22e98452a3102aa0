namespace Cached;

/// <summary>
/// A class named in configuration, pycached's <c>{"class": ..., **kwargs}</c>: a serializer or a plugin, by full
/// type name (<c>"Cached.Serializers.JsonSerializer"</c>, or a user type, assembly-qualified if need be), with settings
/// for its properties.
/// </summary>
public sealed class ClassConfig
{
    private readonly Dictionary<string, string?> _settings = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Creates an empty entry.</summary>
    public ClassConfig()
    {
    }

    /// <summary>Creates an entry naming <paramref name="class"/>.</summary>
    public ClassConfig(string @class)
    {
        Class = @class;
    }

    /// <summary>The full name of the type.</summary>
    public string? Class { get; set; }

    /// <summary>A setting for one of the type's properties, as text (<c>config["Encoding"] = "utf-8"</c>); <c>null</c> when absent.</summary>
    public string? this[string setting]
    {
        get => _settings.GetValueOrDefault(setting);
        set => _settings[setting] = value;
    }

    /// <summary>Every setting, by property name.</summary>
    public IReadOnlyDictionary<string, string?> Settings => _settings;

    /// <summary>A copy that shares nothing with this entry.</summary>
    public ClassConfig Clone()
    {
        var copy = new ClassConfig { Class = Class };
        foreach (var pair in _settings)
        {
            copy._settings[pair.Key] = pair.Value;
        }

        return copy;
    }
}
