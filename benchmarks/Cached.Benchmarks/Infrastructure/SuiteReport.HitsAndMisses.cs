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
        // An async hit is judged beside the same lookup handed back in the method's shape (the harness awaits both
        // alike); its ratio to the sync floor is shown too.
        var floor = Find(nameof(HitPathBenchmarks), nameof(HitPathBenchmarks.Floor));
        foreach (var (method, label, shapedFloor) in new[]
        {
            (nameof(HitPathBenchmarks.OneArgumentWithTtl), "sync", null),
            (nameof(HitPathBenchmarks.OneArgumentWithTtlAsync), "`ValueTask`", nameof(HitPathBenchmarks.FloorValueTask)),
            (nameof(HitPathBenchmarks.OneArgumentWithTtlTask), "`Task`", nameof(HitPathBenchmarks.FloorTask)),
        })
        {
            var hit = Find(nameof(HitPathBenchmarks), method);
            var baseline = shapedFloor is null ? floor : Find(nameof(HitPathBenchmarks), shapedFloor);
            var shape = shapedFloor is null ? "the floor" : $"the floor as a {label} (the lookup's result handed back in that shape)";
            var figures = hit is null || baseline is null || floor is null
                ? null
                : shapedFloor is null
                    ? $"{Ratio(hit, floor)} ({Time(hit)} vs {Time(floor)}), {Bytes(hit)}"
                    : $"{Ratio(hit, baseline)} ({Time(hit)} vs {Time(baseline)}); {Ratio(hit, floor)} the sync floor ({Time(floor)}); {Bytes(hit)}";
            Target(
                $"`[Cached]` int hit of an entry with a TTL, {label}: ≤ 1.0x {shape}, 0 B",
                figures,
                hit is not null && baseline is not null && hit.Mean <= baseline.Mean && hit.Allocated == 0);
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
