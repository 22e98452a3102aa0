namespace Cached.Benchmarks.Infrastructure;

/// <summary>
/// Issue 19's in-process targets: a hit of an entry with a TTL (what real code stores) at or below the floor and
/// allocating nothing, sync, <c>ValueTask</c> and <c>Task</c>; a miss at or below <c>MemoryCache</c>'s
/// <c>TryGetValue</c> + <c>Set</c> in time and in bytes.
/// </summary>
public sealed partial class SuiteReport
{
    private void WriteTtlHitAndMissTargets()
    {
        var floor = Find(nameof(HitPathBenchmarks), nameof(HitPathBenchmarks.Floor));
        foreach (var (method, label) in new[]
        {
            (nameof(HitPathBenchmarks.OneArgumentWithTtl), "sync"),
            (nameof(HitPathBenchmarks.OneArgumentWithTtlAsync), "`ValueTask`"),
            (nameof(HitPathBenchmarks.OneArgumentWithTtlTask), "`Task`"),
        })
        {
            var hit = Find(nameof(HitPathBenchmarks), method);
            Target(
                $"`[Cached]` int hit of an entry with a TTL, {label}: ≤ 1.0x the floor, 0 B",
                hit is null || floor is null ? null : $"{Ratio(hit, floor)} ({Time(hit)} vs {Time(floor)}), {Bytes(hit)}",
                hit is not null && floor is not null && hit.Mean <= floor.Mean && hit.Allocated == 0);
        }

        var memoryCache = Find(nameof(MissPathBenchmarks), nameof(MissPathBenchmarks.MemoryCacheTryGetValueSet));
        foreach (var (method, label) in new[]
        {
            (nameof(MissPathBenchmarks.OneArgument), "sync"),
            (nameof(MissPathBenchmarks.OneArgumentAsync), "`ValueTask`"),
        })
        {
            var miss = Find(nameof(MissPathBenchmarks), method);
            Target(
                $"`[Cached]` int miss, {label}: ≤ `MemoryCache.TryGetValue` + `Set` in time and bytes",
                miss is null || memoryCache is null ? null : $"{Ratio(miss, memoryCache)} ({Time(miss)} vs {Time(memoryCache)}), {Bytes(miss)} vs {Bytes(memoryCache)}",
                miss is not null && memoryCache is not null && miss.Mean <= memoryCache.Mean && miss.Allocated <= memoryCache.Allocated);
        }
    }
}
