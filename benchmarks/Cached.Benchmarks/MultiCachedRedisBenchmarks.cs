using BenchmarkDotNet.Attributes;
using Cached.Benchmarks.Infrastructure;
using Cached.Benchmarks.Model;
using Cached.Redis;
using StackExchange.Redis;

namespace Cached.Benchmarks;

/// <summary>
/// <see cref="MultiCachedBenchmarks"/> on <see cref="RedisCache"/>, where a single call is a round trip. The "Redis
/// commands/call" column shows what the server counted for one call of each method (one MGET for a 100-key hit).
/// </summary>
[MemoryDiagnoser]
[RequiresRedis]
[InvocationCount(Calls)]
[Config(typeof(RedisCommandsConfig))]
public partial class MultiCachedRedisBenchmarks : MultiCachedBenchmarks
{
    private const int Calls = 64;
    private const string Alias = "bench-multi-redis";

    private ConnectionMultiplexer _connection = null!;
    private RedisCache _cache = null!;

    protected override ICache Cache => _cache;

    /// <summary>
    /// Empties the benchmark's database synchronously. <c>Clear</c> unlinks, and the server frees unlinked keys on a
    /// background thread, which would run during the measured calls on this 2-core machine and be charged to them.
    /// </summary>
    protected override void Empty()
    {
        using var admin = BenchRedis.Connect(admin: true);
        admin.GetDatabase().Execute("FLUSHDB", "SYNC");
    }

    protected override int CallsPerIteration => Calls;

    [GlobalSetup]
    public void Setup()
    {
        _connection = BenchRedis.Connect();
        _cache = new RedisCache { Connection = _connection };
        Caches.AddInstance(Alias, _cache);
        CountCommands();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cache.Clear(Namespace);
        _cache.Dispose();
        _connection.Dispose();
    }

    protected override Dictionary<int, User> GetUsers(IReadOnlyList<int> ids) => GetUsersCached(ids);

    protected override User GetUser(int id) => GetUserCached(id);

    [MultiCached(KeysFrom = "ids", Alias = Alias, Namespace = Namespace)]
    private partial Dictionary<int, User> GetUsersCached(IReadOnlyList<int> ids);

    private Dictionary<int, User> GetUsersCachedCore(IReadOnlyList<int> ids) => Load(ids);

    [Cached(Key = "{id}", Alias = Alias, Namespace = Namespace)]
    private partial User GetUserCached(int id);

    private User GetUserCachedCore(int id) => new(id, "ada");

    /// <summary>Counts the commands of one call of each method with this <see cref="MultiCachedBenchmarks.Hits"/>.</summary>
    private void CountCommands()
    {
        using var admin = BenchRedis.Connect(admin: true);
        Prepare(calls: 2);
        var parameters = $"{nameof(Hits)}={Hits}";
        var before = BenchRedis.CommandCalls(admin);
        MultiCached();
        var between = BenchRedis.CommandCalls(admin);
        SingleCalls();
        var after = BenchRedis.CommandCalls(admin);
        RunNotes.Record(RunNotes.Key(RedisCommandsConfig.Kind, nameof(MultiCachedRedisBenchmarks), nameof(MultiCached), parameters), BenchRedis.Describe(before, between));
        RunNotes.Record(RunNotes.Key(RedisCommandsConfig.Kind, nameof(MultiCachedRedisBenchmarks), nameof(SingleCalls), parameters), BenchRedis.Describe(between, after));
    }
}
