// The pycached README's quick start, in C#. Runs on the in-process backend; nothing to install.
using Cached;
using Cached.Serializers;

// 1. Using a cache is as simple as this.
var cache = new SimpleMemoryCache();
Console.WriteLine($"set: {cache.Set("key", "value")}");
Console.WriteLine($"get: {cache.Get<string>("key")}");

// 2. Or as a cached method: the source generator writes CachedCall's body (see Examples below).
var examples = new Examples();
var stopwatch = System.Diagnostics.Stopwatch.StartNew();
examples.CachedCall();
examples.CachedCall();
examples.CachedCall();
Console.WriteLine($"cached_call: 3 calls, {examples.BodyCalls} body call, {stopwatch.Elapsed.TotalSeconds:0.0} s");

// 3. Aliases make a configuration easy to reuse.
Caches.SetConfig(new Dictionary<string, CacheConfig>
{
    ["default"] = new()
    {
        Cache = "Cached.SimpleMemoryCache",
        Serializer = new ClassConfig("Cached.Serializers.StringSerializer"),
    },
    ["memory_alt"] = new()
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
    },
});

var shared = Caches.Get("default");            // always the SAME instance
shared.Set("key", "value");
Console.WriteLine($"default alias: {shared.Get<string>("key")} (same instance: {ReferenceEquals(shared, Caches.Get("default"))})");

var alt = Caches.Create("memory_alt");         // a NEW instance on every call
alt.Set("forecast", new Forecast("Lisbon", 21.5));
var forecast = alt.Get<Forecast>("forecast");
Console.WriteLine($"memory_alt alias: {forecast} via {alt.Serializer.GetType().Name}, plugins: {string.Join(", ", alt.Plugins.Select(p => p.GetType().Name))}");

// 4. Async twins, counters and time to live.
await cache.SetAsync("visits", 0L, ttl: TimeSpan.FromMinutes(5));
await cache.IncrementAsync("visits");
Console.WriteLine($"visits: {await cache.GetAsync<long>("visits")}");

internal sealed record Forecast(string City, double Celsius);

internal sealed record Result(string Content, int Status);

internal sealed partial class Examples
{
    public int BodyCalls { get; private set; }

    [Cached(Ttl = 10, Key = "key", Namespace = "main")]
    public partial Result CachedCall();

    private Result CachedCallCore()
    {
        Console.WriteLine("Sleeping for one second zzzz.....");
        Thread.Sleep(TimeSpan.FromSeconds(1));
        BodyCalls++;
        return new Result("content", 200);
    }
}
