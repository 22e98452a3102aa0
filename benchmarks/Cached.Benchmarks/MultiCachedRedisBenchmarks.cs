using System.Globalization;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Cached.Benchmarks.Infrastructure;
using Cached.Benchmarks.Model;
using StackExchange.Redis;

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

    /// <summary>
    /// The client's own ceiling for the batch: the same 100 keys read with one MGET on the same connection, each value
    /// decoded with System.Text.Json (as <c>RedisCache</c>'s default serializer does) into the same dictionary. The
    /// 100 single calls over this row is the most any <c>[MultiCached]</c> on this client could reach.
    /// </summary>
    [Benchmark(Description = "StackExchange.Redis: one MGET + JSON, 100 keys")]
    public Dictionary<int, User> RawMultiGet()
    {
        var ids = NextBatch();
        var keys = new RedisKey[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            keys[i] = string.Create(CultureInfo.InvariantCulture, $"{Namespace}:{ids[i]}");
        }

        var values = ((RedisMultiCachedBackend)Backend).Connection.GetDatabase().StringGet(keys);
        var users = new Dictionary<int, User>(ids.Length);
        for (var i = 0; i < values.Length; i++)
        {
            users[ids[i]] = JsonSerializer.Deserialize<User>((byte[])values[i]!)!;
        }

        return users;
    }

    // The class by name: the in-process toolchain runs a type it derives from this one.
    protected override void AfterSetup()
    {
        RedisCommandCount.Record(typeof(MultiCachedRedisBenchmarks), HitShare.All, this);
        RedisCommandCount.Record(typeof(MultiCachedRedisBenchmarks), nameof(RawMultiGet), $"Hits={HitShare.All}", () => RawMultiGet());
    }
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

    /// <summary>Calls one more method once and records what the server counted for it.</summary>
    public static void Record(Type type, string method, string parameters, Action call)
    {
        using var admin = BenchRedis.Connect(admin: true);
        var before = BenchRedis.CommandCalls(admin);
        call();
        RunNotes.Record(RunNotes.Key(RedisCommandsConfig.Kind, type.Name, method, parameters), BenchRedis.Describe(before, BenchRedis.CommandCalls(admin)));
    }
}
