using BenchmarkDotNet.Attributes;
using Cached.Benchmarks.Infrastructure;
using Cached.Benchmarks.Model;

namespace Cached.Benchmarks;

/// <summary>
/// <see cref="MultiCachedHitBenchmarks"/> on <see cref="Cached.Redis.RedisCache"/>, where a single call is a round
/// trip. The "Redis commands/call" column shows what the server counted for one call of each method (one MGET for a
/// 100-key hit).
/// </summary>
[MemoryDiagnoser]
[RequiresRedis]
[Config(typeof(RedisCommandsConfig))]
public class MultiCachedRedisBenchmarks : MultiCachedHitBenchmarks
{
    protected override MultiCachedBackend CreateBackend() => new RedisMultiCachedBackend();

    // The class by name: the in-process toolchain runs a type it derives from this one.
    protected override void AfterSetup() => RedisCommandCount.Record(typeof(MultiCachedRedisBenchmarks), HitShare.All, this);
}

/// <summary><see cref="MultiCachedMissBenchmarks"/> on <see cref="Cached.Redis.RedisCache"/>.</summary>
[MemoryDiagnoser]
[RequiresRedis]
[InvocationCount(Calls)]
[Config(typeof(RedisCommandsConfig))]
public class MultiCachedRedisMissBenchmarks : MultiCachedMissBenchmarks
{
    private const int Calls = 64;

    protected override int CallsPerIteration => Calls;

    protected override MultiCachedBackend CreateBackend() => new RedisMultiCachedBackend();

    protected override void AfterSetup()
    {
        // Two calls' worth of keys with this share: one batch for each method.
        Prepare(Hits, calls: 2);
        RedisCommandCount.Record(typeof(MultiCachedRedisMissBenchmarks), Hits, this);
    }
}

/// <summary>Counts, through INFO commandstats, the commands one call of each MultiCached benchmark method sends.</summary>
internal static class RedisCommandCount
{
    /// <summary>Calls each method once on keys already prepared and records what the server counted as a run note.</summary>
    public static void Record(Type type, HitShare hits, MultiCachedBenchmarks benchmarks)
    {
        using var admin = BenchRedis.Connect(admin: true);
        var parameters = $"Hits={hits}";
        var before = BenchRedis.CommandCalls(admin);
        benchmarks.MultiCached();
        var between = BenchRedis.CommandCalls(admin);
        benchmarks.SingleCalls();
        var after = BenchRedis.CommandCalls(admin);
        RunNotes.Record(RunNotes.Key(RedisCommandsConfig.Kind, type.Name, nameof(MultiCachedBenchmarks.MultiCached), parameters), BenchRedis.Describe(before, between));
        RunNotes.Record(RunNotes.Key(RedisCommandsConfig.Kind, type.Name, nameof(MultiCachedBenchmarks.SingleCalls), parameters), BenchRedis.Describe(between, after));
    }
}
