using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Cached.Configuration;

namespace Cached;

/// <summary>
/// Process-wide switches and the URL factory: <see cref="Disabled"/> (pycached's <c>CACHE_DISABLE=1</c>) and
/// <see cref="FromUrl"/> (<c>memory://</c>, <c>redis://host:port/db?namespace=main</c>).
/// </summary>
public static class Cache
{
    /// <summary>The environment variable that, set to <c>1</c>, turns every cache into a no-op.</summary>
    public const string DisableVariable = "CACHE_DISABLE";

    private static readonly ConcurrentDictionary<string, string> s_schemes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["memory"] = typeof(SimpleMemoryCache).FullName!,
        // Resolved when the Cached.Redis assembly is present next to the application.
        ["redis"] = "Cached.Redis.RedisCache, Cached.Redis",
        ["rediss"] = "Cached.Redis.RedisCache, Cached.Redis",
    };

    private static volatile bool s_disabled = ReadDisableVariable();

    /// <summary>
    /// When true, every cache command returns at once without touching the backend, plugins or timeout, and
    /// reports a miss: reads find nothing, writes answer true, <c>Delete</c> 0, <c>Exists</c> and <c>Expire</c>
    /// false, <c>Increment</c> 1 (aiocache's answer, whatever the delta), <c>Raw</c> null. Starts true when the <c>CACHE_DISABLE</c> environment
    /// variable is <c>1</c> at startup; tests may set it.
    /// </summary>
    public static bool Disabled
    {
        get => s_disabled;
        set => s_disabled = value;
    }

    /// <summary>The URL schemes <see cref="FromUrl"/> knows.</summary>
    public static IReadOnlyCollection<string> Schemes => s_schemes.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>Makes <paramref name="scheme"/> create caches of type <typeparamref name="TCache"/> in <see cref="FromUrl"/>.</summary>
    public static void RegisterScheme<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor | DynamicallyAccessedMemberTypes.PublicProperties)] TCache>(string scheme)
        where TCache : ICache, new()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scheme);
        s_schemes[scheme] = typeof(TCache).AssemblyQualifiedName!;
    }

    /// <summary>
    /// Creates a cache from a URL, as pycached's <c>Cache.from_url</c>: the scheme picks the type
    /// (<c>memory</c>, <c>redis</c> once Cached.Redis is referenced, or one added with <see cref="RegisterScheme"/>);
    /// the host, port, password and first path segment set <c>Endpoint</c>, <c>Port</c>, <c>Password</c> and
    /// <c>Database</c>; <c>rediss://</c> also sets <c>Ssl</c>; each query parameter sets the property it names
    /// (<c>?namespace=main&amp;ttl=10</c>).
    /// A password in the URL wins over one in the query.
    /// <c>l1=memory</c> makes a <see cref="MultiLevelCache"/>: a cache of that scheme in front of the one the URL names,
    /// kept coherent by the server's own backplane when it has one (<c>backplane=none</c> for none), with
    /// <c>l1ttl</c> (seconds) as its <see cref="MultiLevelCache.L1Ttl"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The URL is not an absolute URL.</exception>
    /// <exception cref="InvalidCacheTypeException">The scheme is not a known cache.</exception>
    /// <exception cref="CacheConfigurationException">A part of the URL is not a setting of that cache, or has a bad value.</exception>
    /// <param name="url">The cache's URL.</param>
    /// <param name="serializer">The cache's serializer, which a URL cannot name; <c>null</c> for the cache type's default.</param>
    /// <param name="plugins">The cache's plugins, in hook order; <c>null</c> for none.</param>
    [RequiresUnreferencedCode("The cache type named by the scheme is created by reflection.")]
    public static ICache FromUrl(string url, Serializers.ISerializer? serializer = null, IEnumerable<Plugins.ICachePlugin>? plugins = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(url);

        // The scheme is judged before the rest, as aiocache judges it: "http://" is a scheme that is not a cache, though
        // .NET reads no URL in it (no host).
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd > 0 && Uri.CheckSchemeName(url[..schemeEnd]) && !s_schemes.ContainsKey(url[..schemeEnd]))
        {
            throw new InvalidCacheTypeException(url, $"'{url[..schemeEnd]}' is not a cache scheme; use one of: {string.Join(", ", Schemes)}.");
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            throw new ArgumentException($"'{url}' is not an absolute URL such as memory:// or redis://127.0.0.1:6379/0.", nameof(url));
        }

        if (!s_schemes.TryGetValue(uri.Scheme, out var typeName))
        {
            throw new InvalidCacheTypeException(url, $"'{uri.Scheme}' is not a cache scheme; use one of: {string.Join(", ", Schemes)}.");
        }

        var type = ComponentFactory.ResolveType(typeName, typeof(ICache), url);
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0 || equals == part.Length - 1)
            {
                // As Python's parse_qsl, which aiocache reads the query with: a blank value ("timeout=", "timeout") is no
                // setting, so the cache keeps its default, as "timeout": "" in appsettings does (not "no timeout").
                continue;
            }

            // As parse_qsl too: a '+' is a space, then %XX escapes.
            var name = Uri.UnescapeDataString(part[..equals].Replace('+', ' '));
            settings[name] = Uri.UnescapeDataString(part[(equals + 1)..].Replace('+', ' '));
        }

        if (!string.IsNullOrEmpty(uri.Host))
        {
            settings["Endpoint"] = uri.Host;
        }

        if (!uri.IsDefaultPort)
        {
            // Port 0 too, so that the cache's Port refuses it rather than the URL falling back to the default port.
            settings["Port"] = uri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0 && colon < uri.UserInfo.Length - 1)
        {
            // Only a password that is there wins over the query's, as in aiocache ("redis://:@host?password=x" is x).
            settings["Password"] = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }

        var user = colon >= 0 ? uri.UserInfo[..colon] : uri.UserInfo;
        if (user.Length > 0)
        {
            // redis://app:secret@host is the ACL user "app", as in redis-py.
            settings["User"] = Uri.UnescapeDataString(user);
        }

        if (uri.Scheme.Equals("rediss", StringComparison.OrdinalIgnoreCase))
        {
            // rediss:// is Redis over TLS, as in redis-py.
            settings["Ssl"] = "true";
        }

        var database = uri.AbsolutePath.Trim('/').Split('/')[0];
        if (database.Length > 0)
        {
            settings["Database"] = database;
        }

        var components = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (serializer is not null)
        {
            components[nameof(ICache.Serializer)] = serializer;
        }

        if (plugins is not null)
        {
            components[nameof(ICache.Plugins)] = plugins.ToArray();
        }

        // ?l1=memory puts a first level in front: a MultiLevelCache, kept coherent by the server's own backplane.
        var l1 = Take(settings, "l1");
        var l1Ttl = Take(settings, "l1ttl");
        var backplane = Take(settings, "backplane");
        if (l1 is null)
        {
            return (l1Ttl ?? backplane) is null
                ? ComponentFactory.CreateCache(type, settings, components, url)
                : throw new ArgumentException($"'{url}' sets l1ttl or backplane without l1; add l1=memory for a two-level cache.", nameof(url));
        }

        return MultiLevelFromUrl(url, l1, l1Ttl, backplane, ComponentFactory.CreateCache(type, settings, components, url));
    }

    [RequiresUnreferencedCode("The cache type named by the scheme is created by reflection.")]
    private static MultiLevelCache MultiLevelFromUrl(string url, string l1, string? l1Ttl, string? backplane, ICache l2)
    {
        try
        {
            if (!s_schemes.ContainsKey(l1) || l1.Contains(':', StringComparison.Ordinal))
            {
                throw new ArgumentException($"l1={l1} in '{url}' is not a cache scheme; use one of: {string.Join(", ", Schemes)}.", nameof(url));
            }

            TimeSpan? bound = null;
            if (l1Ttl is not null)
            {
                bound = double.TryParse(l1Ttl, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds > 0 && seconds < TimeSpan.MaxValue.TotalSeconds
                    ? TimeSpan.FromSeconds(seconds)
                    : throw new ArgumentException($"l1ttl={l1Ttl} in '{url}' is not a positive number of seconds.", nameof(url));
            }

            var plane = backplane?.ToLowerInvariant() switch
            {
                null or "auto" or "true" => (l2 as Capabilities.IBackplaneProvider)?.CreateBackplane(),
                "none" or "false" => null,
                _ => throw new ArgumentException($"backplane={backplane} in '{url}' is not auto or none.", nameof(url)),
            };
            return new MultiLevelCache(FromUrl(l1 + "://"), l2, plane) { L1Ttl = bound };
        }
        catch
        {
            l2.Dispose();
            throw;
        }
    }

    private static string? Take(Dictionary<string, string?> settings, string name)
        => settings.Remove(name, out var value) ? value ?? string.Empty : null;

    /// <summary>Reads <c>CACHE_DISABLE</c> again (tests that change the environment call this).</summary>
    internal static void ReloadDisableVariable() => s_disabled = ReadDisableVariable();

    private static bool ReadDisableVariable() => Environment.GetEnvironmentVariable(DisableVariable) == "1";
}
