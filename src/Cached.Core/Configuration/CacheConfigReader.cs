using Microsoft.Extensions.Configuration;

namespace Cached.Configuration;

/// <summary>
/// Reads named caches from an <see cref="IConfiguration"/> section in the shape of pycached's dictionary: one object
/// per alias with <c>Cache</c>, <c>Serializer: { Class, ... }</c>, <c>Plugins: [{ Class, ... }]</c> and a value per
/// cache setting. Binding is by hand, not by reflection over an options type, so the shape stays the documented one
/// and every error names the configuration path that caused it (<c>Cached:redis_alt:Port</c>).
/// </summary>
internal static class CacheConfigReader
{
    public static Dictionary<string, CacheConfig> Read(IConfiguration configuration)
    {
        var root = (configuration as IConfigurationSection)?.Path;
        var aliases = new Dictionary<string, CacheConfig>(StringComparer.Ordinal);
        foreach (var section in configuration.GetChildren())
        {
            // Configuration keys are case-insensitive, so "Default" is the section of the alias every cache needs;
            // other aliases are named as written, as the code names them.
            var alias = string.Equals(section.Key, Caches.DefaultAlias, StringComparison.OrdinalIgnoreCase) ? Caches.DefaultAlias : section.Key;
            aliases[alias] = ReadAlias(section);
        }

        if (aliases.Count == 0)
        {
            throw new CacheConfigurationException(
                string.IsNullOrEmpty(root) ? "(configuration root)" : root,
                "the section is missing or empty; it needs an object per alias, at least \"default\": { \"Cache\": \"Cached.SimpleMemoryCache\" }.");
        }

        return aliases;
    }

    private static CacheConfig ReadAlias(IConfigurationSection section)
    {
        var entries = section.GetChildren().ToList();
        if (entries.Count == 0)
        {
            throw new CacheConfigurationException(section.Path, $"'{section.Key}' must be an object with a \"Cache\" entry, not a single value.");
        }

        var config = new CacheConfig { SourcePath = section.Path };
        foreach (var entry in entries)
        {
            if (IsNamed(entry, "Cache"))
            {
                config.Cache = Scalar(entry);
            }
            else if (IsNamed(entry, "Serializer"))
            {
                config.Serializer = ReadClass(entry);
            }
            else if (IsNamed(entry, "Plugins"))
            {
                config.Plugins = ReadPlugins(entry);
            }
            else if (IsNamed(entry, "L1"))
            {
                config.L1 = ReadAlias(entry);
            }
            else if (IsNamed(entry, "L2"))
            {
                config.L2 = ReadAlias(entry);
            }
            else if (IsNamed(entry, "Backplane"))
            {
                config.Backplane = ReadClass(entry);
            }
            else if (Scalar(entry) is { Length: > 0 } value)
            {
                // An empty value is no setting: how a later configuration source takes away one an earlier one gave.
                config[entry.Key] = value;
            }
        }

        return config;
    }

    /// <summary>A class entry: <c>{ "Class": "...", "Setting": "..." }</c>, or just the class name as a string.</summary>
    private static ClassConfig ReadClass(IConfigurationSection section)
    {
        var entries = section.GetChildren().ToList();
        if (entries.Count == 0)
        {
            return string.IsNullOrWhiteSpace(section.Value)
                ? throw new CacheConfigurationException(section.Path, "the entry is empty; give an object with a \"Class\" entry.")
                : new ClassConfig(section.Value);
        }

        var config = new ClassConfig();
        foreach (var entry in entries)
        {
            if (IsNamed(entry, "Class"))
            {
                config.Class = Scalar(entry);
            }
            else if (Scalar(entry) is { Length: > 0 } value)
            {
                config[entry.Key] = value;
            }
        }

        return config;
    }

    private static List<ClassConfig> ReadPlugins(IConfigurationSection section)
    {
        var entries = section.GetChildren().ToList();
        if (entries.Count == 0 && !string.IsNullOrEmpty(section.Value))
        {
            throw new CacheConfigurationException(section.Path, "Plugins must be a list of objects with a \"Class\" entry.");
        }

        var plugins = new List<(int Index, ClassConfig Plugin)>(entries.Count);
        foreach (var entry in entries)
        {
            if (!int.TryParse(entry.Key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index))
            {
                throw new CacheConfigurationException(entry.Path, "Plugins must be a list; this entry has a name instead of a position.");
            }

            plugins.Add((index, ReadClass(entry)));
        }

        // Configuration providers list children in key order as text ("10" before "2"); hooks run in list order.
        plugins.Sort(static (a, b) => a.Index.CompareTo(b.Index));
        return plugins.ConvertAll(static item => item.Plugin);
    }

    private static string? Scalar(IConfigurationSection section)
        => section.GetChildren().Any()
            ? throw new CacheConfigurationException(section.Path, "a single value is expected here, not an object or a list.")
            : section.Value;

    private static bool IsNamed(IConfigurationSection section, string name)
        => string.Equals(section.Key, name, StringComparison.OrdinalIgnoreCase);
}
