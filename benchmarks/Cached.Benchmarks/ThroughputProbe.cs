using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Cached.Benchmarks.Infrastructure;
using Cached.Benchmarks.Model;
using Cached.Redis;
using StackExchange.Redis;
using StackExchange.Redis.Profiling;

namespace Cached.Benchmarks;

/// <summary>
/// Throughput on a real Redis (issue 19): many async callers at once of a <c>[Cached]</c> method, all hits and all
/// misses, in operations a second beside StackExchange.Redis sending the same commands by hand. BenchmarkDotNet times
/// one call after another; the figure is what the whole process gets through with its callers sharing one
/// connection, so this runs the callers for a fixed time and counts.
/// </summary>
/// <remarks>
/// <para>Every mode runs once to warm up, then once per round, the modes in turn, each time on a new multiplexer (and
/// a new cache) and an emptied database: a machine whose load drifts moves every mode alike, and no mode is measured
/// while the JIT still works on code it shares with the others. A round is the calls completed between two readings
/// of the callers' counters. One caller's calls in the middle of the warm-up go through StackExchange.Redis's
/// profiler: the commands each side sent per call, under the same load, are shown beside its figures.</para>
/// <para>What a <c>[Cached]</c> miss sends on Redis (see <c>RedisCache.Fills.cs</c>): a GET, a second GET when a miss of
/// the method whose key shares the key's stripe stored a value meanwhile (the leader's re-read), a script that opens the key's fence, then one
/// that stores the value only if the fence is unmoved. The same-commands reference sends exactly that, scripts
/// included; the GET + SET reference is what a hand-written read-through without fences sends.</para>
/// </remarks>
public static partial class ThroughputProbe
{
    /// <summary>The alias the <c>[Cached]</c> method reads; each Cached mode registers its own cache under it.</summary>
    internal const string Alias = "bench-throughput";

    /// <summary>The ids the hit modes cycle through, all stored before the callers start.</summary>
    public const int Keys = 1_000;

    private const int TtlSeconds = 600;

    // Misses take ids above every hit id, so that a miss never meets a stored entry.
    private const int FirstMissId = 1_000_000;

    // Each caller counts its calls in its own cache line.
    private const int Padding = 16;

    // In the order they run, the rows of RESULTS.md.
    private static readonly (Workload Workload, Side Side)[] s_modes =
    [
        (Workload.Hits, Side.CachedOwnConnection),
        (Workload.Hits, Side.Cached),
        (Workload.Hits, Side.SameCommands),
        (Workload.Misses, Side.Cached),
        (Workload.Misses, Side.SameCommands),
        (Workload.Misses, Side.GetSet),
    ];

    // The session of the calls being profiled: the client asks for it on the calling context as it creates a command,
    // so only the sampled caller's commands land in it, its fire-and-forget ones included.
    private static readonly AsyncLocal<ProfilingSession?> s_profiled = new();

    // The client's own commands, which neither side sends per call.
    private static readonly string[] s_housekeeping = ["PING", "ECHO", "INFO", "CLIENT", "CONFIG", "CLUSTER", "SUBSCRIBE", "PSUBSCRIBE", "HELLO", "SENTINEL", "TIME", "UNKNOWN"];

    // The scripts of src/Cached.Redis/Scripts.cs, copied: the reference sends what Cached sends, not a call into it.
    private const string OpenFences = """
        local n = #KEYS / 2
        local seen = {}
        for i = 1, n do
            local token = redis.call('get', KEYS[i])
            if token then
                redis.call('pexpire', KEYS[i], ARGV[2])
            else
                token = ARGV[1]
                redis.call('set', KEYS[i], token, 'PX', ARGV[2])
            end
            redis.call('hincrby', KEYS[n + i], token, 1)
            redis.call('pexpire', KEYS[n + i], ARGV[2])
            seen[i] = token
        end
        return seen
        """;

    private const string FillIfFenced = """
        local stored = 0
        for i = 1, #KEYS, 3 do
            local n = (i + 2) / 3
            if redis.call('get', KEYS[i + 1]) == ARGV[2 * n] then
                if ARGV[1] ~= '' then
                    redis.call('set', KEYS[i], ARGV[2 * n + 1], 'PX', ARGV[1])
                else
                    redis.call('set', KEYS[i], ARGV[2 * n + 1])
                end
                redis.call('del', KEYS[i + 1], KEYS[i + 2])
                stored = stored + 1
            end
        end
        return stored
        """;

    /// <summary>Whether every call hits or every call misses.</summary>
    public enum Workload
    {
        Hits,
        Misses,
    }

    /// <summary>Who makes the calls: the generated method, or StackExchange.Redis by hand.</summary>
    public enum Side
    {
        /// <summary>
        /// The <c>[Cached]</c> method on a <see cref="RedisCache"/> given the application's multiplexer
        /// (<see cref="RedisCache.Connection"/>), whose timeouts the cache does not know: its pipeline's timer bounds each read.
        /// </summary>
        Cached,

        /// <summary>
        /// The <c>[Cached]</c> method on a <see cref="RedisCache"/> configured as <c>Caches.SetConfig</c>, appsettings.json
        /// and URLs configure one: with a connection of its own, whose client bounds a read by the cache's timeout. Hits
        /// only: what it sends is counted at the server, which also counts the commands inside a miss's scripts.
        /// </summary>
        CachedOwnConnection,

        /// <summary>StackExchange.Redis sending the commands Cached sends, in the same order.</summary>
        SameCommands,

        /// <summary>StackExchange.Redis with the least a read-through needs: GET, and on a miss SET with the TTL.</summary>
        GetSet,
    }

    /// <summary>How long and with how many callers to measure.</summary>
    public sealed record Settings(int Callers, TimeSpan WarmUp, TimeSpan Round, int Rounds)
    {
        /// <summary>
        /// The 64 callers; a 3 s warm-up, then five rounds of 3 s: with the server on the same 2 cores, one
        /// round of a side moves by up to a third between rounds, and a median of three still moved the verdict.
        /// </summary>
        public static Settings Default { get; } = new(64, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(3), 5);

        /// <summary>The default with rounds (and warm-up) of <paramref name="seconds"/> each.</summary>
        public static Settings OfSeconds(double seconds) => Default with { WarmUp = TimeSpan.FromSeconds(seconds), Round = TimeSpan.FromSeconds(seconds) };

        /// <summary>How long each round's callers run on their new connection before their calls count: half a second at most.</summary>
        public TimeSpan Ramp => TimeSpan.FromTicks(Math.Min(WarmUp.Ticks, TimeSpan.TicksPerSecond / 2));
    }

    /// <summary>
    /// One mode's figures: operations a second (median, fewest and most over the rounds), what one call sent, and the
    /// bytes the whole process allocated per call in the median round (the client's reader and writer included, which
    /// both sides pay alike), and the CPU time the whole process spent per call in that round, in microseconds (the
    /// client's side of the work: the server's is not counted). Operations a second on two shared cores swing from round
    /// to round; CPU a call measures what one call costs the client whatever else the machine does.
    /// </summary>
    public sealed record Row(Workload Workload, Side Side, string What, string Sends, double Median, double Min, double Max, double BytesPerCall = 0, double CpuMicrosecondsPerCall = 0);

    /// <summary>Every mode of one run, with the settings it ran with.</summary>
    public sealed record Measurement(Settings Settings, IReadOnlyList<Row> Rows)
    {
        /// <summary>The row of one mode, or null when it did not run.</summary>
        public Row? Find(Workload workload, Side side)
        {
            foreach (var row in Rows)
            {
                if (row.Workload == workload && row.Side == side)
                {
                    return row;
                }
            }

            return null;
        }
    }

    /// <summary>
    /// Runs every mode against the server of <see cref="BenchRedis.Variable"/>: each once for the warm-up (where what
    /// a call sends is sampled), then each once per round, in turn, so that whatever else the machine does in the
    /// meantime falls on every mode alike.
    /// </summary>
    public static async Task<Measurement> MeasureAsync(Settings settings, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(log);

        var what = new string[s_modes.Length];
        var sends = new string[s_modes.Length];
        var rates = new (double Rate, double Bytes, double Cpu)[s_modes.Length][];
        for (var m = 0; m < s_modes.Length; m++)
        {
            (what[m], sends[m], _, _, _) = await RunModeAsync(s_modes[m], settings.Callers, settings.WarmUp, TimeSpan.Zero, sample: true).ConfigureAwait(false);
            rates[m] = new (double, double, double)[settings.Rounds];
        }

        for (var round = 0; round < settings.Rounds; round++)
        {
            for (var m = 0; m < s_modes.Length; m++)
            {
                (_, _, rates[m][round].Rate, rates[m][round].Bytes, rates[m][round].Cpu) = await RunModeAsync(s_modes[m], settings.Callers, settings.Ramp, settings.Round, sample: false).ConfigureAwait(false);
            }
        }

        await FlushAsync().ConfigureAwait(false);
        var rows = new Row[s_modes.Length];
        for (var m = 0; m < s_modes.Length; m++)
        {
            var sorted = rates[m];
            Array.Sort(sorted, static (a, b) => a.Rate.CompareTo(b.Rate));
            var median = (sorted[(sorted.Length - 1) / 2].Rate + sorted[sorted.Length / 2].Rate) / 2;
            rows[m] = new Row(s_modes[m].Workload, s_modes[m].Side, what[m], sends[m], median, sorted[0].Rate, sorted[^1].Rate, sorted[(sorted.Length - 1) / 2].Bytes, sorted[(sorted.Length - 1) / 2].Cpu);
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Throughput, {rows[m].Workload.ToString().ToLowerInvariant()}, {what[m]}: {rows[m].Median:N0} ops/s ({rows[m].Min:N0}–{rows[m].Max:N0}); sends {sends[m]}; {rows[m].BytesPerCall:N0} B and {rows[m].CpuMicrosecondsPerCall:N1} µs of CPU a call"));
        }

        return new Measurement(settings, rows);
    }

    /// <summary>The table of RESULTS.md: each mode's operations a second and its ratio to the raw client.</summary>
    public static string ToMarkdown(Measurement measurement)
    {
        ArgumentNullException.ThrowIfNull(measurement);
        var settings = measurement.Settings;
        var text = new StringBuilder();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {settings.Callers} async callers | Sent per call | ops/s, median of {settings.Rounds} | min–max | Allocated per call | CPU per call | Against the raw client |"));
        text.AppendLine("|---|---|---:|---:|---:|---:|---|");
        foreach (var row in measurement.Rows)
        {
            var against = row.Side switch
            {
                Side.Cached or Side.CachedOwnConnection => AgainstRaw(measurement, row),
                Side.SameCommands => "baseline",
                _ => string.Empty,
            };
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {row.Workload.ToString().ToLowerInvariant()}: {row.What} | {row.Sends} | {row.Median:N0} | {row.Min:N0}–{row.Max:N0} | {row.BytesPerCall:N0} B | {row.CpuMicrosecondsPerCall:N1} µs | {against} |"));
        }

        return text.ToString();
    }

    /// <summary>The median of the Cached row (<paramref name="cachedSide"/>) over that of <paramref name="side"/> for the same workload; null without both.</summary>
    public static double? Ratio(Measurement measurement, Workload workload, Side side, Side cachedSide = Side.Cached)
        => measurement.Find(workload, cachedSide) is { } cached && measurement.Find(workload, side) is { Median: > 0 } raw
            ? cached.Median / raw.Median
            : null;

    private static string AgainstRaw(Measurement measurement, Row row)
    {
        var same = Ratio(measurement, row.Workload, Side.SameCommands, row.Side);
        var minimal = Ratio(measurement, row.Workload, Side.GetSet, row.Side);
        var text = same is { } s ? string.Create(CultureInfo.InvariantCulture, $"{s:0.00}x the same commands") : "-";
        return minimal is { } m ? string.Create(CultureInfo.InvariantCulture, $"{text}; {m:0.00}x GET + SET") : text;
    }

    /// <summary>
    /// One mode on a new connection and an emptied database: its callers run for <paramref name="ramp"/>, then for
    /// <paramref name="counted"/>, whose calls a second and bytes allocated a call it returns. With <paramref name="sample"/>, what one caller's
    /// calls sent in the middle third of the ramp (at most 1 s of it), while the others keep the load on.
    /// </summary>
    private static async Task<(string What, string Sends, double Rate, double BytesPerCall, double CpuPerCall)> RunModeAsync((Workload Workload, Side Side) kind, int callerCount, TimeSpan ramp, TimeSpan counted, bool sample)
    {
        await FlushAsync().ConfigureAwait(false);
        using var connection = BenchRedis.Connect();
        await using var mode = Mode.Create(kind.Workload, kind.Side, connection);
        await mode.PrepareAsync().ConfigureAwait(false);

        var calls = new long[callerCount * Padding];
        var stop = new StrongBox<bool>();
        var callers = new Task[callerCount];
        var third = TimeSpan.FromTicks(Math.Min(ramp.Ticks / 3, TimeSpan.TicksPerSecond));
        var sampled = sample ? new Sample(third, third + third) : null;
        connection.RegisterProfiler(static () => s_profiled.Value);
        for (var caller = 0; caller < callers.Length; caller++)
        {
            var slot = caller * Padding;
            var profiled = caller == 0 ? sampled : null;
            callers[caller] = Task.Run(() => CallAsync(mode, slot, calls, stop, profiled));
        }

        // A mode on a connection of its own, which the profiler above does not see: what the server counted per call, over
        // the same part of the ramp, across every caller.
        var serverCount = sample && !mode.SendsOnGivenConnection ? CountAtServerAsync(third, third, calls) : null;
        var sends = string.Empty;
        var rate = 0.0;
        var bytesPerCall = 0.0;
        var cpuPerCall = 0.0;
        try
        {
            await Task.Delay(ramp).ConfigureAwait(false);
            if (serverCount is not null)
            {
                sends = await serverCount.ConfigureAwait(false);
            }
            else if (sampled is not null)
            {
                await sampled.Done.Task.ConfigureAwait(false);
                sends = Describe(sampled.Session.FinishProfiling(), sampled.Calls);
            }

            if (counted > TimeSpan.Zero)
            {
                var start = Stopwatch.GetTimestamp();
                var first = Total(calls);
                var allocated = GC.GetTotalAllocatedBytes();
                using var process = Process.GetCurrentProcess();
                var cpu = process.TotalProcessorTime;
                await Task.Delay(counted).ConfigureAwait(false);
                var made = Total(calls) - first;
                bytesPerCall = (GC.GetTotalAllocatedBytes() - allocated) / (double)Math.Max(made, 1);
                process.Refresh();
                cpuPerCall = (process.TotalProcessorTime - cpu).TotalMicroseconds / Math.Max(made, 1);
                rate = made / Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
        }
        finally
        {
            Volatile.Write(ref stop.Value, true);
            await Task.WhenAll(callers).ConfigureAwait(false);
        }

        return (mode.What, sends, rate, bytesPerCall, cpuPerCall);
    }

    private static async Task CallAsync(Mode mode, int slot, long[] calls, StrongBox<bool> stop, Sample? sample)
    {
        var started = Stopwatch.GetTimestamp();
        var call = 0L;
        try
        {
            while (!Volatile.Read(ref stop.Value))
            {
                var profiled = sample is not null && Stopwatch.GetElapsedTime(started) >= sample.From;
                if (profiled)
                {
                    s_profiled.Value = sample!.Session;
                }

                await mode.CallAsync(slot + call).ConfigureAwait(false);
                if (profiled)
                {
                    s_profiled.Value = null;
                    sample!.Calls++;
                    if (Stopwatch.GetElapsedTime(started) >= sample.Until)
                    {
                        sample.Done.TrySetResult();
                        sample = null;
                    }
                }

                Volatile.Write(ref calls[slot], ++call);
            }
        }
        finally
        {
            // Stopped or failed before the sample ended: whoever waits for it goes on.
            sample?.Done.TrySetResult();
        }
    }

    /// <summary>The calls one caller made between <paramref name="from"/> and <paramref name="until"/> after it started, profiled.</summary>
    private sealed class Sample(TimeSpan from, TimeSpan until)
    {
        public TimeSpan From { get; } = from;

        public TimeSpan Until { get; } = until;

        public ProfilingSession Session { get; } = new();

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Written by the sampled caller only, read once <see cref="Done"/> completes.</summary>
        public long Calls { get; set; }
    }

    private static long Total(long[] calls)
    {
        var total = 0L;
        for (var slot = 0; slot < calls.Length; slot += Padding)
        {
            total += Volatile.Read(ref calls[slot]);
        }

        return total;
    }

    /// <summary>The commands a call sent, per call: <c>1 GET</c>, <c>1.97 GET + 2 EVAL</c>.</summary>
    private static string Describe(IEnumerable<IProfiledCommand> commands, long calls)
    {
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var command in commands)
        {
            Count(counts, command.Command, 1);
        }

        return Describe(counts, calls);
    }

    private static void Count(SortedDictionary<string, long> counts, string command, long times)
    {
        // A script is one command whether sent as EVAL or by its hash (the client switches once the server knows it).
        var name = command == "EVALSHA" ? "EVAL" : command;
        if (Array.IndexOf(s_housekeeping, name) < 0 && times > 0)
        {
            counts[name] = counts.GetValueOrDefault(name) + times;
        }
    }

    /// <summary>
    /// What the server ran per call between <paramref name="wait"/> and <paramref name="wait"/> + <paramref name="window"/>
    /// from now, over the calls every caller made meanwhile (INFO commandstats, read before and after).
    /// </summary>
    private static async Task<string> CountAtServerAsync(TimeSpan wait, TimeSpan window, long[] calls)
    {
        using var admin = BenchRedis.Connect(admin: true);
        await Task.Delay(wait).ConfigureAwait(false);
        // Each reading waits its turn among the callers' commands: the calls it counts against are those made halfway
        // through its round trip.
        var first = Total(calls);
        var before = BenchRedis.CommandCalls(admin);
        first = (first + Total(calls)) / 2;
        await Task.Delay(window).ConfigureAwait(false);
        var last = Total(calls);
        var after = BenchRedis.CommandCalls(admin);
        var made = (last + Total(calls)) / 2 - first;
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (name, total) in after)
        {
            Count(counts, name.ToUpperInvariant(), total - before.GetValueOrDefault(name));
        }

        return Describe(counts, made);
    }

    private static string Describe(SortedDictionary<string, long> counts, long calls)
    {
        if (calls == 0 || counts.Count == 0)
        {
            return "none";
        }

        var parts = new List<string>(counts.Count);
        // Reads first, then writes, then scripts: the order a read-through sends them in.
        foreach (var (name, count) in counts.OrderBy(static c => c.Key switch { "GET" => 0, "EVAL" => 2, _ => 1 }))
        {
            var perCall = (double)count / calls;
            var shown = Math.Abs(perCall - Math.Round(perCall)) < 0.005 ? Math.Round(perCall).ToString(CultureInfo.InvariantCulture) : perCall.ToString("0.00", CultureInfo.InvariantCulture);
            parts.Add($"{shown} {name}");
        }

        return string.Join(" + ", parts);
    }

    private static async Task FlushAsync()
    {
        // SYNC: an asynchronous flush frees the keys on a server thread while the next mode runs on the same cores.
        using var admin = BenchRedis.Connect(admin: true);
        await admin.GetDatabase().ExecuteAsync("FLUSHDB", "SYNC").ConfigureAwait(false);
    }

    /// <summary>The generated method every Cached mode calls.</summary>
    [Cached(Alias = Alias, Key = "user:{id}", Ttl = TtlSeconds)]
    private static partial ValueTask<User> GetUserAsync(int id);

    private static ValueTask<User> GetUserAsyncCore(int id) => new(Body(id));

    /// <summary>The value of every id, on both sides.</summary>
    private static User Body(int id) => new(id, "ada");
}
