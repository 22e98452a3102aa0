namespace Cached.Benchmarks.Infrastructure;

/// <summary>
/// Issue 19's <c>RedisCache.Get</c> and <c>GetAsync</c> targets: at most 1.1x raw StackExchange.Redis, judged on the
/// paired measure (<see cref="LatencyProbe"/>), with BenchmarkDotNet's figures, each side measured apart, beside it.
/// </summary>
public sealed partial class SuiteReport
{
    /// <summary>The most a read through <c>RedisCache</c> may cost, as a multiple of the raw client's.</summary>
    public const double RedisReadCeiling = 1.1;

    /// <summary>The paired latency of a read on Redis (issue 19), when the Redis classes ran.</summary>
    public IReadOnlyList<LatencyProbe.Row>? Latency { get; init; }

    private void WriteRedisReadTargets()
    {
        foreach (var (cached, raw, label) in new[]
        {
            (nameof(RedisBenchmarks.CacheGet), nameof(RedisBenchmarks.RawGet), "`RedisCache.Get`"),
            (nameof(RedisBenchmarks.CacheGetAsync), nameof(RedisBenchmarks.RawGetAsync), "`RedisCache.GetAsync`"),
        })
        {
            var ours = Find(nameof(RedisBenchmarks), cached);
            var theirs = Find(nameof(RedisBenchmarks), raw);
            var apart = ours is null || theirs is null ? null : $"{Ratio(ours, theirs)} ± {RatioError(ours, theirs)} ({Time(ours)} vs {Time(theirs)})";
            var paired = Latency?.FirstOrDefault(row => row.Operation == label);
            if (paired is null)
            {
                Target($"{label} ≤ {RedisReadCeiling:0.0}x raw StackExchange.Redis", apart is null ? null : $"{apart}, BenchmarkDotNet, each side apart", ours is not null && theirs is not null && ours.Mean <= RedisReadCeiling * theirs.Mean);
                continue;
            }

            var runs = string.Join(", ", paired.Runs.Select(static run => string.Create(s_invariant, $"{run.Ratio:0.00}x")));
            Target(
                $"{label} ≤ {RedisReadCeiling:0.0}x raw StackExchange.Redis (every run of the paired measure)",
                string.Create(s_invariant, $"{paired.Ratio:0.00}x ± {paired.Error:0.00} call for call over {paired.Runs.Count} runs ({runs}; {paired.Runs.Average(static r => r.CachedMicroseconds):0.00} µs vs {paired.Runs.Average(static r => r.RawMicroseconds):0.00} µs)")
                    + (apart is null ? string.Empty : $"; BenchmarkDotNet, each side apart: {apart}"),
                paired.WorstRatio <= RedisReadCeiling);
        }
    }

    private void WriteLatency()
    {
        Line();
        Line("## Redis: one read, call for call (issue 19)");
        Line();
        if (Latency is not { Count: > 0 } rows)
        {
            Line("Not measured in this run (it needs the Redis server).");
            return;
        }

        var settings = LatencyProbe.Settings.Default;
        Line(string.Create(s_invariant, $"`RedisCache` given the application's multiplexer (as in `RedisBenchmarks`) beside StackExchange.Redis by hand, on the same connection, one call of each side after the other, the side that goes first alternating (`Cached.Benchmarks latency`). Each run has a connection and a cache of its own: {settings.WarmUpRounds} warm-up rounds, then {settings.Rounds} rounds of {settings.PairsPerRound:N0} pairs. ")
            + "BenchmarkDotNet (the table above) measures each side apart, in processes of its own, and a round trip to a server sharing the two cores drifts between them by more than the 10% the target allows; calls taken in turn see the same machine, so their ratio is what each side does around the same socket.");
        Line();
        _text.Append(LatencyProbe.ToMarkdown(rows));
    }
}
