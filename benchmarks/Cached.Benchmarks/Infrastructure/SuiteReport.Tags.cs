using System.Globalization;

namespace Cached.Benchmarks.Infrastructure;

/// <summary>
/// Issue 17's targets: a tagged hit costs at most 1.3x an untagged one and allocates nothing in memory, takes no extra
/// round trip on Redis, and an invalidation is one round trip whatever the number of tagged entries.
/// </summary>
public sealed partial class SuiteReport
{
    private void WriteTagTargets()
    {
        const string Memory = nameof(TagBenchmarks);
        foreach (var (ours, baseline, label) in new[]
        {
            (nameof(TagBenchmarks.TaggedHit), nameof(TagBenchmarks.PlainHit), "`[Cached]`"),
            (nameof(TagBenchmarks.TaggedHitAsync), nameof(TagBenchmarks.PlainHitAsync), "`[Cached]` `ValueTask`"),
            (nameof(TagBenchmarks.GetOrSetTagged), nameof(TagBenchmarks.GetOrSet), "`GetOrSet`"),
        })
        {
            var tagged = Find(Memory, ours);
            var plain = Find(Memory, baseline);
            Target(
                $"{label} memory hit of an entry with two tags within 1.3x the untagged hit, 0 B",
                tagged is null || plain is null ? null : $"{Ratio(tagged, plain)} ({Time(tagged)} vs {Time(plain)}), {Bytes(tagged)}",
                tagged is not null && plain is not null && tagged.Mean <= 1.3 * plain.Mean && tagged.Allocated == 0);
        }

        const string Redis = nameof(TagRedisBenchmarks);
        var redisTagged = Find(Redis, nameof(TagRedisBenchmarks.GetOrSetTaggedAsync));
        var redisPlain = Find(Redis, nameof(TagRedisBenchmarks.GetOrSetAsync));
        var secondTrip = Find(Redis, nameof(TagRedisBenchmarks.GetOrSetThenTagRecordsAsync));
        var rawGet = Find(Redis, nameof(TagRedisBenchmarks.RawGetAsync));
        var rawPair = Find(Redis, nameof(TagRedisBenchmarks.RawGetWithTagRecordsAsync));
        Target(
            "Redis `GetOrSetAsync` hit of a tagged entry: no extra round trip, the tag records read beside the entry "
                + "(latency within 1.3x the untagged hit; a second round trip shows as about 2x)",
            redisTagged is null || redisPlain is null ? null
                : $"{Ratio(redisTagged, redisPlain)} ± {RatioError(redisTagged, redisPlain)} ({Time(redisTagged)} vs {Time(redisPlain)})"
                    + Commands(Redis, nameof(TagRedisBenchmarks.GetOrSetTaggedAsync), " sent together")
                    + (secondTrip is null ? string.Empty : $"; with a second round trip: {Ratio(secondTrip, redisPlain)}")
                    + (rawGet is null || rawPair is null ? string.Empty : $"; StackExchange.Redis alone, GET and MGET sent together: {Ratio(rawPair, rawGet)} one GET"),
            redisTagged is not null && redisPlain is not null && redisTagged.Mean <= 1.3 * redisPlain.Mean);

        var invalidate = Find(Redis, nameof(TagRedisBenchmarks.InvalidateTagsAsync));
        var set = Find(Redis, nameof(TagRedisBenchmarks.RawSetAsync));
        Target(
            string.Create(CultureInfo.InvariantCulture, $"`InvalidateTagsAsync` of one tag over {TagRedisBenchmarks.BulkEntries:N0} entries on Redis: ")
                + "one round trip, no walk over the entries (within 1.5x one `SET` with StackExchange.Redis)",
            invalidate is null || set is null ? null
                : $"{Ratio(invalidate, set)} ± {RatioError(invalidate, set)} ({Time(invalidate)} vs {Time(set)})"
                    + Commands(Redis, nameof(TagRedisBenchmarks.InvalidateTagsAsync), string.Empty),
            invalidate is not null && set is not null && invalidate.Mean <= 1.5 * set.Mean);

        var memoryInvalidate = Find(Memory, nameof(TagBenchmarks.InvalidateTags));
        var rearm = Find(Memory, nameof(TagBenchmarks.SetTagged));
        var emptyInvalidate = Find(Memory, nameof(TagBenchmarks.InvalidateTagsEmpty));
        Target(
            string.Create(CultureInfo.InvariantCulture, $"`SimpleMemoryCache.InvalidateTags` of one tag over {TagBenchmarks.BulkEntries:N0} entries: ")
                + "microseconds whatever the entry count (under 10 µs, with the `Set` that re-arms the tag)",
            memoryInvalidate is null ? null
                : $"{Time(memoryInvalidate)}"
                    + (rearm is null ? string.Empty : $" ({Time(rearm)} of it the `Set`)")
                    + (emptyInvalidate is null ? string.Empty : $"; on an empty cache {Time(emptyInvalidate)} ({Ratio(memoryInvalidate, emptyInvalidate)})"),
            memoryInvalidate is not null && memoryInvalidate.Mean < 10_000);
    }

    /// <summary>
    /// "; 1 GET + 1 MGET" from the run note of a Redis benchmark that ran in this run, or nothing: the notes file may
    /// hold older ones.
    /// </summary>
    private static string Commands(string type, string method, string suffix)
        => RunNotes.Find(RunNotes.Key(RedisCommandsConfig.Kind, type, method)) is { } commands ? $"; {commands}{suffix}" : string.Empty;
}
