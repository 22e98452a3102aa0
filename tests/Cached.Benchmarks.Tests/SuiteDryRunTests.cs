using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Cached.Benchmarks.Infrastructure;

namespace Cached.Benchmarks.Tests;

/// <summary>
/// The CI check of the suite: every benchmark of every class runs once through BenchmarkDotNet (a dry job, in this
/// process) without an error. Benchmarks are not tests: nothing here looks at a time.
/// </summary>
public sealed class SuiteDryRunTests
{
    private static IEnumerable<TestCaseData> Classes()
        => BenchmarkCatalog.All.Select(static type => new TestCaseData(type).SetArgDisplayNames(type.Name));

    [TestCaseSource(nameof(Classes))]
    public void Every_benchmark_of_the_class_runs_once_without_error(Type type)
    {
        if (BenchmarkCatalog.NeedsRedis(type))
        {
            BenchmarkEnvironment.RequireRedis();
        }

        var (summary, log) = DryRun(type);

        var errors = string.Join(Environment.NewLine, summary.ValidationErrors.Select(static e => e.Message));
        Assert.That(summary.HasCriticalValidationErrors, Is.False, errors);
        Assert.That(summary.BenchmarksCases, Is.Not.Empty, "the class has no benchmark");
        var failed = summary.Reports.Where(static r => !r.Success).Select(static r => r.BenchmarkCase.DisplayInfo).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(summary.Reports, Has.Length.EqualTo(summary.BenchmarksCases.Length), log);
            Assert.That(failed, Is.Empty, log);
            Assert.That(summary.Reports.Where(static r => r.ResultStatistics is null).Select(static r => r.BenchmarkCase.DisplayInfo), Is.Empty, "benchmarks without a measurement");
            Assert.That(new SuiteReport([summary]).Render(), Does.Contain($"(`{type.Name}`)"), "RESULTS.md has no table for the class");
        });
    }

    [Test]
    public void The_cold_key_benchmark_records_one_body_call_for_the_generated_method()
    {
        var (summary, log) = DryRun(typeof(ColdKeyBenchmarks));

        Assert.That(summary.Reports.All(static r => r.Success), Is.True, log);
        var key = RunNotes.Key(BodyCallsConfig.Kind, nameof(ColdKeyBenchmarks), nameof(ColdKeyBenchmarks.Generated));
        Assert.Multiple(() =>
        {
            Assert.That(ColdKeyBenchmarks.BodyCalls[nameof(ColdKeyBenchmarks.Generated)], Is.EqualTo((1L, 1L)), "fewest and most body calls per key over the rounds");
            Assert.That(RunNotes.Find(key), Is.EqualTo("1"), "the note behind the Body calls/key column");
        });
    }

    [Test]
    public void The_multicached_benchmarks_on_redis_make_one_round_trip_when_every_key_hits()
    {
        BenchmarkEnvironment.RequireRedis();
        var (hitSummary, hitLog) = DryRun(typeof(MultiCachedRedisBenchmarks));
        var (missSummary, missLog) = DryRun(typeof(MultiCachedRedisMissBenchmarks));

        Assert.That(hitSummary.Reports.All(static r => r.Success), Is.True, hitLog);
        Assert.That(missSummary.Reports.All(static r => r.Success), Is.True, missLog);
        Assert.Multiple(() =>
        {
            Assert.That(Note(nameof(MultiCachedRedisBenchmarks), nameof(MultiCachedBenchmarks.MultiCached), "All"), Is.EqualTo("1 MGET"));
            Assert.That(Note(nameof(MultiCachedRedisBenchmarks), nameof(MultiCachedBenchmarks.SingleCalls), "All"), Is.EqualTo("100 GET"));
            Assert.That(Note(nameof(MultiCachedRedisBenchmarks), nameof(MultiCachedRedisBenchmarks.RawMultiGet), "All"), Is.EqualTo("1 MGET"), "the raw client's row reads the same keys in one MGET");
            // A miss opens its keys' fences (one script) and stores through them (one script), so an invalidation
            // stays final: for 50 missing keys, the scripts' own GET (fence read, fence check), SET (fence, value) and
            // DEL (fence and its count of open fills, one DEL) inside Redis are counted too, but the client sends 1 MGET
            // and 2 scripts. (The count's HINCRBY and PEXPIRE are not among the data commands the note lists.)
            Assert.That(Note(nameof(MultiCachedRedisMissBenchmarks), nameof(MultiCachedBenchmarks.MultiCached), "Half"), Is.EqualTo("100 GET + 1 MGET + 100 SET + 50 DEL + 2 EVAL"));
            Assert.That(Note(nameof(MultiCachedRedisMissBenchmarks), nameof(MultiCachedBenchmarks.SingleCalls), "Half"), Is.EqualTo("200 GET + 100 SET + 50 DEL + 100 EVAL"));
            Assert.That(Note(nameof(MultiCachedRedisMissBenchmarks), nameof(MultiCachedBenchmarks.MultiCached), "None"), Is.EqualTo("200 GET + 1 MGET + 200 SET + 100 DEL + 2 EVAL"));
        });

        static string? Note(string type, string method, string hits)
            => RunNotes.Find(RunNotes.Key(RedisCommandsConfig.Kind, type, method, $"Hits={hits}"));
    }

    /// <summary>The dry runs made so far: the tests that read a class's notes reuse the run that checked it.</summary>
    private static readonly Dictionary<Type, (Summary Summary, string Log)> s_runs = [];

    /// <summary>Runs every benchmark of <paramref name="type"/> once, in this process; returns the summary and BenchmarkDotNet's log.</summary>
    private static (Summary Summary, string Log) DryRun(Type type)
    {
        if (s_runs.TryGetValue(type, out var done))
        {
            return done;
        }

        var logger = new AccumulationLogger();
        var config = ManualConfig.CreateEmpty()
            .AddJob(Job.Dry.WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(1), logOutput: false)))
            .AddLogger(logger)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .WithArtifactsPath(Path.Combine(BenchmarkEnvironment.Folder, "artifacts", type.Name))
            // The test build is Debug; the suite's project is optimized in every configuration, its dependencies are not.
            .WithOptions(ConfigOptions.DisableOptimizationsValidator | ConfigOptions.DisableLogFile);

        // A class's job attributes shape its real runs and apply to every job, the dry one included: RedisBenchmarks
        // ran 3 launches of 6 iterations, MissPathBenchmarks 100,000 invocations per iteration. The check needs
        // each benchmark once, so every case gets the dry job's counts back.
        var planned = BenchmarkConverter.TypeToBenchmarks(type, config);
        var once = planned.BenchmarksCases
            .Select(static c => BenchmarkCase.Create(c.Descriptor, Once(c.Job), c.Parameters, c.Config))
            .ToArray();
        var summary = BenchmarkRunner.Run(new BenchmarkRunInfo(once, planned.Type, planned.Config));
        return s_runs[type] = (summary, logger.GetLog());
    }

    private static Job Once(Job job)
        => job.WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(1).WithInvocationCount(1).WithUnrollFactor(1);
}
