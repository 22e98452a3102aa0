using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using Cached.Plugins;
using Cached.Serializers;

namespace Cached.Configuration;

/// <summary>
/// Builds caches, serializers and plugins from type names and text settings, for <see cref="Caches"/> and
/// <see cref="Cache.FromUrl"/>. Every error names the configuration path it comes from.
/// </summary>
/// <remarks>Type names in configuration are resolved at run time, so this path uses reflection by nature.</remarks>
[RequiresUnreferencedCode("Types named in configuration are created by reflection.")]
internal static partial class ComponentFactory
{
    // Cached's own types are named in configuration as text; keep them through trimming.
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor | DynamicallyAccessedMemberTypes.PublicProperties, typeof(SimpleMemoryCache))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor | DynamicallyAccessedMemberTypes.PublicProperties, typeof(StringSerializer))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor | DynamicallyAccessedMemberTypes.PublicProperties, typeof(NullSerializer))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor | DynamicallyAccessedMemberTypes.PublicProperties, typeof(HitMissRatioPlugin))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor | DynamicallyAccessedMemberTypes.PublicProperties, typeof(TimingPlugin))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor | DynamicallyAccessedMemberTypes.PublicProperties, typeof(JsonSerializer))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(MultiLevelCache))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicConstructors, typeof(MemoryBackplane))]
    static ComponentFactory()
    {
    }

    private static readonly Dictionary<string, string> s_packagedTypes = new(StringComparer.Ordinal)
    {
        ["Cached.Serializers.MessagePackSerializer"] = "Cached.MessagePack",
    };

    public static ICache CreateCache(CacheConfig config, string alias)
    {
        var path = config.SourcePath ?? alias;
        var type = CacheTypeOf(config, path);
        if (type == typeof(MultiLevelCache))
        {
            return CreateMultiLevel(config, path);
        }

        RefuseLevels(config, type, path);

        var properties = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (config.Serializer is { } serializer)
        {
            properties[nameof(ICache.Serializer)] = CreateSerializer(serializer, $"{path}:Serializer");
        }

        if (config.Plugins is { Count: > 0 } pluginConfigs)
        {
            var plugins = new ICachePlugin[pluginConfigs.Count];
            for (var i = 0; i < plugins.Length; i++)
            {
                plugins[i] = CreatePlugin(pluginConfigs[i], $"{path}:Plugins:{i}");
            }

            properties[nameof(ICache.Plugins)] = plugins;
        }

        return (ICache)Create(type, config.Settings, properties, path);
    }

    /// <summary>
    /// Checks everything <see cref="CreateCache(CacheConfig, string)"/> would, without creating anything: the types
    /// exist and fit, every setting names a settable property and its text converts. Throws naming the first bad entry.
    /// </summary>
    public static void Validate(CacheConfig config, string alias)
    {
        var path = config.SourcePath ?? alias;
        if (CacheTypeOf(config, path) == typeof(MultiLevelCache))
        {
            ValidateMultiLevel(config, path);
            return;
        }

        RefuseLevels(config, CacheTypeOf(config, path), path);

        ReadSettings(CacheTypeOf(config, path), config.Settings, path);
        if (config.Serializer is { } serializer)
        {
            ReadSettings(ClassTypeOf(serializer, typeof(ISerializer), $"{path}:Serializer"), serializer.Settings, $"{path}:Serializer");
        }

        for (var i = 0; i < (config.Plugins?.Count ?? 0); i++)
        {
            var pluginPath = $"{path}:Plugins:{i}";
            var plugin = config.Plugins![i] ?? throw new CacheConfigurationException(pluginPath, "the plugin entry is empty.");
            ReadSettings(ClassTypeOf(plugin, typeof(ICachePlugin), pluginPath), plugin.Settings, pluginPath);
        }
    }

    /// <summary>
    /// Levels and a backplane belong to a <see cref="MultiLevelCache"/>: given to any other cache they would be dropped,
    /// and the application would run on one level without a word, so they are refused as any unknown setting is.
    /// </summary>
    private static void RefuseLevels(CacheConfig config, Type type, string path)
    {
        var given = config.L1 is not null ? "L1" : config.L2 is not null ? "L2" : config.Backplane is not null ? "Backplane" : null;
        if (given is not null)
        {
            throw new CacheConfigurationException($"{path}:{given}", $"{type} has no setting '{given}': L1, L2 and Backplane are settings of Cached.MultiLevelCache.");
        }
    }

    private static Type CacheTypeOf(CacheConfig config, string path)
        => string.IsNullOrWhiteSpace(config.Cache)
            ? throw new CacheConfigurationException($"{path}:Cache", "no cache type is given; set Cache to a type name such as \"Cached.SimpleMemoryCache\".")
            : ResolveType(config.Cache, typeof(ICache), $"{path}:Cache");

    private static Type ClassTypeOf(ClassConfig config, Type expected, string path)
        => string.IsNullOrWhiteSpace(config.Class)
            ? throw new CacheConfigurationException($"{path}:Class", $"no class is given; name a type that implements {expected.Name}.")
            : ResolveType(config.Class, expected, $"{path}:Class");

    /// <summary>
    /// Each setting's property and its value read from text: what creating sets, and what validating checks. Two
    /// settings that name one property (<c>host</c> and <c>Endpoint</c>) are refused: they are different keys to the
    /// configuration, so both arrive, and whichever came last by key order would win, not the source layered last.
    /// </summary>
    private static List<(PropertyInfo Property, object? Value, string Path)> ReadSettings(Type type, IReadOnlyDictionary<string, string?> settings, string path)
    {
        var read = new List<(PropertyInfo Property, object? Value, string Path)>(settings.Count);
        foreach (var (name, text) in settings)
        {
            var settingPath = $"{path}:{name}";
            var property = FindProperty(type, name)
                ?? throw new CacheConfigurationException(settingPath, $"{type} has no setting '{name}'.{TrimmingNote(type)}");
            if (read.Find(earlier => earlier.Property == property) is { Path: { } earlierPath })
            {
                throw new CacheConfigurationException(settingPath, $"'{earlierPath}' and '{settingPath}' both set {type.Name}.{property.Name}; keep one of them. A source that overrides another (an environment variable over appsettings.json) must spell the setting as that source does.");
            }

            read.Add((property, Convert(text, property.PropertyType, settingPath), settingPath));
        }

        return read;
    }

    public static ICache CreateCache(Type type, IReadOnlyDictionary<string, string?> settings, Dictionary<string, object?> components, string path)
    {
        if (!typeof(ICache).IsAssignableFrom(type))
        {
            throw new InvalidCacheTypeException(path, $"{type} is not a cache (it does not implement ICache).");
        }

        return (ICache)Create(type, LastSpellingOfEach(settings), components, path);
    }

    /// <summary>
    /// A URL's settings with one spelling per property, the last given: its own parts are added after its query, and win
    /// over it as in aiocache (<c>redis://host/3?db=5</c> is database 3).
    /// </summary>
    private static Dictionary<string, string?> LastSpellingOfEach(IReadOnlyDictionary<string, string?> settings)
    {
        var names = settings.Keys.ToList();
        var kept = new Dictionary<string, string?>(settings.Count, StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < names.Count; i++)
        {
            if (!names.Skip(i + 1).Any(later => SettingNames.NameSameProperty(names[i], later)))
            {
                kept[names[i]] = settings[names[i]];
            }
        }

        return kept;
    }

    private static ISerializer CreateSerializer(ClassConfig config, string path)
        => (ISerializer)CreateClass(config, typeof(ISerializer), path);

    private static ICachePlugin CreatePlugin(ClassConfig? config, string path)
        => config is null
            ? throw new CacheConfigurationException(path, "the plugin entry is empty.")
            : (ICachePlugin)CreateClass(config, typeof(ICachePlugin), path);

    private static object CreateClass(ClassConfig config, Type expected, string path)
        => Create(ClassTypeOf(config, expected, path), config.Settings, new Dictionary<string, object?>(), path);

    /// <summary>
    /// Why a member the type declares may be missing: trimming removed what only configuration names. Said in a NativeAOT
    /// application only: a trimmed one that runs on the JIT cannot be told apart at run time from one whose setting has a
    /// typo, which the note would mislead. The way out is the one the IL2026 warning of the configuration call gives.
    /// </summary>
    private static string TrimmingNote(Type type)
        => System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported
            ? string.Empty
            : $" If this application is trimmed or published with NativeAOT, trimming may have removed the members of {type.Name} that only configuration names: register the cache as an instance instead (Caches.AddInstance, or AddCache(alias, instance) with dependency injection), as the IL2026 warning of the configuration call says.";

    /// <summary>Finds a type by full name: assembly-qualified, in a loaded assembly, or in an assembly named after its namespace.</summary>
    public static Type ResolveType(string name, Type expected, string path)
    {
        var type = FindType(name.Trim())
            ?? throw new CacheConfigurationException(path, PackageOf(name.Trim()) is { } package
                ? $"type '{name}' is in the {package} package, which the application does not reference (add it: dotnet add package {package}), or which trimming removed from a trimmed or NativeAOT application (register the cache as an instance instead, Caches.AddInstance or AddCache(alias, instance), as the IL2026 warning of Caches.Get says)."
                : $"type '{name}' was not found; give its full name (assembly-qualified if it lives in an assembly that is not loaded yet).");
        if (!expected.IsAssignableFrom(type) || type.IsAbstract)
        {
            throw expected == typeof(ICache)
                ? new InvalidCacheTypeException(path, $"type '{name}' is not a concrete cache (it must implement ICache).")
                : new CacheConfigurationException(path, $"type '{name}' is not a concrete {expected.Name}.");
        }

        return type;
    }

    /// <summary>The Cached package that holds <paramref name="name"/> (plain or assembly-qualified) and that the application does not reference, or null.</summary>
    private static string? PackageOf(string name)
    {
        var comma = name.IndexOf(',', StringComparison.Ordinal);
        var typeName = comma < 0 ? name : name[..comma].Trim();
        var assembly = comma < 0 ? null : name[(comma + 1)..].Split(',')[0].Trim();
        var package = assembly is "Cached.Redis" or "Cached.MessagePack" ? assembly
            : typeName.StartsWith("Cached.Redis.", StringComparison.Ordinal) ? "Cached.Redis"
            : s_packagedTypes.GetValueOrDefault(typeName);
        if (package is null)
        {
            return null;
        }

        try
        {
            // The package is there: the name is what is wrong (a typo), which "not found" says.
            Assembly.Load(new AssemblyName(package));
            return null;
        }
        catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            return package;
        }
    }

    private static Type? FindType(string name)
    {
        if (Type.GetType(name, throwOnError: false) is { } direct)
        {
            return direct;
        }

        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            if (assembly.GetType(name, throwOnError: false) is { } found)
            {
                return found;
            }
        }

        // "Cached.Redis.RedisCache" lives in assembly "Cached.Redis": try the namespace prefixes as assembly names.
        for (var dot = name.LastIndexOf('.'); dot > 0; dot = name.LastIndexOf('.', dot - 1))
        {
            try
            {
                if (Assembly.Load(new AssemblyName(name[..dot])).GetType(name, throwOnError: false) is { } loaded)
                {
                    return loaded;
                }
            }
            catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or BadImageFormatException or ArgumentException)
            {
                // Not an assembly name; keep looking.
            }
        }

        // A type of Cached's own packages whose namespace is not its assembly's name: load that package by name.
        if (s_packagedTypes.TryGetValue(name, out var package))
        {
            try
            {
                return Assembly.Load(new AssemblyName(package)).GetType(name, throwOnError: false);
            }
            catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or BadImageFormatException)
            {
                // That package is not installed.
            }
        }

        return null;
    }

    private static object Create(Type type, IReadOnlyDictionary<string, string?> settings, Dictionary<string, object?> values, string path)
    {
        object instance;
        try
        {
            instance = Activator.CreateInstance(type)
                ?? throw new CacheConfigurationException(path, $"{type} could not be created.");
        }
        catch (MissingMethodException ex)
        {
            throw new CacheConfigurationException(path, $"{type} has no public parameterless constructor.{TrimmingNote(type)}", ex);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            throw new CacheConfigurationException(path, $"{type}'s constructor failed: {ex.InnerException.Message}", ex.InnerException);
        }

        foreach (var (name, value) in values)
        {
            var property = FindProperty(type, name)
                ?? throw new CacheConfigurationException($"{path}:{name}", $"{type} has no settable {name} property.");
            SetProperty(instance, property, value, $"{path}:{name}");
        }

        foreach (var (property, value, settingPath) in ReadSettings(type, settings, path))
        {
            SetProperty(instance, property, value, settingPath);
        }

        return instance;
    }

    private static PropertyInfo? FindProperty(Type type, string name)
    {
        var wanted = SettingNames.PropertyNameOf(name);
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.SetMethod is { IsPublic: true } && property.GetIndexParameters().Length == 0
                && string.Equals(property.Name, wanted, StringComparison.OrdinalIgnoreCase))
            {
                return property;
            }
        }

        return null;
    }

    private static void SetProperty(object instance, PropertyInfo property, object? value, string path)
    {
        try
        {
            property.SetValue(instance, value);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            throw new CacheConfigurationException(path, ex.InnerException.Message, ex.InnerException);
        }
    }

    private static object? Convert(string? text, Type type, string path)
    {
        var target = Nullable.GetUnderlyingType(type);
        if (string.IsNullOrWhiteSpace(text))
        {
            return target is not null || !type.IsValueType ? null : throw new CacheConfigurationException(path, $"an empty value cannot be read as {type.Name}.");
        }

        target ??= type;
        try
        {
            if (target == typeof(string))
            {
                return text;
            }

            if (target == typeof(TimeSpan))
            {
                return text.Contains(':', StringComparison.Ordinal)
                    ? TimeSpan.Parse(text, CultureInfo.InvariantCulture)
                    : TimeSpan.FromSeconds(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
            }

            if (target == typeof(bool))
            {
                return bool.Parse(text);
            }

            if (target.IsEnum)
            {
                return Enum.Parse(target, text, ignoreCase: true);
            }

            if (typeof(IConvertible).IsAssignableFrom(target))
            {
                return System.Convert.ChangeType(text, target, CultureInfo.InvariantCulture);
            }
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentException or InvalidCastException)
        {
            throw new CacheConfigurationException(path, $"'{text}' cannot be read as {target.Name}: {ex.Message}", ex);
        }

        throw new CacheConfigurationException(path, $"a {target.Name} cannot be set from configuration text.");
    }
}
