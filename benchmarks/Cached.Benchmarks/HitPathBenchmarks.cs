using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using Cached.Benchmarks.Infrastructure;
using Cached.Benchmarks.Model;
using Microsoft.Extensions.Caching.Memory;
using ZiggyCreatures.Caching.Fusion;

namespace Cached.Benchmarks;

/// <summary>
/// A hit on <c>user:42</c>: generated <c>[Cached]</c> methods on <see cref="SimpleMemoryCache"/> against the floor (a
/// <see cref="ConcurrentDictionary{TKey,TValue}"/> lookup with the key built per call) and every peer's hit path.
/// </summary>
[MemoryDiagnoser]
// Rows of 5 to 50 ns on 2 shared cores: one slow iteration of the short job's three moved a row's mean by half (the
// parameterless hit read 8.9 ns in one run and 15.4 ns, error +/-85 ns, in the next, on the same code); with twelve,
// BenchmarkDotNet's outlier removal has enough iterations to set such a one aside.
[WarmupCount(3)]
[IterationCount(12)]
public partial class HitPathBenchmarks
{
    internal const string Alias = "bench-hit";

    /// <summary>A cache of its own for the TTL methods, so that their key is the floor's text, <c>user:42</c>, too.</summary>
    internal const string TtlAlias = "bench-hit-ttl";

    /// <summary>The start of <see cref="GetProfile"/>'s default key: the method's full name.</summary>
    internal const string DefaultKeyPrefix = "Cached.Benchmarks.HitPathBenchmarks.GetProfile";

    private readonly ConcurrentDictionary<string, User> _floor = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task<User>> _floorTasks = new(StringComparer.Ordinal);
    private readonly SimpleMemoryCache _cache = new();
    private readonly SimpleMemoryCache _ttlCache = new();
    private Peers _peers = null!;

    // Delegates made once: the peers that take no factory state pay for no closure the generated code does not pay for.
    private Func<ICacheEntry, User> _memoryFactory = null!;
    private Func<FusionCacheFactoryExecutionContext<User>, CancellationToken, User> _fusionFactory = null!;
    private Func<FusionCacheFactoryExecutionContext<User>, CancellationToken, Task<User>> _fusionAsyncFactory = null!;

    // Fields, not constants, so that the JIT cannot fold any key.
    private int _id = 42;
    private string _region = "eu";
    private Tier _tier = Tier.Gold;

    [GlobalSetup]
    public void Setup()
    {
        Caches.AddInstance(Alias, _cache);
        Caches.AddInstance(TtlAlias, _ttlCache);
        _peers = new Peers();
        _memoryFactory = _ => new User(_id, "ada");
        _fusionFactory = (_, _) => new User(_id, "ada");
        _fusionAsyncFactory = (_, _) => Task.FromResult(new User(_id, "ada"));

        var user = new User(_id, "ada");
        _floor[$"user:{_id}"] = user;
        _floorTasks[$"user:{_id}"] = Task.FromResult(user);
        _floor[$"user:{_id}:{_region}:{_tier}"] = user;
        _floor[$"{DefaultKeyPrefix}({_id},\"{_region}\",{_tier})"] = user;
        _peers.Warm($"user:{_id}", user);

        // The first call of each generated method misses and stores; every measured call hits.
        GetDefaultUser();
        GetUser(_id);
        GetUserWithTtl(_id);
        GetUserWithTtlAsync(_id).AsTask().GetAwaiter().GetResult();
        GetUserWithTtlTask(_id).GetAwaiter().GetResult();
        GetProfile(_id, _region, _tier);
        GetProfileByTemplate(_id, _region, _tier);
        GetDefaultUserAsync().AsTask().GetAwaiter().GetResult();
        GetUserAsync(_id).AsTask().GetAwaiter().GetResult();
        GetProfileAsync(_id, _region, _tier).AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _peers.Dispose();
        _cache.Dispose();
        _ttlCache.Dispose();
    }

    [Benchmark(Baseline = true, Description = "floor: ConcurrentDictionary, $\"user:{id}\" per call")]
    public User? Floor() => _floor.TryGetValue($"user:{_id}", out var user) ? user : null;

    /// <summary>
    /// The floor handed back as a completed <see cref="ValueTask{TResult}"/>: the harness awaits what an async method
    /// returns, which the sync floor does not pay, so an async hit is also set beside the same lookup in its shape.
    /// </summary>
    [Benchmark(Description = "floor: ConcurrentDictionary, $\"user:{id}\" per call, ValueTask")]
    public ValueTask<User?> FloorValueTask() => new(_floor.TryGetValue($"user:{_id}", out var user) ? user : null);

    /// <summary>The floor of a <see cref="Task{TResult}"/> method: the completed task itself stored and looked up, so nothing is allocated per hit either.</summary>
    [Benchmark(Description = "floor: ConcurrentDictionary of completed tasks, $\"user:{id}\" per call, Task")]
    public Task<User>? FloorTask() => _floorTasks.TryGetValue($"user:{_id}", out var task) ? task : null;

    [Benchmark(Description = "floor: ConcurrentDictionary, constant key")]
    public User? FloorConstantKey() => _floor.TryGetValue("user:42", out var user) ? user : null;

    [Benchmark(Description = "floor: ConcurrentDictionary, 3-part key per call")]
    public User? FloorThreePartKey() => _floor.TryGetValue($"user:{_id}:{_region}:{_tier}", out var user) ? user : null;

    /// <summary>
    /// The floor of the default-key method: the same key text (<c>Type.Method(42,"eu",Gold)</c>, which
    /// <see cref="DefaultKeyPrefix"/> starts) built by hand per call, as the floors above build theirs.
    /// </summary>
    [Benchmark(Description = "floor: ConcurrentDictionary, the default key's text per call")]
    public User? FloorDefaultKey() => _floor.TryGetValue($"{DefaultKeyPrefix}({_id},\"{_region}\",{_tier})", out var user) ? user : null;

    [Benchmark(Description = "[Cached] no arguments")]
    public User Parameterless() => GetDefaultUser();

    [Benchmark(Description = "[Cached] no arguments, ValueTask")]
    public ValueTask<User> ParameterlessAsync() => GetDefaultUserAsync();

    [Benchmark(Description = "[Cached] int, template key")]
    public User OneArgument() => GetUser(_id);

    /// <summary>With a time to live the hit checks expiry: the one cost a hit without TTL does not pay.</summary>
    [Benchmark(Description = "[Cached] int, template key, TTL")]
    public User OneArgumentWithTtl() => GetUserWithTtl(_id);

    [Benchmark(Description = "[Cached] int, template key, TTL, ValueTask")]
    public ValueTask<User> OneArgumentWithTtlAsync() => GetUserWithTtlAsync(_id);

    /// <summary>A <see cref="Task{TResult}"/> method: a hit of the same value hands back the same completed task.</summary>
    [Benchmark(Description = "[Cached] int, template key, TTL, Task")]
    public Task<User> OneArgumentWithTtlTask() => GetUserWithTtlTask(_id);

    [Benchmark(Description = "[Cached] int, template key, ValueTask")]
    public ValueTask<User> OneArgumentAsync() => GetUserAsync(_id);

    [Benchmark(Description = "[Cached] int+string+enum, default key")]
    public User ThreeArguments() => GetProfile(_id, _region, _tier);

    [Benchmark(Description = "[Cached] int+string+enum, template key")]
    public User ThreeArgumentsTemplate() => GetProfileByTemplate(_id, _region, _tier);

    [Benchmark(Description = "[Cached] int+string+enum, default key, ValueTask")]
    public ValueTask<User> ThreeArgumentsAsync() => GetProfileAsync(_id, _region, _tier);

    [Benchmark(Description = "MemoryCache.TryGetValue")]
    public User? MemoryCacheTryGetValue() => _peers.Memory.TryGetValue($"user:{_id}", out User? user) ? user : null;

    [Benchmark(Description = "MemoryCache.GetOrCreate")]
    public User? MemoryCacheGetOrCreate() => _peers.Memory.GetOrCreate($"user:{_id}", _memoryFactory);

    [Benchmark(Description = "FusionCache.GetOrSet")]
    public User FusionCacheGetOrSet() => _peers.Fusion.GetOrSet<User>($"user:{_id}", _fusionFactory);

    [Benchmark(Description = "FusionCache.GetOrSetAsync")]
    public ValueTask<User> FusionCacheGetOrSetAsync() => _peers.Fusion.GetOrSetAsync<User>($"user:{_id}", _fusionAsyncFactory);

    [Benchmark(Description = "HybridCache.GetOrCreateAsync")]
    public ValueTask<User> HybridCacheGetOrCreateAsync()
        => _peers.Hybrid.GetOrCreateAsync($"user:{_id}", _id, static (id, _) => ValueTask.FromResult(new User(id, "ada")));

    [Benchmark(Description = "BitFaster ConcurrentLru.GetOrAdd")]
    public User ConcurrentLruGetOrAdd() => _peers.Lru.GetOrAdd($"user:{_id}", static (_, id) => new User(id, "ada"), _id);

    [Cached(Alias = Alias, Key = "user:42")]
    private partial User GetDefaultUser();

    private User GetDefaultUserCore() => new(42, "ada");

    [Cached(Alias = Alias, Key = "user:42")]
    private partial ValueTask<User> GetDefaultUserAsync();

    private ValueTask<User> GetDefaultUserAsyncCore() => new(new User(42, "ada"));

    [Cached(Alias = Alias, Key = "user:{id}")]
    private partial User GetUser(int id);

    private User GetUserCore(int id) => new(id, "ada");

    [Cached(Alias = TtlAlias, Key = "user:{id}", Ttl = 600)]
    private partial User GetUserWithTtl(int id);

    private User GetUserWithTtlCore(int id) => new(id, "ada");

    [Cached(Alias = TtlAlias, Key = "user:{id}", Ttl = 600)]
    private partial ValueTask<User> GetUserWithTtlAsync(int id);

    private ValueTask<User> GetUserWithTtlAsyncCore(int id) => new(new User(id, "ada"));

    [Cached(Alias = TtlAlias, Key = "user:{id}", Ttl = 600)]
    private partial Task<User> GetUserWithTtlTask(int id);

    private Task<User> GetUserWithTtlTaskCore(int id) => Task.FromResult(new User(id, "ada"));

    [Cached(Alias = Alias, Key = "user:{id}")]
    private partial ValueTask<User> GetUserAsync(int id);

    private ValueTask<User> GetUserAsyncCore(int id) => new(new User(id, "ada"));

    [Cached(Alias = Alias)]
    private partial User GetProfile(int id, string region, Tier tier);

    private User GetProfileCore(int id, string region, Tier tier) => new(id, "ada");

    [Cached(Alias = Alias, Key = "user:{id}:{region}:{tier}")]
    private partial User GetProfileByTemplate(int id, string region, Tier tier);

    private User GetProfileByTemplateCore(int id, string region, Tier tier) => new(id, "ada");

    [Cached(Alias = Alias)]
    private partial ValueTask<User> GetProfileAsync(int id, string region, Tier tier);

    private ValueTask<User> GetProfileAsyncCore(int id, string region, Tier tier) => new(new User(id, "ada"));
}
