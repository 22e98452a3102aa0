using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Running;
using Cached.Benchmarks;
using Cached.Benchmarks.Infrastructure;

// Cached.Benchmarks [BenchmarkDotNet options]           the benchmarks, e.g. --filter '*HitPath*' --job Dry
// Cached.Benchmarks memory [--entries N] [--out FILE]    bytes per entry of each cache
// Cached.Benchmarks propagation [--samples N]            two levels on Redis: p50/p99 from a write on one node to
//                                                        another node reading it, Cached beside FusionCache
// Cached.Benchmarks latency [--runs N]                   one read on Redis, RedisCache and the raw client call for
//                                                        call: the mean ratio over N runs (3 by default)
// Cached.Benchmarks throughput [--seconds N]             64 async callers on Redis, all hits and all misses: ops/s
//                                                        of a [Cached] method beside StackExchange.Redis by hand
// Cached.Benchmarks suite --results FILE [--memory FILE] [--redis-benchmark FILE] [--redis-benchmark-single FILE]
//                         [--started UNIX-SECONDS] [BenchmarkDotNet options]
//                                                        every benchmark, then RESULTS.md (what benchmarks/run.sh does)
return args.FirstOrDefault() switch
{
    "memory" => RunMemory(args[1..]),
    "propagation" => await RunPropagation(args[1..]),
    "latency" => await RunLatency(args[1..]),
    "throughput" => await RunThroughput(args[1..]),
    "suite" => RunSuite(args[1..]),
    _ => RunBenchmarks(args),
};

static int RunBenchmarks(string[] args)
{
    using var notes = NotesFile.Ensure();
    BenchmarkSwitcher.FromTypes([.. Runnable(out _)]).Run(args);
    return 0;
}

static int RunMemory(string[] args)
{
    var options = ProgramOptions.Parse(args, out _);
    var entries = options.TryGetValue("--entries", out var text) ? int.Parse(text, CultureInfo.InvariantCulture) : MemoryFootprint.DefaultEntries;
    Console.WriteLine($"Bytes per entry at {entries:N0} entries:");
    var rows = MemoryFootprint.Measure(entries, Console.Out);
    Console.WriteLine();
    Console.Write(MemoryFootprint.ToMarkdown(rows));
    if (options.TryGetValue("--out", out var path))
    {
        MemoryFootprint.Write(path, rows);
    }

    return 0;
}

static async Task<int> RunPropagation(string[] args)
{
    var options = ProgramOptions.Parse(args, out _);
    if (BenchRedis.Endpoint is null)
    {
        Console.Error.WriteLine(BenchRedis.SkipNotice);
        return 2;
    }

    var samples = options.TryGetValue("--samples", out var text) ? int.Parse(text, CultureInfo.InvariantCulture) : PropagationProbe.DefaultSamples;
    Console.Write(PropagationProbe.ToMarkdown(await PropagationProbe.MeasureAsync(samples, Console.Out)));
    return 0;
}

static async Task<int> RunLatency(string[] args)
{
    var options = ProgramOptions.Parse(args, out _);
    if (BenchRedis.Endpoint is null)
    {
        Console.Error.WriteLine(BenchRedis.SkipNotice);
        return 2;
    }

    var settings = options.TryGetValue("--runs", out var text)
        ? LatencyProbe.Settings.Default with { Runs = int.Parse(text, CultureInfo.InvariantCulture) }
        : LatencyProbe.Settings.Default;
    Console.Write(LatencyProbe.ToMarkdown(await LatencyProbe.MeasureAsync(settings, Console.Out)));
    return 0;
}

static async Task<int> RunThroughput(string[] args)
{
    var options = ProgramOptions.Parse(args, out _);
    if (BenchRedis.Endpoint is null)
    {
        Console.Error.WriteLine(BenchRedis.SkipNotice);
        return 2;
    }

    var settings = options.TryGetValue("--seconds", out var text)
        ? ThroughputProbe.Settings.OfSeconds(double.Parse(text, CultureInfo.InvariantCulture))
        : ThroughputProbe.Settings.Default;
    Console.Write(ThroughputProbe.ToMarkdown(await ThroughputProbe.MeasureAsync(settings, Console.Out)));
    return 0;
}

static int RunSuite(string[] args)
{
    var options = ProgramOptions.Parse(args, out var benchmarkArgs);
    if (!options.TryGetValue("--results", out var results))
    {
        Console.Error.WriteLine("suite: --results FILE is required.");
        return 2;
    }

    if (!benchmarkArgs.Contains("--filter") && !benchmarkArgs.Contains("-f"))
    {
        benchmarkArgs = [.. benchmarkArgs, "--filter", "*"];
    }

    using var notes = NotesFile.Ensure();
    var clock = Stopwatch.StartNew();
    var types = Runnable(out var skipped);
    var summaries = BenchmarkSwitcher.FromTypes([.. types.Where(static t => !BenchmarkCatalog.NeedsRedis(t))]).Run(benchmarkArgs).ToList();

    // A round trip to a server sharing these cores varies far more from one iteration to the next than an
    // in-process call: the Redis classes get more iterations than the short job's three, unless told otherwise.
    const string RedisIterations = "12";
    var redisTypes = types.Where(BenchmarkCatalog.NeedsRedis).ToArray();
    if (redisTypes.Length > 0)
    {
        var redisArgs = benchmarkArgs.Contains("--iterationCount") || benchmarkArgs.Contains("Dry", StringComparer.OrdinalIgnoreCase)
            ? benchmarkArgs
            : [.. benchmarkArgs, "--iterationCount", RedisIterations];
        summaries.AddRange(BenchmarkSwitcher.FromTypes(redisTypes).Run(redisArgs));
    }
    var probes = redisTypes.Length > 0 && !benchmarkArgs.Contains("Dry", StringComparer.OrdinalIgnoreCase);
    var propagation = probes ? PropagationProbe.MeasureAsync(PropagationProbe.DefaultSamples, Console.Out).GetAwaiter().GetResult() : null;
    var latency = probes ? LatencyProbe.MeasureAsync(LatencyProbe.Settings.Default, Console.Out).GetAwaiter().GetResult() : null;
    var throughput = probes ? ThroughputProbe.MeasureAsync(ThroughputProbe.Settings.Default, Console.Out).GetAwaiter().GetResult() : null;
    var failed = summaries.SelectMany(static s => s.Reports).Count(static r => !r.Success)
        + summaries.Count(static s => s.HasCriticalValidationErrors);

    var report = new SuiteReport(summaries)
    {
        Memory = options.TryGetValue("--memory", out var memory) && File.Exists(memory) ? MemoryFootprint.Read(memory) : null,
        RedisBenchmark = options.TryGetValue("--redis-benchmark", out var ceiling) && File.Exists(ceiling) ? File.ReadAllText(ceiling) : null,
        RedisBenchmarkSingleClient = options.TryGetValue("--redis-benchmark-single", out var single) && File.Exists(single) ? File.ReadAllText(single) : null,
        Skipped = skipped is null ? [] : [skipped],
        Elapsed = options.TryGetValue("--started", out var started)
            ? DateTimeOffset.UtcNow - DateTimeOffset.FromUnixTimeSeconds(long.Parse(started, CultureInfo.InvariantCulture))
            : clock.Elapsed,
        CompileCost = File.Exists(results) ? SuiteReport.CompileCostOf(File.ReadAllText(results)) : null,
        Propagation = propagation,
        Latency = latency,
        Throughput = throughput,
    };
    File.WriteAllText(results, report.Render());
    Console.WriteLine($"Wrote {results}" + (failed > 0 ? $"; {failed} benchmark(s) failed, see the log above." : "."));
    return failed > 0 ? 1 : 0;
}

static IReadOnlyList<Type> Runnable(out string? skipped)
{
    var types = BenchmarkCatalog.Runnable(out skipped);
    if (skipped is not null)
    {
        Console.WriteLine(skipped);
    }

    return types;
}
