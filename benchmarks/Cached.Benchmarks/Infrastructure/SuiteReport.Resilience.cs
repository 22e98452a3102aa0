namespace Cached.Benchmarks.Infrastructure;

/// <summary>Issue 16's targets: resilience costs a hit almost nothing, and GetOrSet's hit is ahead of the peers'.</summary>
public sealed partial class SuiteReport
{
    private void WriteResilienceTargets()
    {
        const string Type = nameof(ResilienceBenchmarks);
        foreach (var (ours, baseline, label) in new[]
        {
            (nameof(ResilienceBenchmarks.ResilientHit), nameof(ResilienceBenchmarks.PlainHit), "`[Cached]`"),
            (nameof(ResilienceBenchmarks.ResilientHitAsync), nameof(ResilienceBenchmarks.PlainHitAsync), "`[Cached]` `ValueTask`"),
        })
        {
            var hit = Find(Type, ours);
            var plain = Find(Type, baseline);
            Target(
                $"{label} hit with every resilience option within 1.1x a plain hit with a TTL, 0 B",
                hit is null || plain is null ? null : $"{Ratio(hit, plain)} ({Time(hit)} vs {Time(plain)}), {Bytes(hit)}",
                hit is not null && plain is not null && hit.Mean <= 1.1 * plain.Mean && hit.Allocated == 0);
        }

        var outage = Find(Type, nameof(ResilienceBenchmarks.OutageHit));
        var plainHit = Find(Type, nameof(ResilienceBenchmarks.PlainHit));
        Target(
            "a call answered with the last value while the source fails: at most 2x a hit",
            outage is null || plainHit is null ? null : $"{Ratio(outage, plainHit)} ({Time(outage)}), {Bytes(outage)}",
            outage is not null && plainHit is not null && outage.Mean <= 2 * plainHit.Mean);

        var getOrSet = Find(Type, nameof(ResilienceBenchmarks.GetOrSet));
        var getOrCreate = Find(Type, nameof(ResilienceBenchmarks.MemoryCacheGetOrCreate));
        var fusion = Find(Type, nameof(ResilienceBenchmarks.FusionCacheGetOrSet));
        Target(
            "`GetOrSet` hit at or below `IMemoryCache.GetOrCreate`'s",
            getOrSet is null || getOrCreate is null ? null : $"{Ratio(getOrSet, getOrCreate)} ({Time(getOrSet)} vs {Time(getOrCreate)}), {Bytes(getOrSet)} vs {Bytes(getOrCreate)}",
            getOrSet is not null && getOrCreate is not null && getOrSet.Mean <= getOrCreate.Mean);
        Target(
            "`GetOrSet` hit well below FusionCache's `GetOrSet` (at most half)",
            getOrSet is null || fusion is null ? null : $"{Ratio(getOrSet, fusion)} ({Time(getOrSet)} vs {Time(fusion)}), {Bytes(getOrSet)} vs {Bytes(fusion)}",
            getOrSet is not null && fusion is not null && getOrSet.Mean <= 0.5 * fusion.Mean);
    }
}
