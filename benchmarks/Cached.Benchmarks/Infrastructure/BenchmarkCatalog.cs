using System.Reflection;

namespace Cached.Benchmarks.Infrastructure;

/// <summary>Every benchmark class of the suite, and the ones this environment can run.</summary>
public static class BenchmarkCatalog
{
    /// <summary>The suite, in the order RESULTS.md shows it.</summary>
    public static IReadOnlyList<Type> All { get; } =
    [
        typeof(HitPathBenchmarks),
        typeof(MissPathBenchmarks),
        typeof(ConcurrentHitBenchmarks),
        typeof(ColdKeyBenchmarks),
        typeof(MultiCachedMemoryBenchmarks),
        typeof(MultiCachedMemoryMissBenchmarks),
        typeof(MultiCachedRedisBenchmarks),
        typeof(MultiCachedRedisMissBenchmarks),
        typeof(RedisBenchmarks),
        typeof(MultiLevelBenchmarks),
        typeof(MultiLevelRedisBenchmarks),
        typeof(ResilienceBenchmarks),
        typeof(TagBenchmarks),
        typeof(TagRedisBenchmarks),
    ];

    /// <summary>Whether <paramref name="type"/> needs the Redis server of <see cref="BenchRedis.Variable"/>.</summary>
    public static bool NeedsRedis(Type type) => type.GetCustomAttribute<RequiresRedisAttribute>(inherit: true) is not null;

    /// <summary>
    /// The classes that can run here: all of them, or without the Redis ones when no server is configured, in which
    /// case <paramref name="skipped"/> says so.
    /// </summary>
    public static IReadOnlyList<Type> Runnable(out string? skipped)
    {
        if (BenchRedis.Endpoint is not null)
        {
            skipped = null;
            return All;
        }

        skipped = BenchRedis.SkipNotice;
        return All.Where(static type => !NeedsRedis(type)).ToList();
    }
}
