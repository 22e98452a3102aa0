using BitFaster.Caching.Lru;
using Cached.Benchmarks.Model;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using ZiggyCreatures.Caching.Fusion;

namespace Cached.Benchmarks.Infrastructure;

/// <summary>
/// The other libraries' caches, each set up as its documentation recommends, with entries that outlive any run
/// (FusionCache and HybridCache would otherwise expire them after one and five minutes).
/// </summary>
public sealed class Peers : IDisposable
{
    private static readonly TimeSpan s_longLived = TimeSpan.FromHours(1);

    private readonly ServiceProvider _services;

    /// <summary>Creates every peer; <paramref name="lruCapacity"/> bounds BitFaster's LRU.</summary>
    public Peers(int lruCapacity = 1 << 17)
    {
        Memory = new MemoryCache(new MemoryCacheOptions());
        Fusion = new FusionCache(new FusionCacheOptions { DefaultEntryOptions = new FusionCacheEntryOptions { Duration = s_longLived } });
        Lru = new ConcurrentLru<string, User>(lruCapacity);

        var services = new ServiceCollection();
        services.AddHybridCache(options => options.DefaultEntryOptions = new HybridCacheEntryOptions
        {
            Expiration = s_longLived,
            LocalCacheExpiration = s_longLived,
        });
        _services = services.BuildServiceProvider();
        Hybrid = _services.GetRequiredService<HybridCache>();
    }

    /// <summary>Microsoft.Extensions.Caching.Memory.</summary>
    public MemoryCache Memory { get; }

    /// <summary>FusionCache, memory only.</summary>
    public FusionCache Fusion { get; }

    /// <summary>HybridCache, local only (no distributed cache registered).</summary>
    public HybridCache Hybrid { get; }

    /// <summary>BitFaster's ConcurrentLru.</summary>
    public ConcurrentLru<string, User> Lru { get; }

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/> in every peer.</summary>
    public void Warm(string key, User value)
    {
        Memory.Set(key, value);
        Fusion.Set(key, value);
        Lru.AddOrUpdate(key, value);
        Hybrid.SetAsync(key, value).AsTask().GetAwaiter().GetResult();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Memory.Dispose();
        Fusion.Dispose();
        _services.Dispose();
    }
}
