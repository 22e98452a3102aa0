// pycached's examples/optimistic_lock.py: check-and-set. Each view notes the key's version when it takes the lock,
// computes without holding anything, then writes with Cas only if nobody wrote the key in between. Of views that all
// started from the same version, the first to write wins; the others get an OptimisticLockException.
//
//   dotnet run --project samples/OptimisticLock                                      # the memory backend
//   dotnet run --project samples/OptimisticLock -- --redis redis://127.0.0.1:6379/0  # or REDIS_URL=redis://...
//
// tests/Cached.Samples.Tests asserts every line this prints, on both backends.
using Cached;

using var cache = CreateCache(args);
Console.WriteLine($"backend: {cache.GetType().Name}");

cache.Set("key", "initial_value");
Console.WriteLine($"get key: {cache.Get<string>("key")}");

// pycached's comment says all three views read 'initial_value'; here they really do: each waits until all three
// have taken the lock before any of them writes.
const int Views = 3;
var locked = 0;
var allLocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
var outcomes = await Task.WhenAll(Enumerable.Range(0, Views).Select(_ => Task.Run(MyView)));

Console.WriteLine($"views whose cas stored the result: {outcomes.Count(stored => stored)}");
Console.WriteLine($"views refused with OptimisticLockException: {outcomes.Count(stored => !stored)}");
Console.WriteLine($"get key: {cache.Get<string>("key")}");
Console.WriteLine($"deleted: {cache.Delete("key")}");

async Task<bool> MyView()
{
    await using var lck = await OptimisticLock.AcquireAsync(cache, "key");
    if (Interlocked.Increment(ref locked) == Views)
    {
        allLocked.SetResult();
    }

    await allLocked.Task;
    var result = await ExpensiveFunction();
    try
    {
        await lck.CasAsync(result);
        return true;
    }
    catch (OptimisticLockException)
    {
        // pycached logs "I failed setting the value because it is different since the lock started!"
        return false;
    }
}

static async Task<string> ExpensiveFunction()
{
    await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(0, 200)));
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
