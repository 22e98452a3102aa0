using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using Cached.Benchmarks.Infrastructure;
using Cached.Benchmarks.Model;
using Microsoft.Extensions.Caching.Memory;
using ZiggyCreatures.Caching.Fusion;

namespace Cached.Benchmarks;

/// <summary>
/// A stampede: <see cref="Callers"/> concurrent callers ask for one cold key. The body counts its calls and does not
/// return until every caller has made its call, so all of them arrive while the first call is still running. Each
/// invocation is one stampede on a new key and returns its body calls; the "Body calls/key" column shows them
/// (single-flight makes it 1; a cache without it calls the body for almost every caller).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BodyCallsConfig))]
public partial class ColdKeyBenchmarks
{
    public const int Callers = 1_000;

    internal const string Alias = "bench-cold";

    private static readonly ConcurrentDictionary<string, (long Min, long Max)> s_bodyCalls = new(StringComparer.Ordinal);

    private readonly SimpleMemoryCache _cache = new();
    private readonly Task<User>[] _callers = new Task<User>[Callers];
    private Peers _peers = null!;
    private Func<ICacheEntry, Task<User>> _memoryFactory = null!;
    private Func<FusionCacheFactoryExecutionContext<User>, CancellationToken, Task<User>> _fusionFactory = null!;
    private TaskCompletionSource _everyoneCalled = new();
    private int _round;
    private int _arrived;
    private int _bodyCalls;

    /// <summary>Body calls per key of each benchmark method in this process, fewest and most over its rounds.</summary>
    public static IReadOnlyDictionary<string, (long Min, long Max)> BodyCalls => s_bodyCalls;

    [GlobalSetup]
    public void Setup()
    {
        Caches.AddInstance(Alias, _cache);
        _peers = new Peers();
        _memoryFactory = _ => LoadAsync(_round).AsTask();
        _fusionFactory = (_, _) => LoadAsync(_round).AsTask();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var (method, (min, max)) in s_bodyCalls)
        {
            RunNotes.Record(RunNotes.Key(BodyCallsConfig.Kind, nameof(ColdKeyBenchmarks), method), RunNotes.Range(min, max));
        }

        _peers.Dispose();
        _cache.Dispose();
    }

    [Benchmark(Baseline = true, Description = "[Cached] int, ValueTask, 1,000 callers")]
    public Task<int> Generated() => Stampede(nameof(Generated), static (self, id) => self.GetUserAsync(id));

    [Benchmark(Description = "FusionCache.GetOrSetAsync, 1,000 callers")]
    public Task<int> FusionCacheGetOrSetAsync()
        => Stampede(nameof(FusionCacheGetOrSetAsync), static (self, id) => self._peers.Fusion.GetOrSetAsync<User>($"cold:{id}", self._fusionFactory));

    [Benchmark(Description = "HybridCache.GetOrCreateAsync, 1,000 callers")]
    public Task<int> HybridCacheGetOrCreateAsync()
        => Stampede(nameof(HybridCacheGetOrCreateAsync), static (self, id) => self._peers.Hybrid.GetOrCreateAsync($"cold:{id}", (self, id), static (state, _) => state.self.LoadAsync(state.id)));

    [Benchmark(Description = "MemoryCache.GetOrCreateAsync, 1,000 callers")]
    public Task<int> MemoryCacheGetOrCreateAsync()
        => Stampede(nameof(MemoryCacheGetOrCreateAsync), static (self, id) => new ValueTask<User>(self._peers.Memory.GetOrCreateAsync($"cold:{id}", self._memoryFactory)!));

    [Cached(Alias = Alias, Key = "cold:{id}")]
    private partial ValueTask<User> GetUserAsync(int id);

    private ValueTask<User> GetUserAsyncCore(int id) => LoadAsync(id);

    /// <summary>The body every cache calls on a miss: counted, and held until every caller has called.</summary>
    private async ValueTask<User> LoadAsync(int id)
    {
        Interlocked.Increment(ref _bodyCalls);
        await _everyoneCalled.Task.ConfigureAwait(false);
        return new User(id, "ada");
    }

    private async Task<int> Stampede(string method, Func<ColdKeyBenchmarks, int, ValueTask<User>> call)
    {
        var id = ++_round;
        _bodyCalls = 0;
        _arrived = 0;
        _everyoneCalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        for (var i = 0; i < Callers; i++)
        {
            _callers[i] = Call(start.Task, call, id);
        }

        start.SetResult();
        var users = await Task.WhenAll(_callers).ConfigureAwait(false);
        foreach (var user in users)
        {
            if (user.Id != id)
            {
                throw new InvalidOperationException($"A caller of cold key {id} got the value of key {user.Id}.");
            }
        }

        var calls = Volatile.Read(ref _bodyCalls);
        s_bodyCalls.AddOrUpdate(method, static (_, calls) => (calls, calls), static (_, seen, calls) => (Math.Min(seen.Min, calls), Math.Max(seen.Max, calls)), (long)calls);
        return calls;
    }

    private async Task<User> Call(Task start, Func<ColdKeyBenchmarks, int, ValueTask<User>> call, int id)
    {
        // Every caller resumes on the thread pool at once, so they race for the miss.
        await start.ConfigureAwait(false);
        if (Interlocked.Increment(ref _arrived) == Callers)
        {
            _everyoneCalled.TrySetResult();
        }

        return await call(this, id).ConfigureAwait(false);
    }
}
