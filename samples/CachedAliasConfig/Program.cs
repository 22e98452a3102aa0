// pycached's examples/cached_alias_config.py: named caches ("aliases") configured once, in the shape of pycached's
// caches.set_config dictionary, then fetched by name anywhere in the application.
//
//   dotnet run --project samples/CachedAliasConfig                                      # "alt" is a memory cache
//   dotnet run --project samples/CachedAliasConfig -- --redis redis://127.0.0.1:6379/0  # "alt" is that Redis
//
// tests/Cached.Samples.Tests asserts every line this prints, on both backends.
using Cached;

var redisUrl = args is ["--redis", var given, ..] ? given : Environment.GetEnvironmentVariable("REDIS_URL");

// Types are named by their full names, as in appsettings.json; settings are text, named like the cache's properties.
Caches.SetConfig(new Dictionary<string, CacheConfig>
{
    ["default"] = new()
    {
        Cache = "Cached.SimpleMemoryCache",
        Serializer = new ClassConfig("Cached.Serializers.StringSerializer"),
    },
    ["alt"] = AltConfig(redisUrl),
});

// Get: the same instance on every call.
var cache = Caches.Get("default");
cache.Set("key", "value");
Console.WriteLine($"default: {cache.GetType().Name} with {cache.Serializer.GetType().Name}");
Console.WriteLine($"default get key: {cache.Get<string>("key")}");
Console.WriteLine($"default is the same instance on every Get: {ReferenceEquals(cache, Caches.Get("default"))}");

// Create: a new instance on every call, which the caller owns and disposes.
var config = Caches.GetAliasConfig("alt");
Console.WriteLine($"alt config: {config.Cache}, namespace {config["Namespace"]}, timeout {config["Timeout"]} s, serializer {config.Serializer?.Class}");
Console.WriteLine($"alt config plugins: {string.Join(", ", config.Plugins.Select(plugin => plugin.Class))}");

using (var alt = Caches.Create("alt"))
using (var another = Caches.Create("alt"))
{
    alt.Set("key", "value");
    Console.WriteLine($"alt: {alt.GetType().Name} with {alt.Serializer.GetType().Name}, {alt.Plugins.Count} plugins, timeout {alt.Timeout?.TotalSeconds} s, namespace {alt.Namespace}");
    Console.WriteLine($"alt get key: {alt.Get<string>("key")}");
    Console.WriteLine($"alt is a new instance on every Create: {!ReferenceEquals(alt, another)}");
    Console.WriteLine($"alt deleted: {alt.Delete("key")}");
}

// pycached's caches.create('alt', namespace="test"): settings for this instance only.
using (var test = Caches.Create("alt", new Dictionary<string, string?> { ["Namespace"] = "test" }))
{
    Console.WriteLine($"alt with a namespace override: {test.Namespace}");
}

Console.WriteLine($"aliases: {string.Join(", ", Caches.GetConfig().Keys.Order(StringComparer.Ordinal))}");

// pycached's redis_alt: JSON instead of pickle, a one-second timeout, two plugins. Without a Redis URL the same
// settings describe a memory cache.
static CacheConfig AltConfig(string? redisUrl)
{
    var config = new CacheConfig
    {
        Cache = "Cached.SimpleMemoryCache",
        ["Namespace"] = "alt",
        ["Timeout"] = "1",
        Serializer = new ClassConfig("Cached.Serializers.JsonSerializer"),
        Plugins =
        {
            new ClassConfig("Cached.Plugins.HitMissRatioPlugin"),
            new ClassConfig("Cached.Plugins.TimingPlugin"),
        },
    };
    if (!string.IsNullOrEmpty(redisUrl))
    {
        var url = new Uri(redisUrl);
        config.Cache = "Cached.Redis.RedisCache";
        config["Endpoint"] = url.Host;
        config["Port"] = url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (url.AbsolutePath.Trim('/') is { Length: > 0 } database)
        {
            config["Database"] = database;
        }
    }

    return config;
}
