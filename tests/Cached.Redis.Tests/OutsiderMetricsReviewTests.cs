using System.Collections.Concurrent;
using System.Diagnostics;
using Cached.Diagnostics;
using Cached.Plugins;
using Cached.Redis.Tests.Infrastructure;
using Cached.Tests.Diagnostics;

namespace Cached.Redis.Tests;

/// <summary>A generated method whose body the test counts and holds at a gate; odd ids above 100 fail.</summary>
public sealed partial class OutsiderMeteredService
{
    public const string Alias = "outsider_metrics";

    private int _bodyCalls;
    private int _bodyFailures;

    public TaskCompletionSource Gate { get; set; } = Open();

    public int BodyCalls => Volatile.Read(ref _bodyCalls);

    public int BodyFailures => Volatile.Read(ref _bodyFailures);

    public static TaskCompletionSource Open()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.SetResult();
        return gate;
    }

    [Cached(Alias = Alias, Key = "metered:{id}", Ttl = 60)]
    public partial Task<int> GetAsync(int id, CancellationToken cancellationToken = default);

    [Cached(Alias = Alias, Key = "tagged:{id}", Ttl = 60, Tags = new[] { "tagged:{id}" })]
    public partial Task<int> GetTaggedAsync(int id);

    private Task<int> GetTaggedAsyncCore(int id)
    {
        Interlocked.Increment(ref _bodyCalls);
        return Task.FromResult(id * 10);
    }

    [InvalidateTags("tagged:{id}")]
    public partial Task ForgetAsync(int id);

    private Task ForgetAsyncCore(int id) => Task.CompletedTask;

    /// <summary>The activity current in each body call, by name: the caller's, never one of Cached's.</summary>
    public ConcurrentQueue<string> CurrentInBody { get; } = new();

    private async Task<int> GetAsyncCore(int id, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _bodyCalls);
        CurrentInBody.Enqueue(Activity.Current is { } current ? current.Source.Name + ":" + current.DisplayName : "(none)");
        await Gate.Task.ConfigureAwait(false);
        if (id > 100 && id % 2 == 1)
        {
            Interlocked.Increment(ref _bodyFailures);
            throw new InvalidOperationException("the source failed for " + id);
        }

        return id * 10;
    }
}

/// <summary>Counts every pre and post hook per command: a command whose pre hook ran and whose post hook did not failed.</summary>
internal sealed class HookCounter : CachePlugin
{
    private readonly ConcurrentDictionary<CacheCommand, int> _pre = new();
    private readonly ConcurrentDictionary<CacheCommand, int> _post = new();

    public int Pre(CacheCommand command) => _pre.GetValueOrDefault(command);

    public int Post(CacheCommand command) => _post.GetValueOrDefault(command);

    public int Failed => _pre.Sum(static p => p.Value) - _post.Sum(static p => p.Value);

    public override void Pre(CacheCommandContext context) => _pre.AddOrUpdate(context.Command, 1, static (_, n) => n + 1);

    public override void Post(CacheCommandContext context) => _post.AddOrUpdate(context.Command, 1, static (_, n) => n + 1);
}

/// <summary>
/// An outsider's check of the "Cached" meter and activity source under 16 concurrent callers of a generated method:
/// hits, misses, failing bodies and an unreachable Redis mixed, on memory, on Redis and on two levels. The counters
/// must add up to what the test counts itself (body calls, the plugins' hooks), carry the alias and, on two levels,
/// the level; activities must nest under each caller's own and never stay current after an await.
/// </summary>
[NonParallelizable]
public sealed class OutsiderMetricsReviewTests
{
    private const int Callers = 16;
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(8);
    private readonly List<IDisposable> _owned = [];

    [SetUp]
    public void Reset() => Caches.Reset();

    [TearDown]
    public void DisposeAll()
    {
        Caches.Reset();
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            owned.Dispose();
        }

        _owned.Clear();
    }

    private static string Space() => "om" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>The alias's cache, with a hit/miss plugin and a hook counter on each level.</summary>
    private (ICache Cache, HitMissRatioPlugin[] Ratios, HookCounter[] Hooks) Install(string backend)
    {
        var ratios = new List<HitMissRatioPlugin>();
        var hooks = new List<HookCounter>();
        ICachePlugin[] Plugins()
        {
            var ratio = new HitMissRatioPlugin();
            var hook = new HookCounter();
            ratios.Add(ratio);
            hooks.Add(hook);
            return [ratio, hook];
        }

        var connection = SharedRedis.Server.ConnectionString;
        ICache cache = backend switch
        {
            "memory" => new SimpleMemoryCache { Plugins = Plugins() },
            "redis" => new RedisCache { ConnectionString = connection, Namespace = Space(), Plugins = Plugins(), Timeout = TimeSpan.FromSeconds(2) },
            _ => new MultiLevelCache(
                new SimpleMemoryCache { Plugins = Plugins() },
                new RedisCache { ConnectionString = connection, Namespace = Space(), Plugins = Plugins(), Timeout = TimeSpan.FromSeconds(2) },
                new RedisBackplane(connection)),
        };
        _owned.Add(cache);
        Caches.AddInstance(OutsiderMeteredService.Alias, cache);
        return (cache, [.. ratios], [.. hooks]);
    }

    private static async Task<int?[]> CallAll(OutsiderMeteredService service, Func<int, int> idOf)
    {
        var calls = Enumerable.Range(0, Callers).Select(i => Task.Run(async () =>
        {
            try
            {
                return (int?)await service.GetAsync(idOf(i));
            }
            catch (InvalidOperationException)
            {
                return null;
            }
        })).ToArray();
        return await Task.WhenAll(calls).WaitAsync(s_limit);
    }

    /// <summary>
    /// Three waves of 16 concurrent callers: 4 keys loaded together behind a gate (2 of them failing), then all 16 on
    /// the stored keys, then the failing keys again. The meter's hits and misses equal the plugins' (both per key of
    /// every read); its sets equal the bodies that succeeded on a one-level cache; a failing body is not a cache
    /// error; the wave on stored keys is 16 hits and nothing else; every measurement carries the alias, and on two
    /// levels the level.
    /// </summary>
    [Test]
    public async Task Counters_add_up_to_what_16_concurrent_callers_did([Values("memory", "redis", "two levels")] string backend)
    {
        var (cache, ratios, hooks) = Install(backend);
        using var recorder = new CachedMeterRecorder(OutsiderMeteredService.Alias);
        var service = new OutsiderMeteredService { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        int[] ids = [2, 4, 103, 105];

        // Wave 1: 4 callers per key, the bodies held until every key's body has started.
        var wave1 = CallAll(service, i => ids[i % ids.Length]);
        var started = Stopwatch.StartNew();
        while (service.BodyCalls < ids.Length)
        {
            Assert.That(started.Elapsed, Is.LessThan(s_limit), "every key's body started");
            await Task.Delay(1);
        }

        service.Gate.SetResult();
        var first = await wave1;
        Assert.That(first, Is.EqualTo(Enumerable.Range(0, Callers).Select(i => ids[i % ids.Length] > 100 ? null : (int?)(ids[i % ids.Length] * 10))), "stored keys answered, failing keys failed");
        var storedBodies = service.BodyCalls - service.BodyFailures;
        var hitsBefore = recorder.Sum("cached.hits");
        var missesBefore = recorder.Sum("cached.misses");
        var setsAfterWave1 = recorder.Sum("cached.sets");

        // Wave 2: every caller on the two stored keys.
        var second = await CallAll(service, i => ids[i % 2]);
        Assert.That(second, Is.All.Not.Null);
        var wave2Hits = recorder.Sum("cached.hits") - hitsBefore;
        var wave2Misses = recorder.Sum("cached.misses") - missesBefore;

        // Wave 3: every caller on the two failing keys, which were never stored.
        var bodiesBefore3 = service.BodyCalls;
        await CallAll(service, i => ids[2 + (i % 2)]);
        var wave3Bodies = service.BodyCalls - bodiesBefore3;

        var hits = recorder.Sum("cached.hits");
        var misses = recorder.Sum("cached.misses");
        Assert.Multiple(() =>
        {
            Assert.That(hits, Is.EqualTo(ratios.Sum(static r => r.Hits)), "hits: meter and HitMissRatioPlugin");
            Assert.That(misses, Is.EqualTo(ratios.Sum(static r => r.Misses)), "misses: meter and HitMissRatioPlugin");
            Assert.That(recorder.Sum("cached.errors"), Is.Zero, "a failing body is not a cache error");
            Assert.That(hooks.Sum(static h => h.Failed), Is.Zero, "no command failed");
            Assert.That(wave2Hits, Is.EqualTo(Callers), "16 callers of stored keys: 16 hits");
            Assert.That(wave2Misses, Is.Zero, "and no miss");
            Assert.That(wave3Bodies, Is.GreaterThanOrEqualTo(2).And.LessThanOrEqualTo(Callers), "failing keys load again");
            if (cache is not MultiLevelCache)
            {
                Assert.That(setsAfterWave1, Is.EqualTo(storedBodies), "one entry stored per body that succeeded");
                Assert.That(recorder.Sum("cached.sets"), Is.EqualTo(storedBodies), "nothing stored for failing bodies");
                Assert.That(hooks.Sum(h => h.Post(CacheCommand.Set)), Is.EqualTo(storedBodies), "plugins saw the same sets");
            }
            else
            {
                Assert.That(recorder.Of("cached.sets").Where(static m => Equals(m["cache.level"], "L2")).Sum(static m => m.Value), Is.EqualTo(storedBodies), "one L2 entry per body that succeeded");
            }

            foreach (var m in recorder.Measurements)
            {
                Assert.That(m["cache.alias"], Is.EqualTo(OutsiderMeteredService.Alias), m.Instrument);
                if (m.Instrument is "cached.hits" or "cached.misses" or "cached.sets" or "cached.errors" or "cached.command.duration")
                {
                    Assert.That(m["cache.level"], cache is MultiLevelCache ? Is.EqualTo("L1").Or.EqualTo("L2") : Is.Null, m.Instrument + " cache.level");
                }

                if (m.Instrument.StartsWith("cached.resilience.", StringComparison.Ordinal))
                {
                    Assert.That(m["cache.method"], Does.Contain("GetAsync"), m.Instrument + " cache.method");
                }
            }

            if (cache is MultiLevelCache)
            {
                Assert.That(recorder.Of("cached.hits").Where(static m => Equals(m["cache.level"], "L1")).Sum(static m => m.Value), Is.GreaterThanOrEqualTo(Callers), "wave 2 was served by L1");
            }
        });
    }

    /// <summary>
    /// 16 concurrent callers of a Redis alias whose server cannot be reached: every body runs (fail-open), nothing is a
    /// hit, a miss or a set, and cached.errors counts exactly the commands that failed (pre hook without post hook).
    /// </summary>
    [Test]
    public async Task Errors_count_exactly_the_commands_that_failed_while_Redis_is_unreachable()
    {
        using var port = PortReservation.Take();
        var hooks = new HookCounter();
        var ratio = new HitMissRatioPlugin();
        var cache = new RedisCache
        {
            ConnectionString = $"127.0.0.1:{port.Port},abortConnect=false,connectTimeout=200",
            Namespace = Space(),
            Plugins = [ratio, hooks],
            Timeout = TimeSpan.FromMilliseconds(300),
        };
        _owned.Add(cache);
        Caches.AddInstance(OutsiderMeteredService.Alias, cache);
        using var recorder = new CachedMeterRecorder(OutsiderMeteredService.Alias);
        var service = new OutsiderMeteredService();

        var values = await CallAll(service, i => i % 4);

        Assert.Multiple(() =>
        {
            Assert.That(values, Is.EqualTo(Enumerable.Range(0, Callers).Select(i => (int?)((i % 4) * 10))), "every caller got its body's value");
            Assert.That(recorder.Sum("cached.hits") + recorder.Sum("cached.misses") + recorder.Sum("cached.sets"), Is.Zero);
            Assert.That(ratio.Total, Is.Zero);
            Assert.That(recorder.Sum("cached.errors"), Is.EqualTo(hooks.Failed), "one error per failed command");
            Assert.That(recorder.Sum("cached.errors"), Is.GreaterThan(0));
            foreach (var error in recorder.Of("cached.errors"))
            {
                Assert.That(error["cache.command"], Is.Not.Null);
                Assert.That(error["error.type"], Is.Not.Null);
            }
        });
    }

    /// <summary>
    /// Each of 16 concurrent callers runs under its own activity: every cache activity has a caller's activity as an
    /// ancestor, each caller's own activity is current again after its await, and every cache activity started was stopped.
    /// </summary>
    [Test]
    public async Task Activities_nest_under_each_caller_and_never_stay_current_after_an_await([Values("memory", "redis", "two levels")] string backend)
    {
        Install(backend);
        var started = new ConcurrentQueue<Activity>();
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name is CachedDiagnostics.ActivitySourceName or "outsider.app",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = a =>
            {
                if (a.Source.Name == CachedDiagnostics.ActivitySourceName)
                {
                    started.Enqueue(a);
                }
            },
            ActivityStopped = a =>
            {
                if (a.Source.Name == CachedDiagnostics.ActivitySourceName)
                {
                    stopped.Enqueue(a);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        using var app = new ActivitySource("outsider.app");
        var service = new OutsiderMeteredService { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var wrongCurrent = new ConcurrentQueue<string>();

        async Task Caller(int i)
        {
            using var request = app.StartActivity("request " + i)!;
            for (var round = 0; round < 3; round++)
            {
                try
                {
                    await service.GetAsync(i % 4 == 3 ? 101 : i % 4);
                }
                catch (InvalidOperationException)
                {
                    // A failing body: its own answer.
                }

                if (Activity.Current != request)
                {
                    wrongCurrent.Enqueue($"caller {i} round {round}: {Activity.Current?.DisplayName ?? "(none)"}");
                }
            }
        }

        var callers = Enumerable.Range(0, Callers).Select(i => Task.Run(() => Caller(i))).ToArray();
        var waited = Stopwatch.StartNew();
        while (service.BodyCalls < 1)
        {
            Assert.That(waited.Elapsed, Is.LessThan(s_limit));
            await Task.Delay(1);
        }

        service.Gate.SetResult();
        await Task.WhenAll(callers).WaitAsync(s_limit);

        Assert.Multiple(() =>
        {
            Assert.That(wrongCurrent, Is.Empty, "the caller's activity is current after each await");
            Assert.That(started, Is.Not.Empty);
            foreach (var activity in started)
            {
                var ancestor = activity.Parent;
                while (ancestor is not null && ancestor.Source.Name != "outsider.app")
                {
                    ancestor = ancestor.Parent;
                }

                Assert.That(ancestor, Is.Not.Null, $"{activity.DisplayName} ({activity.GetTagItem("cache.backend")}) nests under a caller");
            }

            Assert.That(stopped.Count, Is.EqualTo(started.Count), "every cache activity ended");
            Assert.That(service.CurrentInBody, Is.All.StartsWith("outsider.app:request "), "each body runs under its caller's activity");
        });
    }

    /// <summary>
    /// docs/observability.md: a read that finds an entry whose tag was invalidated counts as a miss, not a hit. After
    /// the tag is invalidated, 16 concurrent callers find no valid entry: no hit is counted until the entry is loaded
    /// again, on any level, and the meter still agrees with the plugins.
    /// </summary>
    [Test]
    public async Task A_read_of_an_entry_whose_tag_was_invalidated_counts_as_a_miss_on_every_level([Values("memory", "redis", "two levels")] string backend)
    {
        var (_, ratios, _) = Install(backend);
        var service = new OutsiderMeteredService();
        Assert.That(await service.GetTaggedAsync(1), Is.EqualTo(10));
        Assert.That(await service.GetTaggedAsync(1), Is.EqualTo(10), "a hit");
        await service.ForgetAsync(1);
        using var recorder = new CachedMeterRecorder(OutsiderMeteredService.Alias);
        var ratioHitsBefore = ratios.Sum(static r => r.Hits);
        var bodiesBefore = service.BodyCalls;

        Assert.That(await service.GetTaggedAsync(1), Is.EqualTo(10));

        Assert.Multiple(() =>
        {
            Assert.That(service.BodyCalls - bodiesBefore, Is.EqualTo(1), "the invalidated entry was loaded again");
            Assert.That(recorder.Sum("cached.hits"), Is.Zero, "the read that found the invalidated entry is no hit: " + string.Join(", ", recorder.Of("cached.hits").Select(static m => m["cache.level"] ?? "one level")));
            Assert.That(recorder.Sum("cached.misses"), Is.GreaterThan(0));
            Assert.That(ratios.Sum(static r => r.Hits) - ratioHitsBefore, Is.Zero, "HitMissRatioPlugin agrees");
        });
    }
}
