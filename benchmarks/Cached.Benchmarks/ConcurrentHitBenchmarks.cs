using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using Cached.Benchmarks.Infrastructure;
using Cached.Benchmarks.Model;
using ZiggyCreatures.Caching.Fusion;

namespace Cached.Benchmarks;

/// <summary>
/// Hit throughput with <see cref="Callers"/> callers at once (on a 2-core machine, more callers than cores): each
/// invocation starts the callers on the thread pool, each makes <see cref="HitsPerCaller"/> hits over
/// <see cref="KeySpace"/> warm keys, and the time is reported per hit.
/// </summary>
[MemoryDiagnoser]
public partial class ConcurrentHitBenchmarks
{
    public const int Callers = 8;
    public const int HitsPerCaller = 4_096;
    public const int KeySpace = 1_024;
    private const int Hits = Callers * HitsPerCaller;

    internal const string Alias = "bench-concurrent";

    private readonly ConcurrentDictionary<string, User> _floor = new(StringComparer.Ordinal);
    private readonly SimpleMemoryCache _cache = new();
    private readonly Task[] _callers = new Task[Callers];
    private Peers _peers = null!;
    private Func<FusionCacheFactoryExecutionContext<User>, CancellationToken, User> _fusionFactory = null!;

    [GlobalSetup]
    public void Setup()
    {
        // Enough pool threads for every caller to start at once instead of waiting for the pool to grow.
        ThreadPool.GetMinThreads(out var workers, out var completion);
        ThreadPool.SetMinThreads(Math.Max(workers, Callers + 2), completion);

        Caches.AddInstance(Alias, _cache);
        _peers = new Peers();
        _fusionFactory = (_, _) => new User(0, "ada");
        for (var id = 0; id < KeySpace; id++)
        {
            var user = new User(id, "ada");
            _floor[$"user:{id}"] = user;
            _peers.Warm($"user:{id}", user);
            GetUser(id);
            GetUserAsync(id).AsTask().GetAwaiter().GetResult();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _peers.Dispose();
        _cache.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Hits, Description = "floor: ConcurrentDictionary, $\"user:{id}\" per call")]
    public void Floor() => Run<FloorHit>();

    [Benchmark(OperationsPerInvoke = Hits, Description = "[Cached] int, template key")]
    public void Generated() => Run<GeneratedHit>();

    [Benchmark(OperationsPerInvoke = Hits, Description = "[Cached] int, template key, ValueTask")]
    public void GeneratedAsync() => Run<GeneratedAsyncHit>();

    [Benchmark(OperationsPerInvoke = Hits, Description = "MemoryCache.TryGetValue")]
    public void MemoryCacheTryGetValue() => Run<MemoryCacheHit>();

    [Benchmark(OperationsPerInvoke = Hits, Description = "FusionCache.GetOrSet")]
    public void FusionCacheGetOrSet() => Run<FusionCacheHit>();

    [Benchmark(OperationsPerInvoke = Hits, Description = "HybridCache.GetOrCreateAsync")]
    public void HybridCacheGetOrCreateAsync() => Run<HybridCacheHit>();

    [Benchmark(OperationsPerInvoke = Hits, Description = "BitFaster ConcurrentLru.GetOrAdd")]
    public void ConcurrentLruGetOrAdd() => Run<ConcurrentLruHit>();

    [Cached(Alias = Alias, Key = "user:{id}")]
    private partial User GetUser(int id);

    private User GetUserCore(int id) => new(id, "ada");

    [Cached(Alias = Alias, Key = "user:{id}")]
    private partial ValueTask<User> GetUserAsync(int id);

    private ValueTask<User> GetUserAsyncCore(int id) => new(new User(id, "ada"));

    /// <summary>Starts the callers and waits for them; the hit is a struct so each loop is compiled for its cache.</summary>
    private void Run<THit>()
        where THit : struct, IHit
    {
        for (var caller = 0; caller < Callers; caller++)
        {
            _callers[caller] = Task.Factory.StartNew(
                static state =>
                {
                    var (self, caller) = ((ConcurrentHitBenchmarks, int))state!;
                    var seen = 0;
                    for (var i = 0; i < HitsPerCaller; i++)
                    {
                        // Callers walk the key space from different places, so they do not all read one entry.
                        seen += THit.Hit(self, ((caller * 131) + i) & (KeySpace - 1)).Id;
                    }

                    return seen;
                },
                (this, caller),
                CancellationToken.None,
                TaskCreationOptions.DenyChildAttach,
                TaskScheduler.Default);
        }

        Task.WaitAll(_callers);
    }

    private static T Await<T>(ValueTask<T> pending) => pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();

    private interface IHit
    {
        static abstract User Hit(ConcurrentHitBenchmarks self, int id);
    }

    private readonly struct FloorHit : IHit
    {
        public static User Hit(ConcurrentHitBenchmarks self, int id) => self._floor[$"user:{id}"];
    }

    private readonly struct GeneratedHit : IHit
    {
        public static User Hit(ConcurrentHitBenchmarks self, int id) => self.GetUser(id);
    }

    private readonly struct GeneratedAsyncHit : IHit
    {
        public static User Hit(ConcurrentHitBenchmarks self, int id) => Await(self.GetUserAsync(id));
    }

    private readonly struct MemoryCacheHit : IHit
    {
        public static User Hit(ConcurrentHitBenchmarks self, int id) => self._peers.Memory.TryGetValue($"user:{id}", out User? user) ? user! : throw new InvalidOperationException($"user:{id} is not warm");
    }

    private readonly struct FusionCacheHit : IHit
    {
        public static User Hit(ConcurrentHitBenchmarks self, int id) => self._peers.Fusion.GetOrSet<User>($"user:{id}", self._fusionFactory);
    }

    private readonly struct HybridCacheHit : IHit
    {
        public static User Hit(ConcurrentHitBenchmarks self, int id)
            => Await(self._peers.Hybrid.GetOrCreateAsync($"user:{id}", id, static (id, _) => ValueTask.FromResult(new User(id, "ada"))));
    }

    private readonly struct ConcurrentLruHit : IHit
    {
        public static User Hit(ConcurrentHitBenchmarks self, int id) => self._peers.Lru.GetOrAdd($"user:{id}", static (_, id) => new User(id, "ada"), id);
    }
}
