using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Cached.Benchmarks.Infrastructure;
using Cached.Benchmarks.Model;
using Cached.Redis;
using StackExchange.Redis;

namespace Cached.Benchmarks;

/// <summary>
/// The latency of one read on a real Redis, <see cref="RedisCache"/> beside StackExchange.Redis by hand, measured call
/// for call (issue 19's <c>Get</c> and <c>GetAsync</c> targets): each pair of calls makes one call of each side, the
/// side that goes first alternating from pair to pair, so that both sides see the same machine at the same moment.
/// </summary>
/// <remarks>
/// <para>BenchmarkDotNet (<see cref="RedisBenchmarks"/>) measures each side on its own, one after the other, in processes
/// of their own. A round trip to a server that shares the two cores moves with whatever else they run, by more from one
/// process to the next than the difference being measured (one process read <c>RedisCache.Get</c> at 0.97x the raw
/// client, the next at 1.18x), so its ratio carries error bars wider than the 10% the target allows. Interleaving the
/// calls takes that drift out of the ratio; what is left is what each side does around the same socket.</para>
/// <para>Each run uses a connection and a cache of its own (the cache given that multiplexer, as in
/// <see cref="RedisBenchmarks"/>: its timeouts are the cache's to keep, with its own timer), warms up, then times its
/// rounds; the ratio of a run is the time of all its cached calls over that of all its raw calls.</para>
/// </remarks>
public static class LatencyProbe
{
    private const string Key = "cached-bench:latency:user:42";
    private const int Id = 42;

    /// <summary>How much is measured: runs (each on a new connection), rounds per run after the warm-up ones, pairs of calls per round.</summary>
    public sealed record Settings(int Runs, int WarmUpRounds, int Rounds, int PairsPerRound)
    {
        /// <summary>Three runs of five warm-up rounds and twenty measured ones of 1,000 pairs: about 15 s for both operations.</summary>
        public static Settings Default { get; } = new(3, 5, 20, 1_000);
    }

    /// <summary>One run of one operation: the mean time of a call on each side, in microseconds.</summary>
    public sealed record Run(double CachedMicroseconds, double RawMicroseconds)
    {
        /// <summary>The cached side's time over the raw side's.</summary>
        public double Ratio => CachedMicroseconds / RawMicroseconds;
    }

    /// <summary>One operation over every run.</summary>
    public sealed record Row(string Operation, string Raw, IReadOnlyList<Run> Runs)
    {
        /// <summary>The mean of the runs' ratios.</summary>
        public double Ratio => Runs.Average(static run => run.Ratio);

        /// <summary>Two standard errors of <see cref="Ratio"/> over the runs (about a 95% interval); 0 with one run.</summary>
        public double Error
        {
            get
            {
                if (Runs.Count < 2)
                {
                    return 0;
                }

                var mean = Ratio;
                var variance = Runs.Sum(run => (run.Ratio - mean) * (run.Ratio - mean)) / (Runs.Count - 1);
                return 2 * Math.Sqrt(variance / Runs.Count);
            }
        }

        /// <summary>The slowest run's ratio: the target is judged on it, so that no run exceeds it.</summary>
        public double WorstRatio => Runs.Max(static run => run.Ratio);
    }

    /// <summary>Measures <c>RedisCache.Get</c> and <c>RedisCache.GetAsync</c> on the configured server (<see cref="BenchRedis"/>).</summary>
    public static async Task<IReadOnlyList<Row>> MeasureAsync(Settings settings, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(settings.Runs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(settings.Rounds);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(settings.PairsPerRound);
        ArgumentOutOfRangeException.ThrowIfNegative(settings.WarmUpRounds);

        var sync = new List<Run>(settings.Runs);
        var async = new List<Run>(settings.Runs);
        for (var run = 0; run < settings.Runs; run++)
        {
            using var connection = BenchRedis.Connect();
            using var cache = new RedisCache { Connection = connection };
            var database = connection.GetDatabase();
            cache.Set(Key, new User(Id, "ada"));
            try
            {
                sync.Add(MeasureSync(settings, cache, database));
                async.Add(await MeasureAsync(settings, cache, database).ConfigureAwait(false));
            }
            finally
            {
                database.KeyDelete(Key);
            }

            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Latency, run {run + 1}: Get {sync[^1].CachedMicroseconds:F2} vs {sync[^1].RawMicroseconds:F2} µs ({sync[^1].Ratio:F3}x), GetAsync {async[^1].CachedMicroseconds:F2} vs {async[^1].RawMicroseconds:F2} µs ({async[^1].Ratio:F3}x)"));
        }

        return [new Row("`RedisCache.Get`", "StringGet + JSON", sync), new Row("`RedisCache.GetAsync`", "StringGetAsync + JSON", async)];
    }

    /// <summary>The rows as a table: each run's times and ratio, then the mean ratio with its error bars.</summary>
    public static string ToMarkdown(IReadOnlyList<Row> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var text = new StringBuilder();
        text.AppendLine("| Read of one entry | Raw StackExchange.Redis | Runs: RedisCache vs raw (ratio) | Ratio, mean ± 2 SE | Slowest run |");
        text.AppendLine("|---|---|---|---:|---:|");
        foreach (var row in rows)
        {
            var runs = string.Join("; ", row.Runs.Select(static run => string.Create(CultureInfo.InvariantCulture, $"{run.CachedMicroseconds:F2} vs {run.RawMicroseconds:F2} µs ({run.Ratio:F3}x)")));
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {row.Operation} | {row.Raw} | {runs} | {row.Ratio:F3}x ± {row.Error:F3} | {row.WorstRatio:F3}x |"));
        }

        return text.ToString();
    }

    private static Run MeasureSync(Settings settings, RedisCache cache, IDatabase database)
    {
        long cachedTicks = 0;
        long rawTicks = 0;
        for (var round = -settings.WarmUpRounds; round < settings.Rounds; round++)
        {
            long cachedRound = 0;
            long rawRound = 0;
            for (var pair = 0; pair < settings.PairsPerRound; pair++)
            {
                if ((pair & 1) == 0)
                {
                    rawRound += TimeRaw(database);
                    cachedRound += TimeCached(cache);
                }
                else
                {
                    cachedRound += TimeCached(cache);
                    rawRound += TimeRaw(database);
                }
            }

            if (round >= 0)
            {
                cachedTicks += cachedRound;
                rawTicks += rawRound;
            }
        }

        return RunOf(settings, cachedTicks, rawTicks);

        static long TimeRaw(IDatabase database)
        {
            var started = Stopwatch.GetTimestamp();
            Check(Read(database.StringGet(Key)));
            return Stopwatch.GetTimestamp() - started;
        }

        static long TimeCached(RedisCache cache)
        {
            var started = Stopwatch.GetTimestamp();
            Check(cache.Get<User>(Key));
            return Stopwatch.GetTimestamp() - started;
        }
    }

    private static async Task<Run> MeasureAsync(Settings settings, RedisCache cache, IDatabase database)
    {
        long cachedTicks = 0;
        long rawTicks = 0;
        for (var round = -settings.WarmUpRounds; round < settings.Rounds; round++)
        {
            long cachedRound = 0;
            long rawRound = 0;
            for (var pair = 0; pair < settings.PairsPerRound; pair++)
            {
                if ((pair & 1) == 0)
                {
                    rawRound += await TimeRawAsync(database).ConfigureAwait(false);
                    cachedRound += await TimeCachedAsync(cache).ConfigureAwait(false);
                }
                else
                {
                    cachedRound += await TimeCachedAsync(cache).ConfigureAwait(false);
                    rawRound += await TimeRawAsync(database).ConfigureAwait(false);
                }
            }

            if (round >= 0)
            {
                cachedTicks += cachedRound;
                rawTicks += rawRound;
            }
        }

        return RunOf(settings, cachedTicks, rawTicks);

        static async ValueTask<long> TimeRawAsync(IDatabase database)
        {
            var started = Stopwatch.GetTimestamp();
            Check(Read(await database.StringGetAsync(Key).ConfigureAwait(false)));
            return Stopwatch.GetTimestamp() - started;
        }

        static async ValueTask<long> TimeCachedAsync(RedisCache cache)
        {
            var started = Stopwatch.GetTimestamp();
            Check(await cache.GetAsync<User>(Key).ConfigureAwait(false));
            return Stopwatch.GetTimestamp() - started;
        }
    }

    private static Run RunOf(Settings settings, long cachedTicks, long rawTicks)
    {
        var calls = (double)settings.Rounds * settings.PairsPerRound;
        var microsecondsPerTick = 1_000_000.0 / Stopwatch.Frequency;
        return new Run(cachedTicks * microsecondsPerTick / calls, rawTicks * microsecondsPerTick / calls);
    }

    // What RedisBenchmarks.RawGet does with the reply.
    private static User? Read(RedisValue value) => value.IsNull ? null : JsonSerializer.Deserialize<User>(((ReadOnlyMemory<byte>)value).Span);

    private static void Check(User? user)
    {
        if (user is not { Id: Id })
        {
            throw new InvalidOperationException($"Read {user?.ToString() ?? "nothing"} for {Key}.");
        }
    }
}
