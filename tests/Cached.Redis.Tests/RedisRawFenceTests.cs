using Cached.Runtime;
using Cached.Serializers;

namespace Cached.Redis.Tests;

/// <summary>
/// A raw command on Redis and the fills open in this process (docs/redis.md, Fences): a raw write refuses them, as a
/// Clear does, so a cached body that began before it never stores over it; a raw read (GET, EXISTS, TTL, ...) leaves
/// them alone. Each race is held at a gate inside the body.
/// </summary>
public sealed class RedisRawFenceTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);

    private static RedisCache NewCache() => new()
    {
        ConnectionString = SharedRedis.Server.ConnectionString,
        Namespace = "raw-fence:" + Guid.NewGuid().ToString("N"),
        Serializer = new StringSerializer(),
    };

    /// <summary>Runs a cached call whose body waits at a gate, runs <paramref name="raw"/> while it waits, then lets it return.</summary>
    private static async Task<string?> StoredAfter(RedisCache cache, Func<RedisCache, string, Task> raw)
    {
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = "Tests.Raw.Get", CacheFactory = () => cache, Ttl = 60 });
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = method.InvokeAsync("k", (started, release), static async (gates, ct) =>
        {
            gates.started.TrySetResult();
            await gates.release.Task.WaitAsync(s_limit, ct);
            return "computed";
        }, null, CancellationToken.None).AsTask();
        await started.Task.WaitAsync(s_limit);

        await raw(cache, cache.BuildKey("k"));
        release.SetResult();
        await call.WaitAsync(s_limit);
        return await cache.GetAsync<string>("k");
    }

    [Test]
    public async Task A_raw_SET_of_the_key_a_body_computes_stands([Values] bool async)
    {
        using var cache = NewCache();

        var stored = await StoredAfter(cache, async (c, key) =>
        {
            if (async)
            {
                await c.RawAsync("SET", [key, "raw"]);
            }
            else
            {
                c.Raw("SET", key, "raw");
            }
        });

        Assert.That(stored, Is.EqualTo("raw"), "the older body did not store over the raw write");
    }

    [TestCase("GET")]
    [TestCase("exists")]
    [TestCase("TTL")]
    public async Task A_raw_read_leaves_the_fill_alone(string command)
    {
        using var cache = NewCache();

        var stored = await StoredAfter(cache, async (c, key) => await c.RawAsync(command, [key]));

        Assert.That(stored, Is.EqualTo("computed"));
    }
}
