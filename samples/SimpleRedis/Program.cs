// pycached's examples/simple_redis.py: set, set with a time to live, get, and a raw command of the backend.
//
//   dotnet run --project samples/SimpleRedis                                         # the memory backend
//   dotnet run --project samples/SimpleRedis -- --redis redis://127.0.0.1:6379/0     # or REDIS_URL=redis://...
//
// tests/Cached.Samples.Tests asserts every line this prints, on both backends.
using Cached;

using var cache = CreateCache(args);
Console.WriteLine($"backend: {cache.GetType().Name}");

Console.WriteLine($"set key: {cache.Set("key", "value")}");
Console.WriteLine($"set expire_me with ttl 10 s: {cache.Set("expire_me", "value", ttl: TimeSpan.FromSeconds(10))}");
Console.WriteLine($"get key: {cache.Get<string>("key")}");
Console.WriteLine($"get expire_me: {cache.Get<string>("expire_me")}");

// Raw speaks the store's own language, on the key as stored: namespace included, nothing serialized.
var stored = cache.BuildKey("expire_me");
if (cache is SimpleMemoryCache)
{
    Console.WriteLine($"raw contains {stored}: {cache.Raw("contains", stored)}");
}
else
{
    Console.WriteLine($"raw ttl {stored} > 0: {(long)cache.Raw("ttl", stored)! > 0}");
}

Console.WriteLine($"deleted: {cache.Delete("key") + cache.Delete("expire_me")}");

// The memory backend unless `--redis <url>` or the REDIS_URL environment variable names a Redis server.
static ICache CreateCache(string[] args)
{
    var redisUrl = args is ["--redis", var given, ..] ? given : Environment.GetEnvironmentVariable("REDIS_URL");
    return string.IsNullOrEmpty(redisUrl)
        ? new SimpleMemoryCache { Namespace = "main" }
        : Cache.FromUrl($"{redisUrl}{(redisUrl.Contains('?') ? '&' : '?')}namespace=main");
}
