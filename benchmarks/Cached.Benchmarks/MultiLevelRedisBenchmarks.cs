using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Cached.Benchmarks.Infrastructure;
using Cached.Benchmarks.Model;
using ZiggyCreatures.Caching.Fusion;

namespace Cached.Benchmarks;

/// <summary>
/// Two levels on Redis, Cached against FusionCache with its Redis backplane (issue 15: ahead on each): an L1 hit, a
/// read-through miss (L1 and L2 miss, the factory, the write to both levels and the backplane), and propagation, from
/// a write on node A to node B reading the new value.
/// </summary>
[MemoryDiagnoser]
[RequiresRedis]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
[WarmupCount(2)]
[IterationCount(8)]
public partial class MultiLevelRedisBenchmarks
{
    internal const string Alias = "bench-two-levels-redis";

    private TwoLevelNodes _nodes = null!;
    private Func<FusionCacheFactoryExecutionContext<User>, CancellationToken, Task<User>> _fusionFactory = null!;
    private string _hitKey = null!;
    private string _propagationKey = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _nodes = new TwoLevelNodes();
        Caches.AddInstance(Alias, _nodes.CachedA);
        _fusionFactory = (context, _) => Task.FromResult(new User(42, "ada"));
        _hitKey = _nodes.Key("user:42");
        _propagationKey = _nodes.Key("moving");
        _nodes.CachedA.Set(_hitKey, new User(42, "ada"));
        _nodes.FusionA.Set(_hitKey, new User(42, "ada"));
        TwoLevelNodes.CachedPropagationAsync(_nodes, _propagationKey, 0).GetAwaiter().GetResult();
        TwoLevelNodes.FusionPropagationAsync(_nodes, _propagationKey, 0).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup() => _nodes.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [BenchmarkCategory("L1 hit"), Benchmark(Baseline = true, Description = "FusionCache.GetOrDefaultAsync")]
    public ValueTask<User?> FusionHit() => _nodes.FusionA.GetOrDefaultAsync<User>(_hitKey);

    [BenchmarkCategory("L1 hit"), Benchmark(Description = "MultiLevelCache.GetAsync")]
    public ValueTask<User?> CachedHit() => _nodes.CachedA.GetAsync<User>(_hitKey);

    [BenchmarkCategory("Miss"), Benchmark(Baseline = true, Description = "FusionCache.GetOrSetAsync, new key")]
    public ValueTask<User> FusionMiss() => _nodes.FusionA.GetOrSetAsync<User>(_nodes.Key("miss:" + Interlocked.Increment(ref _next)), _fusionFactory);

    [BenchmarkCategory("Miss"), Benchmark(Description = "[Cached] on MultiLevelCache, new key")]
    public ValueTask<User> CachedMiss() => GetUser(Interlocked.Increment(ref _next));

    [BenchmarkCategory("Propagation"), Benchmark(Baseline = true, Description = "FusionCache: SetAsync on A until B reads it")]
    public Task FusionPropagation() => TwoLevelNodes.FusionPropagationAsync(_nodes, _propagationKey, Interlocked.Increment(ref _next));

    [BenchmarkCategory("Propagation"), Benchmark(Description = "Cached: SetAsync on A until B reads it")]
    public Task CachedPropagation() => TwoLevelNodes.CachedPropagationAsync(_nodes, _propagationKey, Interlocked.Increment(ref _next));

    [Cached(Alias = Alias, Key = "miss:{id}")]
    private partial ValueTask<User> GetUser(int id);

    private ValueTask<User> GetUserCore(int id) => new(new User(id, "ada"));
}
