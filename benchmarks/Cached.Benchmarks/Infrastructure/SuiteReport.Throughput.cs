using static Cached.Benchmarks.ThroughputProbe;

namespace Cached.Benchmarks.Infrastructure;

/// <summary>
/// Issue 19's target: with 64 async callers on Redis, a <c>[Cached]</c> method gets through at least 0.9x the operations
/// a second of StackExchange.Redis sending the same commands by hand, all hits and all misses; redis-benchmark's 50
/// clients beside them as the server's own figure.
/// </summary>
public sealed partial class SuiteReport
{
    /// <summary>The least share of the raw client's operations a second that the target allows.</summary>
    public const double ThroughputFloor = 0.9;

    /// <summary>Operations a second of many async callers on Redis (issue 19), when the Redis classes ran.</summary>
    public Measurement? Throughput { get; init; }

    private void WriteThroughputTargets()
    {
        var callers = Settings.Default.Callers;
        foreach (var (workload, label, commands) in new[]
        {
            (Workload.Hits, "all hits", new[] { "GET" }),
            (Workload.Misses, "all misses", new[] { "GET", "SET" }),
        })
        {
            // The cache as configured by default (a connection of its own) where that row ran, else on the given multiplexer.
            var side = Throughput?.Find(workload, Side.CachedOwnConnection) is null ? Side.Cached : Side.CachedOwnConnection;
            var cached = Throughput?.Find(workload, side);
            var raw = Throughput?.Find(workload, Side.SameCommands);
            var ratio = Throughput is null ? null : ThroughputProbe.Ratio(Throughput, workload, Side.SameCommands, side);
            var minimal = Throughput is null ? null : ThroughputProbe.Ratio(Throughput, workload, Side.GetSet, side);
            var given = side == Side.Cached || Throughput is null ? null : ThroughputProbe.Ratio(Throughput, workload, Side.SameCommands);
            var fewer = Throughput is null || Throughput.Settings.Callers == callers ? string.Empty : $" with {Throughput.Settings.Callers} callers";
            Target(
                $"{callers} async callers on Redis, {label}: ≥ {ThroughputFloor:0.0}x raw StackExchange.Redis (same commands)",
                cached is null || raw is null || ratio is null ? null
                    : string.Create(s_invariant, $"{ratio:0.00}x ({cached.Median:N0} vs {raw.Median:N0} ops/s{fewer})")
                        + (given is { } g ? string.Create(s_invariant, $"; {g:0.00}x on a given multiplexer") : string.Empty)
                        + (minimal is { } m ? string.Create(s_invariant, $"; {m:0.00}x a raw GET + SET") : string.Empty)
                        + (raw?.CpuMicrosecondsPerCall > 0 && cached?.CpuMicrosecondsPerCall > 0
                            ? string.Create(s_invariant, $"; client CPU a call {cached.CpuMicrosecondsPerCall / raw.CpuMicrosecondsPerCall:0.00}x ({cached.CpuMicrosecondsPerCall:0.0} vs {raw.CpuMicrosecondsPerCall:0.0} µs)")
                            : string.Empty)
                        + (RedisBenchmarkRates(commands) is { } rates ? $"; redis-benchmark, 50 clients: {rates}" : string.Empty),
                ratio >= ThroughputFloor);
        }
    }

    private void WriteThroughput()
    {
        Line();
        Line("## Throughput: 64 async callers on Redis (issue 19)");
        Line();
        if (Throughput is not { Rows.Count: > 0 } measured)
        {
            Line("Not measured in this run (it needs the Redis server).");
            return;
        }

        var settings = measured.Settings;
        Line(string.Create(s_invariant, $"{settings.Callers} callers on the thread pool, each awaiting one call after another. Every mode runs once for a {settings.WarmUp.TotalSeconds:0.#} s warm-up,")
            + string.Create(s_invariant, $" then once per round ({settings.Rounds} rounds of {settings.Round.TotalSeconds:0.#} s, each after a {settings.Ramp.TotalSeconds:0.#} s ramp), the modes in turn;")
            + " each run on its own connection (one multiplexer, as an application's) and an emptied database (`Cached.Benchmarks throughput`)."
            + " The Cached hits run twice: on a `RedisCache` with a connection of its own (as `Caches.SetConfig`, appsettings.json and"
            + " URLs configure one: its client bounds a read by the cache's timeout, so the read awaits the client's task as it is), and"
            + " on one given that multiplexer (`Connection`), whose timeouts the cache does not know, so that a timer of its own"
            + " bounds each read; the first row's sends are counted at the server (INFO commandstats) over every caller's calls."
            + string.Create(s_invariant, $" Hits cycle over {Keys:N0} stored ids; every miss is an id never asked before.")
            + " \"Sent per call\" is what StackExchange.Redis's profiler saw one caller send during the warm-up, under the same load;"
            + " \"Allocated per call\" is what the whole process allocated in the median round over the calls made (the client's"
            + " reader and writer included, alike on both sides); \"CPU per call\" is the CPU time the whole process spent in"
            + " that round over the calls made (the client's side only: the server's is not counted), steadier than"
            + " operations a second, which swing with what else the two shared cores run."
            + " A Cached miss reads the key (again when a miss of a key in the same stripe stored meanwhile), opens the key's fence with a script and"
            + " stores through it with another, so that an invalidation during the miss stays final across processes; the"
            + " same-commands reference sends exactly that (the same keys, scripts and JSON on the wire).");
        Line();
        _text.Append(ThroughputProbe.ToMarkdown(measured));
        if (RedisBenchmarkRates(["GET", "SET"]) is { } rates)
        {
            Line();
            Line($"For scale, redis-benchmark's 50 clients on the same server (one command per request, no client work): {rates}.");
        }
    }

    /// <summary>redis-benchmark's 50-client figures of <paramref name="commands"/> ("GET 81,234, SET 79,999 requests/s"), or null when it did not run.</summary>
    private string? RedisBenchmarkRates(string[] commands)
    {
        var rates = new List<string>(commands.Length);
        foreach (var command in commands)
        {
            if (RedisBenchmark is not null && RequestsPerSecond(RedisBenchmark, command) is { } perSecond)
            {
                rates.Add(string.Create(s_invariant, $"{command} {perSecond:N0}"));
            }
        }

        return rates.Count == 0 ? null : $"{string.Join(", ", rates)} requests/s";
    }
}
