using System.Reflection;

namespace Cached.Configuration;

/// <summary>
/// A <see cref="MultiLevelCache"/> from configuration: its <c>L1</c> and <c>L2</c> are caches configured as any alias
/// is, its <c>Backplane</c> a class; its own settings (<c>L1Ttl</c>, <c>Channel</c>, <c>PendingWriteLimit</c>) are
/// set as for any cache.
/// </summary>
internal static partial class ComponentFactory
{
    private const string BackplaneConfigurationSetting = "Configuration";

    private static MultiLevelCache CreateMultiLevel(CacheConfig config, string path)
    {
        RequireLevels(config, path);
        var l1 = CreateCache(config.L1!, $"{path}:L1");
        ICache? l2 = null;
        ICacheBackplane? backplane = null;
        try
        {
            l2 = CreateCache(config.L2!, $"{path}:L2");
            backplane = config.Backplane is { } backplaneConfig ? CreateBackplane(backplaneConfig, $"{path}:Backplane", l2) : null;
            var cache = new MultiLevelCache(l1, l2, backplane);
            foreach (var (property, value, settingPath) in ReadSettings(typeof(MultiLevelCache), config.Settings, path))
            {
                SetProperty(cache, property, value, settingPath);
            }

            return cache;
        }
        catch
        {
            l1.Dispose();
            l2?.Dispose();
            backplane?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    private static void ValidateMultiLevel(CacheConfig config, string path)
    {
        RequireLevels(config, path);
        ReadSettings(typeof(MultiLevelCache), config.Settings, path);
        Validate(config.L1!, $"{path}:L1");
        Validate(config.L2!, $"{path}:L2");
        if (config.Backplane is { } backplane)
        {
            var backplanePath = $"{path}:Backplane";
            var type = ClassTypeOf(backplane, typeof(ICacheBackplane), backplanePath);
            ReadSettings(type, WithoutConfiguration(backplane.Settings), backplanePath);
        }
    }

    private static void RequireLevels(CacheConfig config, string path)
    {
        if (config.L1 is null || config.L2 is null)
        {
            throw new CacheConfigurationException($"{path}:{(config.L1 is null ? "L1" : "L2")}",
                "a MultiLevelCache needs both levels: give L1 and L2, each an object with a \"Cache\" entry.");
        }

        if (config.Serializer is not null || config.Plugins is { Count: > 0 })
        {
            throw new CacheConfigurationException($"{path}:{(config.Serializer is not null ? "Serializer" : "Plugins")}",
                "a MultiLevelCache has no serializer or plugins of its own; give them to L1 or L2.");
        }
    }

    /// <summary>
    /// The backplane a <c>Backplane</c> entry names: made from its <c>Configuration</c> string when it gives one, else
    /// by <paramref name="l2"/> when L2 makes backplanes of that class (a <c>RedisCache</c> makes a <c>RedisBackplane</c>
    /// with its own endpoint, credentials and TLS trust, which a configuration string cannot carry: its
    /// <c>TrustIssuer</c>), else with its parameterless constructor.
    /// </summary>
    private static ICacheBackplane CreateBackplane(ClassConfig config, string path, ICache l2)
    {
        var type = ClassTypeOf(config, typeof(ICacheBackplane), path);
        object instance;
        if (!config.Settings.ContainsKey(BackplaneConfigurationSetting) && l2 is Capabilities.IBackplaneProvider provider
            && type.GetConstructor(Type.EmptyTypes) is null)
        {
            instance = provider.CreateBackplane();
            if (!type.IsInstanceOfType(instance))
            {
                var made = instance.GetType();
                ((ICacheBackplane)instance).DisposeAsync().AsTask().GetAwaiter().GetResult();
                throw new CacheConfigurationException($"{path}:{BackplaneConfigurationSetting}", $"{type} needs a configuration string: L2 makes backplanes of {made}.");
            }
        }
        else if (config.Settings.TryGetValue(BackplaneConfigurationSetting, out var configuration))
        {
            var constructor = type.GetConstructor([typeof(string)])
                ?? throw new CacheConfigurationException($"{path}:{BackplaneConfigurationSetting}", $"{type} has no constructor that takes a configuration string.");
            try
            {
                instance = constructor.Invoke([configuration]);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                throw new CacheConfigurationException(path, $"{type}'s constructor failed: {ex.InnerException.Message}", ex.InnerException);
            }
        }
        else
        {
            instance = Create(type, new Dictionary<string, string?>(), new Dictionary<string, object?>(), path);
        }

        foreach (var (property, value, settingPath) in ReadSettings(type, WithoutConfiguration(config.Settings), path))
        {
            SetProperty(instance, property, value, settingPath);
        }

        return (ICacheBackplane)instance;
    }

    private static Dictionary<string, string?> WithoutConfiguration(IReadOnlyDictionary<string, string?> settings)
        => settings.Where(static setting => !string.Equals(setting.Key, BackplaneConfigurationSetting, StringComparison.OrdinalIgnoreCase))
            .ToDictionary(static setting => setting.Key, static setting => setting.Value, StringComparer.OrdinalIgnoreCase);
}
