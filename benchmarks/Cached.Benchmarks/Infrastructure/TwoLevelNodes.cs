using Cached.Benchmarks.Model;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Backplane.StackExchangeRedis;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;
using CachedRedisBackplane = Cached.Redis.RedisBackplane;
using CachedRedisCache = Cached.Redis.RedisCache;
using MicrosoftRedisCache = Microsoft.Extensions.Caching.StackExchangeRedis.RedisCache;

namespace Cached.Benchmarks.Infrastructure;

/// <summary>
/// Two nodes of one deployment in one process, each with its own connections, memory in front of the Redis of
/// <see cref="BenchRedis.Variable"/>: Cached's <see cref="MultiLevelCache"/> with <see cref="CachedRedisBackplane"/>,
/// and FusionCache with its Redis distributed cache and Redis backplane, each set up as its documentation shows.
/// </summary>
public sealed class TwoLevelNodes : IAsyncDisposable
{
    private readonly string _space = "bench-ml-" + Guid.NewGuid().ToString("N")[..8];

    public TwoLevelNodes()
    {
        var endpoint = BenchRedis.Endpoint ?? throw new InvalidOperationException(BenchRedis.SkipNotice);
        CachedA = CachedNode(endpoint);
        CachedB = CachedNode(endpoint);
        FusionA = FusionNode(endpoint);
        FusionB = FusionNode(endpoint);
    }

    public MultiLevelCache CachedA { get; }

    public MultiLevelCache CachedB { get; }

    public FusionCache FusionA { get; }

    public FusionCache FusionB { get; }

    /// <summary>A key of this run's own space, so that runs and libraries never share entries.</summary>
    public string Key(string name) => $"{_space}:{name}";

    /// <summary>Writes <paramref name="value"/> on node A of Cached and waits until node B reads it.</summary>
    public static async Task CachedPropagationAsync(TwoLevelNodes nodes, string key, int value)
    {
        await nodes.CachedA.SetAsync(key, new User(value, "ada")).ConfigureAwait(false);
        var spinner = default(SpinWait);
        while ((await nodes.CachedB.GetAsync<User>(key).ConfigureAwait(false))?.Id != value)
        {
            // Both libraries are polled alike: spinning, then yielding the core to the threads that deliver the
            // message (on 2 cores a busy loop would measure the scheduler, not the backplane).
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>Writes <paramref name="value"/> on node A of FusionCache and waits until node B reads it.</summary>
    public static async Task FusionPropagationAsync(TwoLevelNodes nodes, string key, int value)
    {
        await nodes.FusionA.SetAsync(key, new User(value, "ada")).ConfigureAwait(false);
        var spinner = default(SpinWait);
        while ((await nodes.FusionB.GetOrDefaultAsync<User>(key).ConfigureAwait(false))?.Id != value)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await CachedA.ClearAsync().ConfigureAwait(false);
        await CachedA.DisposeAsync().ConfigureAwait(false);
        await CachedB.DisposeAsync().ConfigureAwait(false);
        FusionA.Dispose();
        FusionB.Dispose();
    }

    private MultiLevelCache CachedNode(string endpoint)
        => new(new SimpleMemoryCache(), new CachedRedisCache { ConnectionString = endpoint, Namespace = _space }, new CachedRedisBackplane(endpoint));

    private FusionCache FusionNode(string endpoint)
    {
        var cache = new FusionCache(new FusionCacheOptions
        {
            CacheName = _space,
            DefaultEntryOptions = new FusionCacheEntryOptions { Duration = TimeSpan.FromHours(1) },
        });
        cache.SetupDistributedCache(new MicrosoftRedisCache(new RedisCacheOptions { Configuration = endpoint }), new FusionCacheSystemTextJsonSerializer());
        cache.SetupBackplane(new RedisBackplane(new RedisBackplaneOptions { Configuration = endpoint }));
        return cache;
    }
}
