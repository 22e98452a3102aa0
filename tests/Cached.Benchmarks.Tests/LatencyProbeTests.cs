using Cached.Benchmarks.Infrastructure;
using static Cached.Benchmarks.LatencyProbe;

namespace Cached.Benchmarks.Tests;

/// <summary>The paired latency measure of issue 19's Redis read targets: it runs against a real redis-server and RESULTS.md judges it.</summary>
public sealed class LatencyProbeTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task Both_reads_are_measured_call_for_call_in_every_run()
    {
        BenchmarkEnvironment.RequireRedis();
        var log = new StringWriter();

        var rows = await MeasureAsync(new Settings(Runs: 2, WarmUpRounds: 1, Rounds: 2, PairsPerRound: 20), log);

        Assert.That(rows.Select(static row => row.Operation), Is.EqualTo(new[] { "`RedisCache.Get`", "`RedisCache.GetAsync`" }));
        Assert.That(rows, Has.All.Matches<Row>(static row => row.Runs.Count == 2));
        Assert.That(rows.SelectMany(static row => row.Runs), Has.All.Matches<Run>(static run => run.CachedMicroseconds > 0 && run.RawMicroseconds > 0));
        Assert.That(log.ToString(), Does.Contain("Latency, run 1:").And.Contain("Latency, run 2:"));
    }

    [Test]
    public void Settings_that_measure_nothing_are_refused_naming_the_setting()
    {
        Assert.That(async () => await MeasureAsync(new Settings(0, 1, 1, 1), TextWriter.Null), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("Runs"));
        Assert.That(async () => await MeasureAsync(new Settings(1, 1, 1, 0), TextWriter.Null), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("PairsPerRound"));
    }

    [Test]
    public void The_mean_ratio_carries_two_standard_errors_over_the_runs_and_the_slowest_run_is_kept()
    {
        var row = new Row("`RedisCache.Get`", "StringGet + JSON", [new Run(52, 50), new Run(51, 50), new Run(54, 50)]);

        Assert.That(row.Ratio, Is.EqualTo((1.04 + 1.02 + 1.08) / 3).Within(1e-9));
        // Standard deviation of 1.04, 1.02, 1.08 is 0.030551; over √3 runs, twice: 0.035277.
        Assert.That(row.Error, Is.EqualTo(0.035277).Within(1e-5));
        Assert.That(row.WorstRatio, Is.EqualTo(1.08).Within(1e-9));
        Assert.That(new Row("one", "raw", [new Run(2, 1)]).Error, Is.Zero, "one run has no spread to report");
    }

    [Test]
    public void RESULTS_md_judges_each_read_on_its_slowest_paired_run()
    {
        var rows = new[]
        {
            new Row("`RedisCache.Get`", "StringGet + JSON", [new Run(51, 50), new Run(52.5, 50)]),
            new Row("`RedisCache.GetAsync`", "StringGetAsync + JSON", [new Run(40, 38), new Run(42.5, 38)]),
        };

        var text = new SuiteReport([]) { Latency = rows }.Render();

        Assert.Multiple(() =>
        {
            Assert.That(text, Does.Contain("| `RedisCache.Get` ≤ 1.1x raw StackExchange.Redis (every run of the paired measure) | 1.04x ± 0.03 call for call over 2 runs (1.02x, 1.05x; 51.75 µs vs 50.00 µs) | met |"));
            Assert.That(text, Does.Contain("| `RedisCache.GetAsync` ≤ 1.1x raw StackExchange.Redis (every run of the paired measure) | 1.09x ± 0.07 call for call over 2 runs (1.05x, 1.12x; 41.25 µs vs 38.00 µs) | **not met** |"));
            Assert.That(text, Does.Contain("| `RedisCache.Get` | StringGet + JSON | 51.00 vs 50.00 µs (1.020x); 52.50 vs 50.00 µs (1.050x) | 1.035x ± 0.030 | 1.050x |"));
            Assert.That(text, Does.Contain("## Redis: one read, call for call (issue 19)"));
        });
    }

    [Test]
    public void Without_the_paired_measure_RESULTS_md_says_the_reads_were_not_measured()
    {
        var text = new SuiteReport([]).Render();

        Assert.That(text, Does.Contain("| `RedisCache.Get` ≤ 1.1x raw StackExchange.Redis | not measured | not measured |"));
        Assert.That(text, Does.Contain("## Redis: one read, call for call (issue 19)\n\nNot measured in this run (it needs the Redis server)."));
    }
}
