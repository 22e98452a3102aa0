// pycached's examples/redlock.py: a lock taken through the cache's backend, so that of several callers (threads here;
// processes or machines on Redis) only one runs the expensive function and the others find its result in the cache.
//
//   dotnet run --project samples/RedLock                                      # the memory backend
//   dotnet run --project samples/RedLock -- --redis redis://127.0.0.1:6379/0  # or REDIS_URL=redis://...
//
// tests/Cached.Samples.Tests asserts every line this prints, on both backends.
using Cached;

using var cache = CreateCache(args);
Console.WriteLine($"backend: {cache.GetType().Name}");

var expensiveCalls = 0;
var foundInCache = 0;

// Three views at once: whoever takes the lock first computes; the others wait for the lock, then find the value.
var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(MyView)));
Console.WriteLine($"results: {string.Join(", ", results)}");
Console.WriteLine($"expensive_function calls: {expensiveCalls}");
Console.WriteLine($"views that found the value in the cache: {foundInCache}");
Console.WriteLine($"lock released: {!cache.Exists("key-lock")}");
Console.WriteLine($"deleted: {cache.Delete("key")}");

async Task<string> MyView()
{
    // The lease bounds how long a lock can outlive a holder that never releases it; waiters give up after one lease.
    await using (await RedLock.AcquireAsync(cache, "key", lease: TimeSpan.FromSeconds(5)))
    {
        if (await cache.GetAsync<string>("key") is { } found)
        {
            Interlocked.Increment(ref foundInCache);
            return found;
        }

        // The lock is an entry of the cache itself, under "key-lock", so every process sharing the backend sees it.
        Console.WriteLine($"lock held while computing: {await cache.ExistsAsync("key-lock")}");
        var result = await ExpensiveFunction();
        await cache.SetAsync("key", result);
        return result;
    }
}

async Task<string> ExpensiveFunction()
{
    Interlocked.Increment(ref expensiveCalls);
    await Task.Delay(TimeSpan.FromMilliseconds(300));
    return "result";
}

// The memory backend unless `--redis <url>` or the REDIS_URL environment variable names a Redis server.
static ICache CreateCache(string[] args)
{
    var redisUrl = args is ["--redis", var given, ..] ? given : Environment.GetEnvironmentVariable("REDIS_URL");
    return string.IsNullOrEmpty(redisUrl)
        ? new SimpleMemoryCache { Namespace = "main" }
        : Cache.FromUrl($"{redisUrl}{(redisUrl.Contains('?') ? '&' : '?')}namespace=main");
}
