// Two nodes of one application, each with its own memory cache (L1) in front of a shared cache (L2), kept coherent by
// a backplane: an update made on one node reaches the other, which would otherwise serve its old copy forever.
//
//   dotnet run --project samples/TwoLevel                                          # L2 and backplane in this process
//   dotnet run --project samples/TwoLevel -- --redis redis://127.0.0.1:6379/0      # Redis as L2 and backplane
//
// Each node can also be its own process, as in a real deployment (tests/Cached.Samples.Tests runs three):
//   dotnet run --project samples/TwoLevel -- --redis URL watch greeting    # prints each value it reads, until "bye"
//   dotnet run --project samples/TwoLevel -- --redis URL set greeting hi    # writes from another process
using System.Diagnostics;
using Cached;

var redisUrl = args is ["--redis", var given, ..] ? given : Environment.GetEnvironmentVariable("REDIS_URL");
var command = args is ["--redis", _, .. var rest] ? rest : args;

switch (command)
{
    case ["set", var key, var value]:
        await using (var node = Node(redisUrl, shared: null))
        {
            await node.SetAsync(key, value);
            Console.WriteLine($"set {key}: {value}");
        }

        break;

    case ["watch", var key]:
        await Watch(Node(redisUrl, shared: null), key);
        break;

    default:
        await Demo(redisUrl);
        break;
}

// Both nodes in this process: with Redis each has its own backplane connection; without, they share an L2 and an
// in-process backplane.
static async Task Demo(string? redisUrl)
{
    var shared = redisUrl is null ? (new SimpleMemoryCache { Namespace = "twolevel" }, new MemoryBackplane()) : default((SimpleMemoryCache, MemoryBackplane)?);
    var a = Node(redisUrl, shared);
    var b = Node(redisUrl, shared);
    Console.WriteLine($"backend: {a.L2.GetType().Name}");

    await a.SetAsync("greeting", "hello");
    Console.WriteLine("node A sets greeting: hello");
    Console.WriteLine($"node B gets greeting: {await b.GetAsync<string>("greeting")}");
    Console.WriteLine($"node B now holds a copy in its L1: {b.IsInL1("greeting")}");

    await a.SetAsync("greeting", "bonjour");
    Console.WriteLine("node A sets greeting: bonjour");
    var propagated = await UntilChanged(b, "greeting", "hello");
    Console.WriteLine($"node B gets greeting: {await b.GetAsync<string>("greeting")}");
    Console.WriteLine($"# reached node B in {propagated.TotalMilliseconds:F2} ms");

    await a.DeleteAsync("greeting");
    Console.WriteLine("node A deletes greeting");
    await UntilChanged(b, "greeting", "bonjour");
    Console.WriteLine($"node B gets greeting: {await b.GetAsync<string>("greeting") ?? "(nothing)"}");

    await a.DisposeAsync();
    if (redisUrl is not null)
    {
        await b.DisposeAsync();
    }
}

// Prints each value the node reads, polling every few milliseconds: reads come from L1 until a message from another
// node drops the copy, so a change printed here travelled through the backplane.
static async Task Watch(MultiLevelCache node, string key)
{
    await using var _ = node;
    Console.WriteLine($"watching {key}");
    string? last = null;
    var limit = Stopwatch.StartNew();
    while (limit.Elapsed < TimeSpan.FromMinutes(2))
    {
        var value = await node.GetAsync<string>(key);
        if (value != last && value is not null)
        {
            Console.WriteLine($"{key}: {value} (copy in L1: {node.IsInL1(key)})");
            last = value;
            if (value == "bye")
            {
                await node.DeleteAsync(key);
                return;
            }
        }

        await Task.Delay(5);
    }

    Console.Error.WriteLine($"gave up watching {key} after 2 minutes");
    Environment.ExitCode = 1;
}

static async Task<TimeSpan> UntilChanged(MultiLevelCache node, string key, string old)
{
    var watch = Stopwatch.StartNew();
    while (await node.GetAsync<string>(key) == old)
    {
        if (watch.Elapsed > TimeSpan.FromSeconds(10))
        {
            throw new TimeoutException($"node B still reads {key} = {old} after 10 s");
        }

        await Task.Delay(1);
    }

    return watch.Elapsed;
}

// A node: memory in front of Redis with a backplane on the same server (?l1=memory), or, without Redis, memory in front
// of the shared in-process cache.
static MultiLevelCache Node(string? redisUrl, (SimpleMemoryCache L2, MemoryBackplane Backplane)? shared)
{
    if (redisUrl is not null)
    {
        return (MultiLevelCache)Cache.FromUrl($"{redisUrl}{(redisUrl.Contains('?') ? '&' : '?')}l1=memory&namespace=twolevel");
    }

    var (l2, backplane) = shared ?? (new SimpleMemoryCache { Namespace = "twolevel" }, new MemoryBackplane());
    return new MultiLevelCache(new SimpleMemoryCache(), l2, backplane);
}
