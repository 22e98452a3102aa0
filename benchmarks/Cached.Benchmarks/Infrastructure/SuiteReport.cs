using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using BenchmarkDotNet.Environments;
using BenchmarkDotNet.Reports;

namespace Cached.Benchmarks.Infrastructure;

/// <summary>
/// Writes RESULTS.md from one run of the suite: the machine, the issue's targets with the figures of this run, every
/// table, the memory table and redis-benchmark's ceiling.
/// </summary>
public sealed partial class SuiteReport
{
    private static readonly CultureInfo s_invariant = CultureInfo.InvariantCulture;

    private readonly IReadOnlyList<Summary> _summaries;
    private readonly StringBuilder _text = new();

    public SuiteReport(IReadOnlyList<Summary> summaries) => _summaries = summaries;

    /// <summary>The bytes-per-entry rows of the memory mode, when it ran.</summary>
    public IReadOnlyList<MemoryFootprint.Row>? Memory { get; init; }

    /// <summary>redis-benchmark's output as the issue asks for it (50 clients), when it ran.</summary>
    public string? RedisBenchmark { get; init; }

    /// <summary>redis-benchmark's output with one client, the like-for-like ceiling of a single caller.</summary>
    public string? RedisBenchmarkSingleClient { get; init; }

    /// <summary>Why a part of the suite did not run (the Redis classes without a server).</summary>
    public IReadOnlyList<string> Skipped { get; init; } = [];

    /// <summary>How long the whole run took, when known.</summary>
    public TimeSpan? Elapsed { get; init; }

    /// <summary>
    /// The compile-cost section (issue 14) that <c>benchmarks/compile-cost.sh --results</c> wrote into the previous
    /// RESULTS.md, markers included: it comes from its own script, so a run of the suite carries it over.
    /// </summary>
    public string? CompileCost { get; init; }

    /// <summary>Propagation percentiles on Redis (issue 15), when the Redis classes ran.</summary>
    public IReadOnlyList<PropagationProbe.Row>? Propagation { get; init; }

    /// <summary>The marker lines around the compile-cost section.</summary>
    public const string CompileCostStart = "<!-- compile-cost:start -->";

    /// <inheritdoc cref="CompileCostStart"/>
    public const string CompileCostEnd = "<!-- compile-cost:end -->";

    /// <summary>The compile-cost section of a RESULTS.md, markers included; null when it has none.</summary>
    public static string? CompileCostOf(string results)
    {
        var start = results.IndexOf(CompileCostStart, StringComparison.Ordinal);
        var end = results.IndexOf(CompileCostEnd, StringComparison.Ordinal);
        return start < 0 || end < start ? null : results[start..(end + CompileCostEnd.Length)];
    }

    public string Render()
    {
        _text.Clear();
        Line("# Benchmark results");
        Line();
        Line("<!-- Written by benchmarks/run.sh; run it again rather than editing this file. -->");
        Line();
        Line($"**Machine:** {MachineLine()}");
        Line();
        Line("One run on one machine: compare figures within a table (the Ratio column is against that table's baseline), "
            + "not across machines. Times are per operation; Allocated is per operation on the calling thread(s).");
        foreach (var skipped in Skipped)
        {
            Line();
            Line($"> {skipped}");
        }

        Line();
        Line("## Targets (issue 7)");
        Line();
        WriteTargets();
        Line();
        Line("## Peers against the issue's figures");
        Line();
        WritePeers();

        foreach (var summary in _summaries)
        {
            Line();
            Line($"## {TitleOf(summary)}");
            Line();
            WriteTable(summary);
        }

        Line();
        Line("## Memory per entry");
        Line();
        if (Memory is { Count: > 0 })
        {
            Line("The managed heap after a full GC, before and after filling each cache with the same entries (keys and "
                + "the one value object made beforehand, so they are not counted).");
            Line();
            _text.Append(MemoryFootprint.ToMarkdown(Memory));
        }
        else
        {
            Line("Not measured in this run.");
        }

        Line();
        Line("## Two levels: propagation between nodes (issue 15)");
        Line();
        if (Propagation is { Count: > 0 })
        {
            Line("Each write measured on its own, Cached and FusionCache alternating, on the run's redis-server (`Cached.Benchmarks propagation`):");
            Line();
            _text.Append(PropagationProbe.ToMarkdown(Propagation));
        }
        else
        {
            Line("Not measured in this run (it needs the Redis server).");
        }

        WriteLatency();
        WriteThroughput();
        Line();
        Line("## Redis server ceiling (redis-benchmark)");
        Line();
        WriteRedisCeiling();
        if (CompileCost is not null)
        {
            Line();
            Line(CompileCost);
        }

        return _text.ToString();
    }

    private static string TitleOf(Summary summary)
    {
        var type = summary.BenchmarksCases.FirstOrDefault()?.Descriptor.Type;
        return type is null ? summary.Title : $"{Describe(type)} (`{type.Name}`)";
    }

    private static string Describe(Type type) => type.Name switch
    {
        nameof(HitPathBenchmarks) => "Hit path",
        nameof(MissPathBenchmarks) => "Miss path",
        nameof(ConcurrentHitBenchmarks) => $"Concurrent hits, {ConcurrentHitBenchmarks.Callers} callers",
        nameof(ColdKeyBenchmarks) => $"Cold key, {ColdKeyBenchmarks.Callers:N0} concurrent callers",
        nameof(MultiCachedMemoryBenchmarks) => "MultiCached on SimpleMemoryCache, every key cached",
        nameof(MultiCachedMemoryMissBenchmarks) => "MultiCached on SimpleMemoryCache, half or no key cached",
        nameof(MultiCachedRedisBenchmarks) => "MultiCached on Redis, every key cached",
        nameof(MultiCachedRedisMissBenchmarks) => "MultiCached on Redis, half or no key cached",
        nameof(RedisBenchmarks) => "Redis: RedisCache against StackExchange.Redis",
        nameof(TagBenchmarks) => "Tags on SimpleMemoryCache: tagged hits, InvalidateTags",
        nameof(TagRedisBenchmarks) => "Tags on Redis: tagged hit, InvalidateTagsAsync",
        _ => type.Name,
    };

    private string MachineLine()
    {
        var host = HostEnvironmentInfo.GetCurrent();
        var cpu = host.Cpu.Value;
        var cores = cpu.PhysicalCoreCount is { } physical
            ? $"{physical} cores ({cpu.LogicalCoreCount ?? Environment.ProcessorCount} logical)"
            : $"{Environment.ProcessorCount} cores";
        var job = _summaries.SelectMany(static s => s.BenchmarksCases).Select(static c => c.Job.DisplayInfo).FirstOrDefault() ?? "-";
        var elapsed = Elapsed is { } e ? $", the run took {e.TotalMinutes:F1} min" : string.Empty;
        return string.Create(s_invariant, $"{cpu.ProcessorName ?? RuntimeInformation.ProcessArchitecture.ToString()}, {cores}, "
            + $"{host.Os.Value.GetDisplay()}, {RuntimeInformation.FrameworkDescription} (SDK {host.DotNetSdkVersion.Value}); "
            + $"BenchmarkDotNet {host.BenchmarkDotNetVersion}, job {job}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC{elapsed}.");
    }

    private void WriteTargets()
    {
        Line("| Target | This run | Verdict |");
        Line("|---|---|---|");

        var floor = Find(nameof(HitPathBenchmarks), nameof(HitPathBenchmarks.Floor));
        var threePartFloor = Find(nameof(HitPathBenchmarks), nameof(HitPathBenchmarks.FloorThreePartKey));
        var defaultKeyFloor = Find(nameof(HitPathBenchmarks), nameof(HitPathBenchmarks.FloorDefaultKey));
        // Each hit is held to the floor with the same key building written by hand (the issue's "same key
        // building"): `$"user:{id}"` for one int, the 3-part key for the 3-argument template, the default key's own
        // text for the default key. The default key is longer than the 3-part one, so its row also says how it
        // compares with the 3-part floor.
        foreach (var (method, label, against, againstLabel, alsoAgainst) in new[]
        {
            (nameof(HitPathBenchmarks.OneArgument), "int", floor, "the floor", null),
            (nameof(HitPathBenchmarks.ThreeArguments), "int+string+enum, default key", defaultKeyFloor, "the floor with the default key's text", threePartFloor),
            (nameof(HitPathBenchmarks.ThreeArgumentsTemplate), "int+string+enum, template key", threePartFloor, "the 3-part-key floor", null),
        })
        {
            var hit = Find(nameof(HitPathBenchmarks), method);
            var also = hit is null || alsoAgainst is null ? string.Empty : $"; {Ratio(hit, alsoAgainst)} the 3-part-key floor ({Time(alsoAgainst)})";
            Target(
                $"`[Cached]` hit ({label}) ≤ 1.0x {againstLabel}, 0 B",
                hit is null || against is null ? null : $"{Ratio(hit, against)} ({Time(hit)} vs {Time(against)}), {Bytes(hit)}{also}",
                hit is not null && against is not null && hit.Mean <= against.Mean && hit.Allocated == 0);
        }

        var constant = Find(nameof(HitPathBenchmarks), nameof(HitPathBenchmarks.FloorConstantKey));
        var parameterless = Find(nameof(HitPathBenchmarks), nameof(HitPathBenchmarks.Parameterless));
        Target(
            "`[Cached]` parameterless hit ≤ 2x the constant-key lookup, 0 B",
            parameterless is null || constant is null ? null : $"{Ratio(parameterless, constant)} ({Time(parameterless)} vs {Time(constant)}), {Bytes(parameterless)}",
            parameterless is not null && constant is not null && parameterless.Mean <= 2 * constant.Mean && parameterless.Allocated == 0);

        foreach (var (method, label) in new[]
        {
            (nameof(HitPathBenchmarks.ParameterlessAsync), "parameterless"),
            (nameof(HitPathBenchmarks.OneArgumentAsync), "int"),
            (nameof(HitPathBenchmarks.ThreeArgumentsAsync), "int+string+enum"),
        })
        {
            var hit = Find(nameof(HitPathBenchmarks), method);
            Target(
                $"async (`ValueTask`) hit, {label}: 0 B",
                hit is null ? null : $"{Bytes(hit)}, {Time(hit)}" + (floor is null ? string.Empty : $" ({Ratio(hit, floor)} the floor)"),
                hit is not null && hit.Allocated == 0);
        }

        WriteFasterThanPeers("`[Cached]` int hit faster than every peer's hit", nameof(HitPathBenchmarks.OneArgument), s_syncPeers.Concat(s_asyncPeers));
        // An async benchmark pays BenchmarkDotNet's await of the returned task on top of the call (about 17 ns here,
        // the gap between our sync and ValueTask hits), so async hits are compared with the peers' async hits.
        WriteFasterThanPeers("`[Cached]` int `ValueTask` hit faster than every peer's async hit", nameof(HitPathBenchmarks.OneArgumentAsync), s_asyncPeers);

        WriteRedisReadTargets();

        var multi = Find(nameof(MultiCachedRedisBenchmarks), nameof(MultiCachedBenchmarks.MultiCached), "Hits=All");
        var singles = Find(nameof(MultiCachedRedisBenchmarks), nameof(MultiCachedBenchmarks.SingleCalls), "Hits=All");
        // Notes count only for a benchmark of this run: the notes file may hold older ones.
        var commands = multi is null ? null : RunNotes.Find(RunNotes.Key(RedisCommandsConfig.Kind, nameof(MultiCachedRedisBenchmarks), nameof(MultiCachedBenchmarks.MultiCached), "Hits=All"));
        Target("100-key `[MultiCached]`, all hit, on Redis: one round trip", commands, commands == "1 MGET");

        var rawBatch = Find(nameof(MultiCachedRedisBenchmarks), nameof(MultiCachedRedisBenchmarks.RawMultiGet), "Hits=All");
        Target(
            "100-key `[MultiCached]`, all hit, on Redis: ≥ 50x faster than 100 single calls (issue 19; 20x in issue 7)",
            multi is null || singles is null ? null : string.Create(s_invariant, $"{singles.Mean / multi.Mean:F1}x faster ({Time(multi)} vs {Time(singles)})")
                + (multi is null || singles is null || rawBatch is null ? string.Empty : string.Create(s_invariant, $"; StackExchange.Redis alone, one MGET + JSON of the same keys: {singles.Mean / rawBatch.Mean:F1}x ({Time(rawBatch)}; `[MultiCached]` {Ratio(multi, rawBatch)} ± {RatioError(multi, rawBatch)} of it)")),
            multi is not null && singles is not null && singles.Mean >= 50 * multi.Mean);

        var simple = Memory?.FirstOrDefault(static r => r.Cache == "SimpleMemoryCache");
        var memoryCache = Memory?.FirstOrDefault(static r => r.Cache == "MemoryCache");
        Target(
            string.Create(s_invariant, $"memory per entry below `MemoryCache`'s ({simple?.Entries ?? MemoryFootprint.DefaultEntries:N0} entries)"),
            simple is null || memoryCache is null ? null : string.Create(s_invariant, $"{simple.BytesPerEntry:F1} B vs {memoryCache.BytesPerEntry:F1} B ({simple.BytesPerEntry / memoryCache.BytesPerEntry:0.00}x)"),
            simple is not null && memoryCache is not null && simple.BytesPerEntry < memoryCache.BytesPerEntry);

        var simpleTtl = Memory?.FirstOrDefault(static r => r.Cache == "SimpleMemoryCache, TTL");
        var memoryCacheTtl = Memory?.FirstOrDefault(static r => r.Cache == "MemoryCache, TTL");
        Target(
            "memory per entry with a TTL below `MemoryCache`'s with a TTL",
            simpleTtl is null || memoryCacheTtl is null ? null : string.Create(s_invariant, $"{simpleTtl.BytesPerEntry:F1} B vs {memoryCacheTtl.BytesPerEntry:F1} B ({simpleTtl.BytesPerEntry / memoryCacheTtl.BytesPerEntry:0.00}x)"),
            simpleTtl is not null && memoryCacheTtl is not null && simpleTtl.BytesPerEntry < memoryCacheTtl.BytesPerEntry);

        WriteTwoLevelTargets();
        WriteResilienceTargets();
        WriteTagTargets();
        WriteThroughputTargets();
        WriteTtlHitAndMissTargets();

        var stampede = Find(nameof(ColdKeyBenchmarks), nameof(ColdKeyBenchmarks.Generated));
        var bodyCalls = stampede is null ? null : RunNotes.Find(RunNotes.Key(BodyCallsConfig.Kind, nameof(ColdKeyBenchmarks), nameof(ColdKeyBenchmarks.Generated)));
        Target(
            $"{ColdKeyBenchmarks.Callers:N0} concurrent callers on a cold key: 1 body call",
            bodyCalls is null ? null : $"{bodyCalls} body call(s) per key (min–max over every round), {Time(stampede!)} per stampede",
            bodyCalls == "1");
    }

    /// <summary>Issue 15: an L1 hit costs a memory hit, and two levels on Redis are ahead of FusionCache's.</summary>
    private void WriteTwoLevelTargets()
    {
        foreach (var (ours, baseline, label) in new[]
        {
            (nameof(MultiLevelBenchmarks.CachedOnTwoLevels), nameof(MultiLevelBenchmarks.CachedOnMemory), "`[Cached]`"),
            (nameof(MultiLevelBenchmarks.CachedOnTwoLevelsAsync), nameof(MultiLevelBenchmarks.CachedOnMemoryAsync), "`[Cached]` `ValueTask`"),
        })
        {
            var hit = Find(nameof(MultiLevelBenchmarks), ours);
            var memory = Find(nameof(MultiLevelBenchmarks), baseline);
            Target(
                $"{label} L1 hit of a `MultiLevelCache` within 1.1x a `SimpleMemoryCache` hit, 0 B",
                hit is null || memory is null ? null : $"{Ratio(hit, memory)} ({Time(hit)} vs {Time(memory)}), {Bytes(hit)}",
                hit is not null && memory is not null && hit.Mean <= 1.1 * memory.Mean && hit.Allocated == 0);
        }

        var cachedPropagation = Propagation?.FirstOrDefault(static row => row.Library.StartsWith("Cached", StringComparison.Ordinal));
        var fusionPropagation = Propagation?.FirstOrDefault(static row => row.Library.StartsWith("FusionCache", StringComparison.Ordinal));
        Target(
            "propagation from a write on node A to node B's read: p99 under 5 ms",
            cachedPropagation is null ? null : string.Create(s_invariant, $"p50 {cachedPropagation.P50:F3} ms, p99 {cachedPropagation.P99:F3} ms"),
            cachedPropagation is not null && cachedPropagation.P99 < 5);

        foreach (var (ours, theirs, label) in new[]
        {
            (nameof(MultiLevelRedisBenchmarks.CachedHit), nameof(MultiLevelRedisBenchmarks.FusionHit), "L1 hit"),
            (nameof(MultiLevelRedisBenchmarks.CachedMiss), nameof(MultiLevelRedisBenchmarks.FusionMiss), "read-through miss"),
            (nameof(MultiLevelRedisBenchmarks.CachedPropagation), nameof(MultiLevelRedisBenchmarks.FusionPropagation), "propagation (mean)"),
        })
        {
            var cached = Find(nameof(MultiLevelRedisBenchmarks), ours);
            var fusion = Find(nameof(MultiLevelRedisBenchmarks), theirs);
            Target(
                $"two levels on Redis, {label}: ahead of FusionCache with its Redis backplane",
                cached is null || fusion is null ? null : $"{Ratio(cached, fusion)} ± {RatioError(cached, fusion)} ({Time(cached)} vs {Time(fusion)})",
                cached is not null && fusion is not null && cached.Mean < fusion.Mean);
        }

        if (cachedPropagation is not null && fusionPropagation is not null)
        {
            Target(
                "propagation p99: ahead of FusionCache",
                string.Create(s_invariant, $"{cachedPropagation.P99:F3} ms vs {fusionPropagation.P99:F3} ms"),
                cachedPropagation.P99 < fusionPropagation.P99);
        }
    }

    private static readonly (string Method, string Label)[] s_syncPeers =
    [
        (nameof(HitPathBenchmarks.MemoryCacheTryGetValue), "MemoryCache.TryGetValue"),
        (nameof(HitPathBenchmarks.MemoryCacheGetOrCreate), "MemoryCache.GetOrCreate"),
        (nameof(HitPathBenchmarks.FusionCacheGetOrSet), "FusionCache.GetOrSet"),
        (nameof(HitPathBenchmarks.ConcurrentLruGetOrAdd), "ConcurrentLru.GetOrAdd"),
    ];

    private static readonly (string Method, string Label)[] s_asyncPeers =
    [
        (nameof(HitPathBenchmarks.FusionCacheGetOrSetAsync), "FusionCache.GetOrSetAsync"),
        (nameof(HitPathBenchmarks.HybridCacheGetOrCreateAsync), "HybridCache.GetOrCreateAsync"),
    ];

    private void WriteFasterThanPeers(string target, string method, IEnumerable<(string Method, string Label)> peers)
    {
        var ours = Find(nameof(HitPathBenchmarks), method);
        var measured = peers.Select(p => (p.Label, Figure: Find(nameof(HitPathBenchmarks), p.Method))).Where(static p => p.Figure is not null).ToList();
        if (ours is null || measured.Count == 0)
        {
            Target(target, null, false);
            return;
        }

        var fastest = measured.MinBy(static p => p.Figure!.Mean);
        var slower = measured.Count(p => p.Figure!.Mean > ours.Mean);
        Target(
            target,
            $"{Time(ours)}; fastest peer {fastest.Label} {Time(fastest.Figure!)} ({Ratio(ours, fastest.Figure!)}); faster than {slower} of {measured.Count}",
            slower == measured.Count);
    }

    private void WritePeers()
    {
        var floor = Find(nameof(HitPathBenchmarks), nameof(HitPathBenchmarks.Floor));
        if (floor is null)
        {
            Line("The hit path did not run.");
            return;
        }

        Line("The issue measured the peers' hits on its machine; the same ratios from this run, against this run's floor.");
        Line();
        Line("| Hit | Issue | This run |");
        Line("|---|---|---|");
        Line($"| floor: ConcurrentDictionary, `$\"user:{{id}}\"` | 22 ns / 40 B | {Time(floor)} / {Bytes(floor)} |");
        foreach (var (method, label, issue) in new[]
        {
            (nameof(HitPathBenchmarks.FloorConstantKey), "constant key", "4.9 ns / 0 B"),
            (nameof(HitPathBenchmarks.MemoryCacheTryGetValue), "MemoryCache.TryGetValue", "2.2x / 40 B"),
            (nameof(HitPathBenchmarks.ConcurrentLruGetOrAdd), "BitFaster ConcurrentLru.GetOrAdd", "1.6x / 40 B"),
            (nameof(HitPathBenchmarks.FusionCacheGetOrSet), "FusionCache.GetOrSet", "6.4x / 216 B"),
            (nameof(HitPathBenchmarks.HybridCacheGetOrCreateAsync), "HybridCache.GetOrCreateAsync", "14x / 208 B"),
            (nameof(HitPathBenchmarks.OneArgument), "`[Cached]` int", "target ≤ 1.0x / 0 B"),
            (nameof(HitPathBenchmarks.Parameterless), "`[Cached]` parameterless", "target ≤ 2x constant / 0 B"),
        })
        {
            var figure = Find(nameof(HitPathBenchmarks), method);
            var measured = figure is null ? "not measured" : method == nameof(HitPathBenchmarks.FloorConstantKey)
                ? $"{Time(figure)} / {Bytes(figure)}"
                : $"{Ratio(figure, floor)} / {Bytes(figure)}";
            Line($"| {label} | {issue} | {measured} |");
        }
    }

    private void WriteTable(Summary summary)
    {
        var table = summary.Table;
        var columns = table.Columns.Where(static c => c.NeedToShow).ToArray();
        if (columns.Length == 0 || table.FullContent.Length == 0)
        {
            Line("No results.");
            return;
        }

        Line("| " + string.Join(" | ", columns.Select(static c => Cell(c.Header))) + " |");
        Line("|" + string.Join("|", columns.Select(static c => c.Justify == SummaryTable.SummaryTableColumn.TextJustification.Right ? "---:" : "---")) + "|");
        foreach (var row in table.FullContent)
        {
            Line("| " + string.Join(" | ", columns.Select(c => Cell(row[c.Index]))) + " |");
        }

        var failed = summary.Reports.Where(static r => !r.Success).Select(static r => r.BenchmarkCase.DisplayInfo).ToList();
        if (failed.Count > 0)
        {
            Line();
            Line($"Failed: {string.Join(", ", failed)}.");
        }
    }

    private void WriteRedisCeiling()
    {
        if (RedisBenchmark is null && RedisBenchmarkSingleClient is null)
        {
            Line("Not measured in this run.");
            return;
        }

        Line("The server's own figures on this machine: requests per second with redis-benchmark's 50 clients (`-q`), and with "
            + "one client, which like the benchmarks above waits for each reply before sending the next request.");
        Line();
        Line("```");
        if (RedisBenchmark is not null)
        {
            Line("$ redis-benchmark -t get,set,mset -q");
            Line(RedisBenchmark.Trim());
        }

        if (RedisBenchmarkSingleClient is not null)
        {
            Line("$ redis-benchmark -t get,set,mset -q -c 1");
            Line(RedisBenchmarkSingleClient.Trim());
        }

        Line("```");
        if (RedisBenchmarkSingleClient is null)
        {
            return;
        }

        Line();
        Line("| Command | One client, redis-benchmark | RedisCache | Raw StackExchange.Redis |");
        Line("|---|---:|---:|---:|");
        foreach (var (command, cached, raw) in new[]
        {
            ("GET", nameof(RedisBenchmarks.CacheGet), nameof(RedisBenchmarks.RawGet)),
            ("SET", nameof(RedisBenchmarks.CacheSet), nameof(RedisBenchmarks.RawSet)),
        })
        {
            var perSecond = RequestsPerSecond(RedisBenchmarkSingleClient, command);
            var ceiling = perSecond is { } rps ? Time(1e9 / rps) : "-";
            var ours = Find(nameof(RedisBenchmarks), cached);
            var theirs = Find(nameof(RedisBenchmarks), raw);
            Line($"| {command} | {ceiling} | {(ours is null ? "-" : Time(ours))} | {(theirs is null ? "-" : Time(theirs))} |");
        }
    }

    /// <summary>The requests per second of one command in redis-benchmark's <c>-q</c> output (<c>GET: 81234.56 requests per second, ...</c>).</summary>
    public static double? RequestsPerSecond(string output, string command)
    {
        foreach (var raw in output.Split('\n', '\r'))
        {
            // With -q the progress and the result share a line, separated by carriage returns.
            var line = raw.Trim();
            if (!line.StartsWith(command + ":", StringComparison.OrdinalIgnoreCase) && !line.StartsWith(command + " ", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var words = line[(colon + 1)..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length > 1 && words[1] == "requests" && double.TryParse(words[0], NumberStyles.Float, s_invariant, out var perSecond))
            {
                return perSecond;
            }
        }

        return null;
    }

    private sealed record Figure(double Mean, long? Allocated, double StandardError);

    private Figure? Find(string type, string method, string? parameters = null)
    {
        foreach (var summary in _summaries)
        {
            foreach (var report in summary.Reports)
            {
                var benchmark = report.BenchmarkCase;
                if (benchmark.Descriptor.Type.Name != type || benchmark.Descriptor.WorkloadMethod.Name != method)
                {
                    continue;
                }

                var shown = string.Join(", ", benchmark.Parameters.Items.Select(static p => $"{p.Name}={p.Value}"));
                if (parameters is not null && shown != parameters)
                {
                    continue;
                }

                if (!report.Success || report.ResultStatistics is null)
                {
                    return null;
                }

                return new Figure(report.ResultStatistics.Mean, report.GcStats.GetBytesAllocatedPerOperation(benchmark), report.ResultStatistics.StandardError);
            }
        }

        return null;
    }

    private void Target(string target, string? figure, bool met)
        => Line($"| {target} | {Cell(figure ?? "not measured")} | {(figure is null ? "not measured" : met ? "met" : "**not met**")} |");

    private static string Ratio(Figure figure, Figure baseline) => string.Create(s_invariant, $"{figure.Mean / baseline.Mean:0.00}x");

    /// <summary>Two standard errors of the ratio of two means (about a 95% interval), from each mean's standard error.</summary>
    private static string RatioError(Figure figure, Figure baseline)
    {
        var ratio = figure.Mean / baseline.Mean;
        var relative = Math.Sqrt(Math.Pow(figure.StandardError / figure.Mean, 2) + Math.Pow(baseline.StandardError / baseline.Mean, 2));
        return string.Create(s_invariant, $"{2 * ratio * relative:0.00}");
    }

    private static string Time(Figure figure) => Time(figure.Mean);

    private static string Time(double nanoseconds) => nanoseconds switch
    {
        < 1_000 => string.Create(s_invariant, $"{nanoseconds:0.0} ns"),
        < 1_000_000 => string.Create(s_invariant, $"{nanoseconds / 1_000:0.00} µs"),
        _ => string.Create(s_invariant, $"{nanoseconds / 1_000_000:0.00} ms"),
    };

    private static string Bytes(Figure figure) => figure.Allocated is { } bytes ? string.Create(s_invariant, $"{bytes} B") : "? B";

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);

    private void Line(string text = "") => _text.Append(text).Append('\n');
}
