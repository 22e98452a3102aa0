// pycached's examples/cached_decorator.py: [Cached] on a partial method. The source generator writes the method's
// body: read the cache, and only on a miss call <Name>Core and store its result.
//
//   dotnet run --project samples/CachedDecorator                                      # the memory backend
//   dotnet run --project samples/CachedDecorator -- --redis redis://127.0.0.1:6379/0  # or REDIS_URL=redis://...
//
// tests/Cached.Samples.Tests asserts every line this prints, on both backends.
using Cached;

using var cache = CreateCache(args);
Console.WriteLine($"backend: {cache.GetType().Name}");

// Generated methods without an Alias or Cache use the "default" alias: make it this cache.
Caches.AddInstance(Caches.DefaultAlias, cache);
var examples = new Examples();

for (var i = 0; i < 3; i++)
{
    Console.WriteLine($"cached_call: {examples.CachedCall()}");
}

Console.WriteLine($"cached_call body calls: {examples.CachedCallBodyCalls}");
Console.WriteLine($"exists key in main: {cache.Exists("key", "main")}");

// pycached's cache_read=False: run the body once more and store its fresh result.
using (CacheScope.SkipRead())
{
    examples.CachedCall();
}

Console.WriteLine($"cached_call body calls after CacheScope.SkipRead: {examples.CachedCallBodyCalls}");

// A key template names parameters (checked at compile time): one entry per city.
foreach (var city in new[] { "Lisbon", "Porto", "Lisbon" })
{
    Console.WriteLine($"get_forecast({city}): {await examples.GetForecastAsync(city)}");
}

Console.WriteLine($"get_forecast body calls: {examples.ForecastBodyCalls}");
Console.WriteLine($"exists forecast:Lisbon in main: {cache.Exists("forecast:Lisbon", "main")}");

Console.WriteLine($"deleted: {cache.Delete("key", "main") + cache.Delete("forecast:Lisbon", "main") + cache.Delete("forecast:Porto", "main")}");

// The memory backend unless `--redis <url>` or the REDIS_URL environment variable names a Redis server.
static ICache CreateCache(string[] args)
{
    var redisUrl = args is ["--redis", var given, ..] ? given : Environment.GetEnvironmentVariable("REDIS_URL");
    return string.IsNullOrEmpty(redisUrl) ? new SimpleMemoryCache() : Cache.FromUrl(redisUrl);
}

internal sealed record Result(string Content, int Status);

internal sealed record Forecast(string City, int Celsius);

internal sealed partial class Examples
{
    private static readonly Dictionary<string, int> s_celsius = new() { ["Lisbon"] = 21, ["Porto"] = 18 };

    public int CachedCallBodyCalls { get; private set; }

    public int ForecastBodyCalls { get; private set; }

    [Cached(Ttl = 10, Key = "key", Namespace = "main")]
    public partial Result CachedCall();

    [Cached(Ttl = 60, Key = "forecast:{city}", Namespace = "main")]
    public partial Task<Forecast> GetForecastAsync(string city, CancellationToken cancellationToken = default);

    private Result CachedCallCore()
    {
        CachedCallBodyCalls++;
        return new Result("content", 200);
    }

    private async Task<Forecast> GetForecastAsyncCore(string city, CancellationToken cancellationToken)
    {
        ForecastBodyCalls++;
        await Task.Delay(10, cancellationToken);   // stands in for a slow service
        return new Forecast(city, s_celsius[city]);
    }
}
