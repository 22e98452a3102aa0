using BenchmarkDotNet.Attributes;
using Cached.Benchmarks.Model;

namespace Cached.Benchmarks;

/// <summary><see cref="MultiCachedBenchmarks"/> on <see cref="SimpleMemoryCache"/>.</summary>
[MemoryDiagnoser]
[InvocationCount(Calls)]
public partial class MultiCachedMemoryBenchmarks : MultiCachedBenchmarks
{
    private const int Calls = 4_096;
    private const string Alias = "bench-multi-memory";

    private readonly SimpleMemoryCache _cache = new();

    protected override ICache Cache => _cache;

    protected override int CallsPerIteration => Calls;

    [GlobalSetup]
    public void Setup() => Caches.AddInstance(Alias, _cache);

    [GlobalCleanup]
    public void Cleanup() => _cache.Dispose();

    protected override Dictionary<int, User> GetUsers(IReadOnlyList<int> ids) => GetUsersCached(ids);

    protected override User GetUser(int id) => GetUserCached(id);

    [MultiCached(KeysFrom = "ids", Alias = Alias, Namespace = Namespace)]
    private partial Dictionary<int, User> GetUsersCached(IReadOnlyList<int> ids);

    private Dictionary<int, User> GetUsersCachedCore(IReadOnlyList<int> ids) => Load(ids);

    [Cached(Key = "{id}", Alias = Alias, Namespace = Namespace)]
    private partial User GetUserCached(int id);

    private User GetUserCachedCore(int id) => new(id, "ada");
}
