using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Cached.Diagnostics;
using Cached.Plugins;
using Cached.Serializers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests;

/// <summary>
/// An outside review of docs/multilevel.md, docs/tags.md and docs/observability.md on the memory backend: each test
/// checks one claim, quoted above it, through the public API, where no neighbouring test checks it directly.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderDocsClaimsReviewTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(15);

    private ClaimLogs _logs = null!;

    [SetUp]
    public void SetUp()
    {
        Caches.Reset();
        _logs = new ClaimLogs();
        CachedLogging.LoggerFactory = _logs;
    }

    [TearDown]
    public void TearDown()
    {
        CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
        Caches.Reset();
    }

    // =================================================================================================================
    // docs/observability.md
    // =================================================================================================================

    // docs/observability.md, Metrics: the table "| Instrument | Type | Unit | Tags |" (cached.hits counter {hit}, ...,
    // cached.command.duration histogram s, ..., cached.resilience.background_failures counter {failure}).
    [Test]
    public void Every_instrument_of_the_table_is_published_on_the_Cached_meter_with_its_type_and_unit()
    {
        var published = new ConcurrentDictionary<string, Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == CachedDiagnostics.MeterName)
                {
                    published[instrument.Name] = instrument;
                }
            },
        };
        listener.Start();
        // Touch every part that owns instruments: a command, a two-level publish, a fail-safe answer.
        using (var two = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache(), new MemoryBackplane()))
        {
            two.Set("k", 1);
        }

        var time = new FakeTimeProvider();
        using var memory = new SimpleMemoryCache { TimeProvider = time };
        var failSafe = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(1), FailSafe = TimeSpan.FromHours(1) };
        memory.GetOrSet("fs", _ => "v1", failSafe);
        time.Advance(TimeSpan.FromSeconds(2));
        memory.GetOrSet<string>("fs", _ => throw new InvalidOperationException("source down"), failSafe);

        var expected = new (string Name, Type Kind, string Unit)[]
        {
            ("cached.hits", typeof(Counter<>), "{hit}"),
            ("cached.misses", typeof(Counter<>), "{miss}"),
            ("cached.sets", typeof(Counter<>), "{entry}"),
            ("cached.errors", typeof(Counter<>), "{error}"),
            ("cached.command.duration", typeof(Histogram<>), "s"),
            ("cached.backplane.published", typeof(Counter<>), "{message}"),
            ("cached.backplane.received", typeof(Counter<>), "{message}"),
            ("cached.l2.deferred_writes", typeof(Counter<>), "{write}"),
            ("cached.l2.dropped_writes", typeof(Counter<>), "{write}"),
            ("cached.resilience.stale_served", typeof(Counter<>), "{call}"),
            ("cached.resilience.soft_timeouts", typeof(Counter<>), "{call}"),
            ("cached.resilience.hard_timeouts", typeof(Counter<>), "{call}"),
            ("cached.resilience.eager_refreshes", typeof(Counter<>), "{refresh}"),
            ("cached.resilience.background_failures", typeof(Counter<>), "{failure}"),
        };
        Assert.Multiple(() =>
        {
            foreach (var (name, kind, unit) in expected)
            {
                Assert.That(published.TryGetValue(name, out var instrument), Is.True, name + " is published");
                if (instrument is null)
                {
                    continue;
                }

                Assert.That(instrument.GetType().GetGenericTypeDefinition(), Is.EqualTo(kind), name + "'s type");
                Assert.That(instrument.Unit, Is.EqualTo(unit), name + "'s unit");
            }
        });
    }

    // docs/observability.md, Metrics: "On .NET 10 (the package's net10.0 build ...) the duration histogram advises
    // buckets from 10 µs to 5 s".
    [Test]
    public void The_duration_histogram_advises_buckets_from_10_microseconds_to_5_seconds()
    {
        Histogram<double>? duration = null;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == CachedDiagnostics.MeterName && instrument.Name == "cached.command.duration")
                {
                    duration = instrument as Histogram<double>;
                }
            },
        };
        listener.Start();
        using var cache = new SimpleMemoryCache();
        cache.Set("k", 1);

        Assert.That(duration, Is.Not.Null);
        var buckets = duration!.Advice?.HistogramBucketBoundaries;
        Assert.That(buckets, Is.Not.Null.And.Not.Empty);
        Assert.That(buckets![0], Is.EqualTo(0.00001));
        Assert.That(buckets[^1], Is.EqualTo(5));
    }

    // docs/observability.md, Traces: "one client activity per command (`cache get`, `cache set`, ...) with the tags
    // `cache.command`, `cache.backend`, `cache.alias`, `cache.key` (for single-key commands) and, for reads, `cache.hits`."
    [Test]
    public void A_batch_read_is_an_activity_with_its_hits_and_no_single_key_and_a_write_has_its_key_but_no_hits()
    {
        const string Alias = "docs_claims_traces";
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name == CachedDiagnostics.ActivitySourceName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        using var cache = new SimpleMemoryCache { Alias = Alias };

        cache.Set("a", 1);
        cache.MultiGet<int>(["a", "b", "c"]);

        var mine = stopped.Where(static a => Equals(a.GetTagItem("cache.alias"), Alias)).ToList();
        Assert.That(mine.Select(static a => a.DisplayName), Is.EqualTo(new[] { "cache set", "cache multiget" }));
        Assert.Multiple(() =>
        {
            Assert.That(mine[0].Kind, Is.EqualTo(ActivityKind.Client));
            Assert.That(mine[0].GetTagItem("cache.key"), Is.EqualTo("a"));
            Assert.That(mine[0].GetTagItem("cache.hits"), Is.Null, "cache.hits is for reads");
            Assert.That(mine[0].GetTagItem("cache.command"), Is.EqualTo("set"));
            Assert.That(mine[1].Kind, Is.EqualTo(ActivityKind.Client));
            Assert.That(mine[1].GetTagItem("cache.key"), Is.Null, "cache.key is for single-key commands");
            Assert.That(mine[1].GetTagItem("cache.hits"), Is.EqualTo(1));
            Assert.That(mine[1].GetTagItem("cache.command"), Is.EqualTo("multiget"));
            Assert.That(mine[1].GetTagItem("cache.backend"), Is.EqualTo("SimpleMemoryCache"));
        });
    }

    // docs/observability.md, Logging: "Nothing is logged on a hit or a miss. Commands called directly on a cache throw
    // instead of logging."
    [Test]
    public void Hits_and_misses_log_nothing_and_a_direct_command_that_fails_throws_without_logging()
    {
        var down = new DownPlugin();
        using var cache = new SimpleMemoryCache { Plugins = [down] };
        cache.Set("k", 1);
        cache.Get<int>("k");
        cache.Get<int>("missing");
        cache.GetOrSet("k", _ => 2);
        down.On = true;

        Assert.That(() => cache.Get<int>("k"), Throws.InstanceOf<CacheBackendException>());
        Assert.That(() => cache.Set("k", 3), Throws.InstanceOf<CacheBackendException>());
        Assert.That(_logs.Entries, Is.Empty);
    }

    // docs/observability.md, Metrics: "`cached.l2.deferred_writes` | counter | `{write}` | `cache.alias`, `cache.action`"
    // and "writes kept for an L2 that could not be reached"; docs/multilevel.md, Watching it: "cached.l2.deferred_writes".
    [Test]
    public void A_write_kept_for_an_unreachable_L2_is_counted_as_deferred_with_its_alias_and_action()
    {
        const string Alias = "docs_claims_deferred";
        using var recorder = new ClaimMeter(Alias);
        var down = new DownPlugin { On = true };
        Caches.AddInstance(Alias, new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Plugins = [down] }, new MemoryBackplane()));
        var cache = (MultiLevelCache)Caches.Get(Alias);

        cache.Set("k", 1);

        var deferred = recorder.Of("cached.l2.deferred_writes");
        Assert.That(deferred.Sum(static m => m.Value), Is.EqualTo(1));
        Assert.That(deferred[0].Tags.GetValueOrDefault("cache.action") as string, Is.Not.Null.And.Not.Empty);
        Assert.That(cache.PendingWriteCount, Is.EqualTo(1));
        down.On = false;
    }

    // docs/multilevel.md, When L2 or the backplane is down: "at most `PendingWriteLimit` (10,000; beyond it the oldest
    // write of a key is dropped and logged as an error)"; docs/observability.md: "`cached.l2.dropped_writes` | counter |
    // `{write}` | `cache.alias`, `cache.action`" and event 26 "a kept write dropped (26, 27, errors)".
    [Test]
    public void Past_the_limit_the_oldest_kept_write_is_dropped_counted_and_logged_as_an_error()
    {
        const string Alias = "docs_claims_dropped";
        using var recorder = new ClaimMeter(Alias);
        var down = new DownPlugin { On = true };
        Assert.That(new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache()).PendingWriteLimit, Is.EqualTo(10_000));
        Caches.AddInstance(Alias, new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Plugins = [down] }, new MemoryBackplane()) { PendingWriteLimit = 1 });
        var cache = (MultiLevelCache)Caches.Get(Alias);

        cache.Set("a", 1);
        cache.Set("b", 2);

        var dropped = recorder.Of("cached.l2.dropped_writes");
        Assert.Multiple(() =>
        {
            Assert.That(cache.PendingWriteCount, Is.EqualTo(1));
            Assert.That(dropped.Sum(static m => m.Value), Is.EqualTo(1));
            Assert.That(dropped.FirstOrDefault()?.Tags.GetValueOrDefault("cache.action") as string, Is.Not.Null.And.Not.Empty);
            var logged = _logs.Entries.Where(static e => e.Id == 26).ToList();
            Assert.That(logged, Has.Count.EqualTo(1));
            Assert.That(logged.Select(static e => e.Level), Is.All.EqualTo(LogLevel.Error));
        });
        down.On = false;
    }

    // docs/observability.md, event ids: "L1 emptied after lost messages (23, information)"; docs/multilevel.md, Watching
    // it: "Logs (category `Cached`): ... L1 emptied after lost messages (information)".
    [Test]
    public void Emptying_L1_after_lost_messages_is_logged_as_information_event_23_in_category_Cached()
    {
        var backplane = new MemoryBackplane();
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache(), backplane);
        cache.Set("k", 1);
        Assert.That(cache.IsInL1("k"), Is.True);

        backplane.ReportMessagesMayBeLost();

        Assert.That(cache.IsInL1("k"), Is.False);
        var entry = _logs.Entries.SingleOrDefault(static e => e.Id == 23);
        Assert.That(entry, Is.Not.Null);
        Assert.That(entry!.Level, Is.EqualTo(LogLevel.Information));
        Assert.That(entry.Category, Is.EqualTo("Cached"));
    }

    // docs/observability.md, event ids: "kept writes written (28, information)".
    [Test]
    public void Kept_writes_that_land_are_logged_as_information_event_28()
    {
        var down = new DownPlugin { On = true };
        var backplane = new MemoryBackplane();
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Plugins = [down] }, backplane);
        cache.Set("k", 1);
        Assert.That(cache.PendingWriteCount, Is.EqualTo(1));

        down.On = false;
        backplane.ReportMessagesMayBeLost(); // "tried at once when the backplane's connection comes back"
        var waited = Stopwatch.StartNew();
        while (cache.PendingWriteCount > 0 || !_logs.Entries.Any(static e => e.Id == 28))
        {
            Assert.That(waited.Elapsed, Is.LessThan(s_limit), "the kept write lands and is logged");
            Thread.Sleep(10);
        }

        Assert.That(cache.L2.Get<int>("k"), Is.EqualTo(1));
        Assert.That(_logs.Entries.First(static e => e.Id == 28).Level, Is.EqualTo(LogLevel.Information));
    }

    // =================================================================================================================
    // docs/multilevel.md: fail-safe from L1, and its log event, against docs/observability.md's table
    // =================================================================================================================

    // docs/multilevel.md, When L2 or the backplane is down: "for a `GetOrSet` ... with `FailSafe` whose read of L2 fails,
    // that copy is the last value: the factory runs, and when it fails too the call answers the copy ... (logged as a
    // warning, event id 30)".
    [Test]
    public void A_stale_L1_copy_served_for_fail_safe_while_L2_fails_is_logged_as_warning_30()
    {
        var (cache, down) = FailSafeFromL1();
        using (cache)
        {
            var answer = cache.GetOrSet<string>("k", _ => throw new InvalidOperationException("source down"), FailSafeOptions);

            Assert.That(answer, Is.EqualTo("v1"));
            var entry = _logs.Entries.FirstOrDefault(static e => e.Id == 30);
            Assert.That(entry, Is.Not.Null, "event 30 is logged");
            Assert.That(entry!.Level, Is.EqualTo(LogLevel.Warning));
            down.On = false;
        }
    }

    // docs/observability.md, Logging: the event id table lists 1-13, "20–30 | a two-level cache: ..." and "40–45 |
    // `RedisBackplane`: ...". A user who routes or filters Cached's events by that table must find each id a
    // two-level cache logs in it. (The table said 20–29 and left out event 30, which this test found.)
    [Test]
    public void Every_event_a_two_level_cache_logs_when_it_serves_a_stale_L1_copy_is_in_the_observability_table()
    {
        var documented = Enumerable.Range(1, 13).Concat(Enumerable.Range(20, 11)).Concat(Enumerable.Range(40, 6)).ToHashSet();
        var (cache, down) = FailSafeFromL1();
        using (cache)
        {
            cache.GetOrSet<string>("k", _ => throw new InvalidOperationException("source down"), FailSafeOptions);
            down.On = false;
        }

        var ids = _logs.Entries.Select(static e => e.Id).Distinct().ToList();
        Assert.That(ids, Is.Not.Empty);
        Assert.That(ids.Where(id => !documented.Contains(id)), Is.Empty, "event ids logged that docs/observability.md does not list");
    }

    // docs/multilevel.md, When L2 or the backplane is down: "The copy is then made fresh again for `FailSafeThrottle` in
    // this node's L1 alone ... so the node's next calls are hits ...; an entry with tags is not (its tags' versions are
    // in L2)."
    [Test]
    public void A_tagged_stale_copy_served_for_fail_safe_is_not_made_fresh_again_so_the_next_call_runs_the_factory()
    {
        var time = new FakeTimeProvider();
        var down = new DownPlugin();
        var tagged = FailSafeOptions with { Tags = ["t"] };
        using var cache = new MultiLevelCache(
            new SimpleMemoryCache { TimeProvider = time },
            new SimpleMemoryCache { TimeProvider = time, Plugins = [down] },
            new MemoryBackplane());
        cache.GetOrSet("k", _ => "v1", tagged);
        Assert.That(cache.IsInL1("k"), Is.True, "a tagged entry is copied into L1 with a backplane");
        time.Advance(TimeSpan.FromSeconds(11));
        down.On = true;
        var calls = 0;
        string Failing(CancellationToken _)
        {
            calls++;
            throw new InvalidOperationException("source down");
        }

        Assert.That(cache.GetOrSet("k", Failing, tagged), Is.EqualTo("v1"));
        Assert.That(cache.GetOrSet("k", Failing, tagged), Is.EqualTo("v1"));
        Assert.That(calls, Is.EqualTo(2), "not fresh for the throttle: each call runs the factory");
        down.On = false;
    }

    // =================================================================================================================
    // docs/multilevel.md: levels, commands, messages
    // =================================================================================================================

    // docs/multilevel.md: "`Namespace`, `Serializer`, `Timeout` and `Ttl` are L2's" and "A two-level cache has no
    // serializer or plugins of its own: give them to a level."
    [Test]
    public void Namespace_serializer_timeout_and_ttl_are_L2_s_and_the_two_level_cache_has_no_plugins()
    {
        var serializer = new JsonSerializer();
        var l2 = new SimpleMemoryCache { Namespace = "main", Serializer = serializer, Timeout = TimeSpan.FromSeconds(3), Ttl = TimeSpan.FromMinutes(7) };
        using var cache = new MultiLevelCache(new SimpleMemoryCache { Namespace = "l1", Plugins = [new DownPlugin()] }, l2);

        Assert.Multiple(() =>
        {
            Assert.That(cache.Namespace, Is.EqualTo("main"));
            Assert.That(cache.Serializer, Is.SameAs(serializer));
            Assert.That(cache.Timeout, Is.EqualTo(TimeSpan.FromSeconds(3)));
            Assert.That(cache.Ttl, Is.EqualTo(TimeSpan.FromMinutes(7)));
            Assert.That(cache.Plugins, Is.Empty);
        });
    }

    // docs/multilevel.md, What each command does: "`Exists` | True when L1 holds the key, else L2 answers."
    [Test]
    public void Exists_is_true_while_L1_holds_the_key_else_L2_answers()
    {
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache(), new MemoryBackplane());
        cache.Set("both", 1);
        cache.L2.Delete("both"); // behind the two-level cache's back: only L1 holds it now
        cache.L2.Set("l2only", 2);

        Assert.Multiple(() =>
        {
            Assert.That(cache.Exists("both"), Is.True, "L1 holds it");
            Assert.That(cache.Exists("l2only"), Is.True, "L2 answers");
            Assert.That(cache.Exists("nowhere"), Is.False);
        });
    }

    // docs/multilevel.md, What each command does: "`Delete`, `Expire` | L2, then L1 drops its copy (the next read takes
    // the new life from L2), then the backplane."
    [Test]
    public async Task Expire_drops_the_L1_copy_and_the_next_read_takes_the_new_life_from_L2([Values] bool async)
    {
        var time = new FakeTimeProvider();
        using var cache = new MultiLevelCache(new SimpleMemoryCache { TimeProvider = time }, new SimpleMemoryCache { TimeProvider = time }, new MemoryBackplane());
        cache.Set("k", "v", ttl: TimeSpan.FromHours(1));
        Assert.That(cache.IsInL1("k"), Is.True);

        var expired = async ? await cache.ExpireAsync("k", TimeSpan.FromSeconds(5)) : cache.Expire("k", TimeSpan.FromSeconds(5));

        Assert.That(expired, Is.True);
        Assert.That(cache.IsInL1("k"), Is.False, "L1 dropped its copy");
        Assert.That(cache.Get<string>("k"), Is.EqualTo("v"));
        Assert.That(cache.IsInL1("k"), Is.True, "copied again");
        time.Advance(TimeSpan.FromSeconds(6));
        Assert.That(cache.IsInL1("k"), Is.False, "the copy took L2's new life");
        Assert.That(cache.Get<string>("k"), Is.Null);
    }

    // docs/multilevel.md, What each command does: "`Increment` | L2 (atomic across nodes), then L1 drops its copy, then
    // the backplane."
    [Test]
    public void Increment_drops_this_node_s_copy_and_tells_the_other_nodes()
    {
        var backplane = new MemoryBackplane();
        using var a = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache(), backplane);
        var spy = new Spy(a.L2);
        using var subscription = backplane.Subscribe(a.Channel, spy);
        a.Set("n", 1L);
        Assert.That(a.Get<long>("n"), Is.EqualTo(1));
        Assert.That(a.IsInL1("n"), Is.True);
        spy.Messages.Clear();

        Assert.That(a.Increment("n", 2), Is.EqualTo(3));

        Assert.That(a.IsInL1("n"), Is.False);
        Assert.That(spy.Messages.Select(static m => m.Message.Keys), Has.Some.Contains("n"));
        Assert.That(a.Get<long>("n"), Is.EqualTo(3));
    }

    // docs/multilevel.md, The backplane: "Every write is published **after** L2 took it. ... A message carries the sender,
    // the action (set, delete, expire, clear, tags), the namespace, the keys and a timestamp" and "Channels. One per key
    // space: `cached:` followed by L2's namespace"; the table: "`Add` | L2 ..., then L1, then the backplane."
    [Test]
    public void Each_write_is_published_after_L2_took_it_with_its_sender_action_namespace_and_keys()
    {
        var backplane = new MemoryBackplane();
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Namespace = "shop" }, backplane);
        Assert.That(cache.Channel, Is.EqualTo("cached:shop"));
        var spy = new Spy(cache.L2);
        using var subscription = backplane.Subscribe(cache.Channel, spy);
        var before = DateTimeOffset.UtcNow.AddSeconds(-5);

        cache.Set("s", "v1");
        cache.Add("a", "v2");
        cache.MultiSet([new KeyValuePair<string, string>("m", "v3")]);
        cache.Expire("s", TimeSpan.FromMinutes(1));
        cache.Delete("a");
        cache.InvalidateTags("t1");
        cache.Clear();

        var seen = spy.Messages.ToList();
        Assert.Multiple(() =>
        {
            Assert.That(seen.Select(static m => m.Message.Action), Is.EqualTo(new[]
            {
                BackplaneAction.Set, BackplaneAction.Set, BackplaneAction.Set, BackplaneAction.Expire, BackplaneAction.Delete,
                BackplaneAction.Tags, BackplaneAction.Clear,
            }));
            Assert.That(seen.Select(static m => m.Message.SenderId), Is.All.EqualTo(cache.InstanceId));
            Assert.That(seen.Take(5).Select(static m => m.Message.Namespace), Is.All.EqualTo("shop"));
            Assert.That(seen.Select(static m => m.Message.Keys.FirstOrDefault()).Take(6), Is.EqualTo(new[] { "s", "a", "m", "s", "a", "t1" }));
            Assert.That(seen.Select(static m => m.Message.Timestamp), Is.All.GreaterThan(before));
            // What L2 held when each message arrived: the write had landed.
            Assert.That(seen.Take(5).Select(static m => m.L2HeldKey), Is.EqualTo(new bool?[] { true, true, true, true, false }));
        });
    }

    // docs/multilevel.md, An L1 bound per entry: "`CacheEntryOptions.LocalTtl` bounds the L1 copies one `GetOrSet`/`Set`
    // call makes, below `L1Ttl`; zero keeps the entry out of L1 (it still goes to L2 and the backplane)."
    [Test]
    public void LocalTtl_bounds_the_copy_below_L1Ttl_and_zero_keeps_the_entry_out_of_L1_but_in_L2_and_on_the_backplane()
    {
        var time = new FakeTimeProvider();
        var backplane = new MemoryBackplane();
        using var cache = new MultiLevelCache(new SimpleMemoryCache { TimeProvider = time }, new SimpleMemoryCache { TimeProvider = time }, backplane)
        {
            L1Ttl = TimeSpan.FromMinutes(5),
        };
        var spy = new Spy(cache.L2);
        using var subscription = backplane.Subscribe(cache.Channel, spy);

        cache.Set("bounded", "v", new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(10), LocalTtl = TimeSpan.FromSeconds(30) });
        cache.Set("out", "w", new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(10), LocalTtl = TimeSpan.Zero });
        var outByGetOrSet = cache.GetOrSet("out2", _ => "x", new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(10), LocalTtl = TimeSpan.Zero });

        Assert.Multiple(() =>
        {
            Assert.That(cache.IsInL1("bounded"), Is.True);
            Assert.That(cache.IsInL1("out"), Is.False, "zero keeps it out of L1");
            Assert.That(cache.IsInL1("out2"), Is.False, "zero keeps a GetOrSet's entry out of L1");
            Assert.That(outByGetOrSet, Is.EqualTo("x"));
            Assert.That(cache.L2.Exists("out"), Is.True, "it still goes to L2");
            Assert.That(spy.Messages.SelectMany(static m => m.Message.Keys), Does.Contain("out"), "and to the backplane");
        });
        time.Advance(TimeSpan.FromSeconds(31));
        Assert.That(cache.IsInL1("bounded"), Is.False, "the copy lived LocalTtl, below L1Ttl");
        Assert.That(cache.L2.Exists("bounded"), Is.True);
    }

    // docs/multilevel.md, What L1 holds: "with its default `SimpleMemoryCache` (`NullSerializer`), the object itself. So
    // on the node that holds the copy, a value changed after it was written or read changes what that node serves ...
    // or give L1 a copying serializer, `new SimpleMemoryCache { Serializer = new JsonSerializer() }`, whose copies are
    // bytes and whose reads are new objects".
    [Test]
    public void L1_holds_the_object_itself_by_default_and_new_objects_with_a_copying_serializer()
    {
        using var byReference = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Serializer = new JsonSerializer() }, new MemoryBackplane());
        var list = new List<int> { 1 };
        byReference.Set("k", list);
        list.Add(2);
        Assert.That(byReference.Get<List<int>>("k"), Is.SameAs(list), "the object itself");

        using var copying = new MultiLevelCache(new SimpleMemoryCache { Serializer = new JsonSerializer() }, new SimpleMemoryCache { Serializer = new JsonSerializer() }, new MemoryBackplane());
        var other = new List<int> { 1 };
        copying.Set("k", other);
        Assert.That(copying.IsInL1("k"), Is.True);
        other.Add(2);
        var first = copying.Get<List<int>>("k");
        var second = copying.Get<List<int>>("k");
        Assert.That(first, Is.EqualTo(new[] { 1 }), "a copy: the change after the write is not served");
        Assert.That(first, Is.Not.SameAs(second), "each read is a new object");
    }

    // docs/multilevel.md, When L2 or the backplane is down: "A write with tags (`CacheEntryOptions.Tags`) on a Redis L2
    // fails as L2 does too ... (An L2 in this process, a `SimpleMemoryCache`, reads its tag records without a command;
    // only its write can fail, and such a write is kept as an untagged one is.)" The page said every tagged write
    // failed; this test found the in-process L2 keeping it, and the page was narrowed. Here L2 is a SimpleMemoryCache
    // whose every command fails as an unreachable server does (a plugin); OutsiderDocsClaimsRedisReviewTests checks
    // the Redis half with a Redis L2 whose connection is cut.
    [Test]
    public async Task A_tagged_write_while_an_in_process_L2_is_unreachable_is_kept_as_an_untagged_one_is([Values] bool async)
    {
        var down = new DownPlugin();
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Plugins = [down] }, new MemoryBackplane());
        var tagged = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), Tags = ["t"] };
        cache.Set("k", "old", tagged);
        Assert.That(cache.IsInL1("k"), Is.True);
        down.On = true;

        var result = async ? await cache.SetAsync("k", "new", tagged) : cache.Set("k", "new", tagged);

        Assert.That(result, Is.True);
        Assert.That(cache.PendingWriteCount, Is.EqualTo(1), "kept for L2");
        Assert.That(cache.Get<string>("k"), Is.EqualTo("new"), "L1 takes the kept write at once");
        down.On = false;
        WaitFor(() => cache.PendingWriteCount == 0, "the kept write lands once L2 is back");
        Assert.That(cache.L2.Get<string>("k"), Is.EqualTo("new"));
    }

    // docs/multilevel.md, When L2 or the backplane is down: "Each write that lands drops this node's own copy and is
    // published."
    [Test]
    public void A_kept_write_that_lands_drops_this_node_s_copy_and_is_published()
    {
        var down = new DownPlugin { On = true };
        var backplane = new MemoryBackplane();
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Plugins = [down] }, backplane);
        var spy = new Spy(cache.L2);
        using var subscription = backplane.Subscribe(cache.Channel, spy);
        cache.Set("k", "during");
        Assert.That(cache.PendingWriteCount, Is.EqualTo(1));
        Assert.That(cache.IsInL1("k"), Is.True, "L1 takes the kept write at once");
        spy.Messages.Clear();

        down.On = false; // the retry loop's own back-off (up to 5 s) finds L2 back
        WaitFor(() => cache.PendingWriteCount == 0 && spy.Messages.Any(static m => m.Message.Keys.Contains("k")), "the kept write lands and is published");

        Assert.That(cache.L2.Get<string>("k"), Is.EqualTo("during"));
        Assert.That(cache.IsInL1("k"), Is.False, "the landing dropped this node's own copy");
    }

    // docs/multilevel.md, When L2 or the backplane is down: "A value whose time to live ran out while it waited is not
    // written; the key is deleted instead."
    [Test]
    public void A_kept_value_whose_life_ran_out_while_it_waited_is_not_written_and_the_key_is_deleted()
    {
        var down = new DownPlugin();
        var backplane = new MemoryBackplane();
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Plugins = [down] }, backplane);
        cache.L2.Set("k", "before");
        down.On = true;
        cache.Set("k", "short", ttl: TimeSpan.FromMilliseconds(300));
        Assert.That(cache.PendingWriteCount, Is.EqualTo(1));
        Thread.Sleep(500);

        down.On = false;
        backplane.ReportMessagesMayBeLost();
        WaitFor(() => cache.PendingWriteCount == 0, "the kept write is done");

        Assert.That(cache.L2.Exists("k"), Is.False, "deleted instead of written, and the value from before is gone too");
        Assert.That(cache.Get<string>("k"), Is.Null);
    }

    // docs/multilevel.md, When L2 or the backplane is down: "A kept `InvalidateTags` is retried first and is never the
    // one dropped".
    [Test]
    public void A_kept_invalidation_is_retried_before_the_writes_kept_before_it()
    {
        var down = new DownPlugin { On = true };
        var seen = new SeenPlugin();
        var backplane = new MemoryBackplane();
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Plugins = [down, seen] }, backplane);
        cache.Set("a", 1);
        cache.Set("b", 2);
        cache.InvalidateTags("t");
        Assert.That(cache.PendingWriteCount, Is.EqualTo(3));
        Thread.Sleep(300); // no retry taken before the invalidation was kept is still on its way
        seen.Contexts.Clear();

        down.On = false;
        backplane.ReportMessagesMayBeLost();
        WaitFor(() => cache.PendingWriteCount == 0, "the kept writes land");

        var landed = seen.Contexts.Select(static c => c.Command).Where(static c => c is CacheCommand.Set or CacheCommand.InvalidateTags).ToList();
        Assert.That(landed, Is.Not.Empty);
        Assert.That(landed[0], Is.EqualTo(CacheCommand.InvalidateTags), "retried first: " + string.Join(", ", landed));
    }

    // docs/multilevel.md, What L1 holds: "On an L1 of another type than `SimpleMemoryCache`, which cannot store and move
    // the fence in one step, a write drops the key instead of copying its value."
    [Test]
    public void On_an_L1_of_another_type_a_write_drops_the_key_instead_of_copying_it()
    {
        var l1 = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache());
        using var cache = new MultiLevelCache(l1, new SimpleMemoryCache(), new MemoryBackplane());
        cache.Get<string>("k"); // the subscription is made before L1 takes a copy
        l1.Set("k", "stale");

        cache.Set("k", "v");

        Assert.That(cache.IsInL1("k"), Is.False, "dropped, not copied");
        Assert.That(cache.Get<string>("k"), Is.EqualTo("v"));
    }

    // docs/tags.md, What an invalidation guarantees, Fail-safe: "With `FailSafe` set it is still the last value: the
    // caller whose factory fails (or, with `SoftTimeout`, is slow) is answered with it. Unlike an expired last value,
    // it is not made fresh again for the throttle: every other reader still misses it."
    [Test]
    public async Task An_invalidated_last_value_answers_a_caller_whose_factory_is_slow_and_other_readers_still_miss()
    {
        using var cache = new SimpleMemoryCache();
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), FailSafe = TimeSpan.FromHours(1), SoftTimeout = TimeSpan.FromMilliseconds(50), Tags = ["t"] };
        await cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), options);
        cache.InvalidateTags("t");
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var answer = await cache.GetOrSetAsync("k", async _ => { await release.Task; return "v2"; }, options).AsTask().WaitAsync(TimeSpan.FromSeconds(5));

        Assert.That(answer, Is.EqualTo("v1"), "the slow caller gets the last value at the soft timeout");
        Assert.That(cache.Get<string>("k"), Is.Null, "other readers still miss it");
        Assert.That(cache.TryGet<string>("k", out _), Is.False);
        release.SetResult();
    }

    // docs/multilevel.md, Watching it: "Logs (category `Cached`): a failed publish, subscription or L1 write
    // (warnings)"; docs/observability.md: "a failed subscription (20)"; docs/multilevel.md, Subscribing: "If it fails,
    // L1 takes nothing (reads go to L2)".
    [Test]
    public void A_failed_subscription_is_logged_as_warning_20_and_L1_takes_nothing()
    {
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache(), new RefusingBackplane());
        cache.L2.Set("k", "v");

        Assert.That(cache.Get<string>("k"), Is.EqualTo("v"));

        Assert.That(cache.IsInL1("k"), Is.False);
        var entry = _logs.Entries.FirstOrDefault(static e => e.Id == 20);
        Assert.That(entry, Is.Not.Null);
        Assert.That(entry!.Level, Is.EqualTo(LogLevel.Warning));
        Assert.That(entry.Category, Is.EqualTo("Cached"));
    }

    // docs/tags.md, What an invalidation guarantees, Concurrent callers: "A caller that joins a computation begun before
    // an invalidation this process made, or heard of through the backplane, computes anew once instead of taking its
    // value."
    [Test]
    public async Task A_caller_joining_a_computation_begun_before_an_invalidation_heard_through_the_backplane_computes_anew()
    {
        var l2 = new SimpleMemoryCache();
        var backplane = new MemoryBackplane();
        using var a = new MultiLevelCache(new SimpleMemoryCache(), l2, backplane) { OwnsBackplane = false };
        using var b = new MultiLevelCache(new SimpleMemoryCache(), l2, backplane) { OwnsBackplane = false };
        a.Get<string>("warm");
        b.Get<string>("warm");
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), Tags = ["t"] };
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        async ValueTask<string> Factory(CancellationToken _)
        {
            var call = Interlocked.Increment(ref calls);
            if (call == 1)
            {
                started.TrySetResult();
                await gate.Task;
            }

            return "v" + call;
        }

        var first = a.GetOrSetAsync("k", Factory, options).AsTask();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(5));
        await b.InvalidateTagsAsync(["t"]); // a hears it through the backplane
        var second = a.GetOrSetAsync("k", Factory, options).AsTask();
        gate.SetResult();

        Assert.That(await first.WaitAsync(TimeSpan.FromSeconds(5)), Is.EqualTo("v1"));
        Assert.That(await second.WaitAsync(TimeSpan.FromSeconds(5)), Is.EqualTo("v2"), "computed anew");
        Assert.That(calls, Is.EqualTo(2), "once");
    }

    // docs/observability.md, event 10: "a cache cannot be reached ...: an outage begins. Logged once, ...; until the
    // cache answers again, methods run their bodies, skip their writes, and their faults are counted instead of logged
    // as 1–3. A `MultiLevelCache` is the exception: its L1 keeps answering, so its faults are logged per call and its
    // own events (20–29) tell the outage".
    [Test]
    public void A_two_level_cache_whose_L2_is_down_logs_its_read_through_faults_per_call_not_as_one_outage()
    {
        const string Alias = "docs_claims_outage";
        var down = new DownPlugin { On = true };
        Caches.AddInstance(Alias, new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Plugins = [down] }, new MemoryBackplane()));
        var cache = Caches.Get(Alias);

        for (var i = 0; i < 3; i++)
        {
            Assert.That(cache.GetOrSet("user:" + i, _ => i), Is.EqualTo(i), "the body answers");
        }

        var ids = _logs.Entries.Select(static e => e.Id).ToList();
        Assert.That(ids, Does.Not.Contain(10), "no single outage event for a two-level cache");
        Assert.That(ids.Count(static id => id is >= 1 and <= 3 or >= 20 and <= 29), Is.GreaterThanOrEqualTo(3), "logged per call");
        down.On = false;
    }

    // docs/multilevel.md, The backplane: "A message carries the sender, the action ..., the namespace, the keys and a
    // timestamp, in a versioned binary form (`BackplaneMessage.ToBytes`): a one-key message is 29 bytes plus the UTF-8 of
    // the namespace and of the key." A two-level cache's messages carry L2's namespace (`cached:shop` above), so here
    // with one. (The page said "plus the key's UTF-8"; this test found the namespace's bytes too.)
    [Test]
    public void A_one_key_message_of_a_namespaced_cache_is_29_bytes_plus_the_namespace_and_the_key()
    {
        var bytes = new BackplaneMessage(Guid.NewGuid(), BackplaneAction.Set, "shop", ["user:42"], DateTimeOffset.UtcNow).ToBytes();

        Assert.That(bytes, Has.Length.EqualTo(29 + "shop".Length + "user:42".Length));
    }

    // docs/multilevel.md, What each command does: "`Set`, `MultiSet` | L2, then L1 (for `ttl`, at most `L1Ttl`), then
    // the backplane."
    [Test]
    public void Set_and_MultiSet_copy_into_L1_for_their_ttl_at_most_L1Ttl()
    {
        var time = new FakeTimeProvider();
        using var cache = new MultiLevelCache(new SimpleMemoryCache { TimeProvider = time }, new SimpleMemoryCache { TimeProvider = time }, new MemoryBackplane())
        {
            L1Ttl = TimeSpan.FromSeconds(20),
        };
        cache.Get<int>("warm");

        cache.Set("short", 1, ttl: TimeSpan.FromSeconds(5));
        cache.Set("long", 2, ttl: TimeSpan.FromMinutes(5));
        cache.MultiSet([new KeyValuePair<string, int>("m-short", 3)], ttl: TimeSpan.FromSeconds(5));
        cache.MultiSet([new KeyValuePair<string, int>("m-long", 4)], ttl: TimeSpan.FromMinutes(5));
        Assert.That(new[] { "short", "long", "m-short", "m-long" }.Select(k => cache.IsInL1(k)), Is.All.True);

        time.Advance(TimeSpan.FromSeconds(6));
        Assert.That(cache.IsInL1("short"), Is.False, "Set: for its ttl");
        Assert.That(cache.IsInL1("m-short"), Is.False, "MultiSet: for its ttl");
        Assert.That(cache.IsInL1("long"), Is.True);
        time.Advance(TimeSpan.FromSeconds(15));
        Assert.That(cache.IsInL1("long"), Is.False, "Set: at most L1Ttl");
        Assert.That(cache.IsInL1("m-long"), Is.False, "MultiSet: at most L1Ttl");
        Assert.That(cache.L2.Get<int>("long"), Is.EqualTo(2));
    }

    // docs/multilevel.md, What each command does: "`MultiGet`, `MultiTryGet` | The keys L1 holds come from L1; every other
    // key is read from L2 in **one batch** (with their lifetimes), and the hits are copied into L1."
    [Test]
    public async Task MultiTryGet_copies_L2_s_hits_into_L1([Values] bool async)
    {
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache(), new MemoryBackplane());
        cache.Get<int>("warm");
        cache.L2.Set("a", 1);
        cache.L2.Set("b", 2);

        var found = async ? await cache.MultiTryGetAsync<int>(["a", "b", "c"]) : cache.MultiTryGet<int>(["a", "b", "c"]);

        Assert.That(found.Select(static r => r.Found), Is.EqualTo(new[] { true, true, false }));
        Assert.That(cache.IsInL1("a") && cache.IsInL1("b"), Is.True, "the hits are copied into L1");
        Assert.That(cache.IsInL1("c"), Is.False);
    }

    private static void WaitFor(Func<bool> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.That(waited.Elapsed, Is.LessThan(s_limit), what);
            Thread.Sleep(10);
        }
    }

    // =================================================================================================================
    // docs/tags.md
    // =================================================================================================================

    // docs/tags.md, With the cache: "Tags are compared by ordinal; duplicates count once; a null or empty tag throws
    // `ArgumentException`."
    [Test]
    public void Tags_are_ordinal_and_a_null_or_empty_tag_throws_on_every_cache([Values] bool twoLevels)
    {
        using var cache = twoLevels
            ? (ICache)new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache(), new MemoryBackplane())
            : new SimpleMemoryCache();
        cache.Set("k", "v", new CacheEntryOptions { Tags = ["User"] });
        cache.InvalidateTags("user", "USER");
        Assert.That(cache.Get<string>("k"), Is.EqualTo("v"), "another case is another tag");
        cache.InvalidateTags("User", "User");
        Assert.That(cache.Get<string>("k"), Is.Null);

        Assert.Multiple(() =>
        {
            Assert.That(() => cache.InvalidateTags(""), Throws.InstanceOf<ArgumentException>());
            Assert.That(() => cache.InvalidateTags((string)null!), Throws.InstanceOf<ArgumentException>());
            Assert.That(async () => await cache.InvalidateTagsAsync([""]), Throws.InstanceOf<ArgumentException>());
            Assert.That(() => cache.Set("k", "v", new CacheEntryOptions { Tags = [""] }), Throws.InstanceOf<ArgumentException>());
            Assert.That(() => cache.GetOrSet("k", _ => "v", new CacheEntryOptions { Tags = [null!] }), Throws.InstanceOf<ArgumentException>());
        });
    }

    // docs/tags.md, With the cache: "On a `BaseCache`, plugins see an invalidation as the command
    // `CacheCommand.InvalidateTags`, with the tags as its keys" together with "duplicates count once".
    [Test]
    public void Plugins_see_an_invalidation_s_tags_as_its_keys_each_once()
    {
        var seen = new SeenPlugin();
        using var cache = new SimpleMemoryCache { Plugins = [seen] };

        cache.InvalidateTags("a", "b", "a");

        var invalidation = seen.Contexts.Single(static c => c.Command == CacheCommand.InvalidateTags);
        Assert.That(invalidation.Keys, Is.EquivalentTo(new[] { "a", "b" }));
    }

    // docs/tags.md: "`InvalidateTags("user:42")` makes every entry that carries that tag a miss, whatever its key, its
    // method or its namespace".
    [Test]
    public void An_invalidation_reaches_tagged_entries_written_under_a_per_call_namespace([Values] bool twoLevels)
    {
        using var cache = twoLevels
            ? (ICache)new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Namespace = "main" }, new MemoryBackplane())
            : new SimpleMemoryCache { Namespace = "main" };
        var tagged = new CacheEntryOptions { Tags = ["t"] };
        cache.Set("k", "own", tagged);
        cache.Set("k", "other", tagged, @namespace: "other");
        Assert.That(cache.Get<string>("k", @namespace: "other"), Is.EqualTo("other"));

        cache.InvalidateTags("t");

        Assert.That(cache.Get<string>("k"), Is.Null);
        Assert.That(cache.Get<string>("k", @namespace: "other"), Is.Null);
        Assert.That(cache.GetOrSet("k", _ => "again", tagged, @namespace: "other"), Is.EqualTo("again"));
    }


    // =================================================================================================================
    // Helpers
    // =================================================================================================================

    private static readonly CacheEntryOptions FailSafeOptions = new() { Ttl = TimeSpan.FromSeconds(10), FailSafe = TimeSpan.FromMinutes(10) };

    /// <summary>A two-level cache holding a stale fail-safe copy of "k" in L1, with L2 down.</summary>
    private static (MultiLevelCache Cache, DownPlugin Down) FailSafeFromL1()
    {
        var time = new FakeTimeProvider();
        var down = new DownPlugin();
        var cache = new MultiLevelCache(
            new SimpleMemoryCache { TimeProvider = time },
            new SimpleMemoryCache { TimeProvider = time, Plugins = [down] },
            new MemoryBackplane());
        cache.GetOrSet("k", _ => "v1", FailSafeOptions);
        Assert.That(cache.IsInL1("k"), Is.True);
        time.Advance(TimeSpan.FromSeconds(11));
        down.On = true;
        return (cache, down);
    }

    /// <summary>While <see cref="On"/>, every command fails as an unreachable server does.</summary>
    private sealed class DownPlugin : CachePlugin
    {
        public volatile bool On;

        public override void Pre(CacheCommandContext context)
        {
            if (On)
            {
                throw new CacheBackendException($"down ({context.Command})", null, unreachable: true);
            }
        }
    }

    /// <summary>A backplane whose subscription always fails.</summary>
    private sealed class RefusingBackplane : ICacheBackplane
    {
        public IDisposable Subscribe(string channel, IBackplaneSubscriber subscriber) => throw new InvalidOperationException("no subscription");

        public void Publish(string channel, BackplaneMessage message)
        {
        }

        public ValueTask PublishAsync(string channel, BackplaneMessage message, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class SeenPlugin : CachePlugin
    {
        public ConcurrentQueue<(CacheCommand Command, IReadOnlyList<string>? Keys)> Contexts { get; } = new();

        public override void Pre(CacheCommandContext context) => Contexts.Enqueue((context.Command, context.Keys?.ToArray()));
    }

    /// <summary>A subscriber on the backplane: what arrived, and whether L2 held the message's first key then.</summary>
    private sealed class Spy(ICache l2) : IBackplaneSubscriber
    {
        public ConcurrentQueue<(BackplaneMessage Message, bool? L2HeldKey)> Messages { get; } = new();

        public void OnMessage(BackplaneMessage message)
        {
            bool? held = message.Keys.Count > 0 && message.Action != BackplaneAction.Tags
                ? l2.Exists(message.Keys[0], message.Namespace)
                : null;
            Messages.Enqueue((message, held));
        }

        public void OnMessagesMayBeLost()
        {
        }
    }

    internal sealed record ClaimLog(string Category, LogLevel Level, int Id, string Message);

    private sealed class ClaimLogs : ILoggerFactory
    {
        private readonly ConcurrentQueue<ClaimLog> _entries = new();

        public IReadOnlyList<ClaimLog> Entries => _entries.ToArray();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<ClaimLog> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
                => entries.Enqueue(new ClaimLog(category, logLevel, eventId.Id, formatter(state, exception)));
        }
    }

    internal sealed record ClaimMeasurement(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags);

    /// <summary>Listens to the Cached meter, keeping the measurements tagged with one alias.</summary>
    private sealed class ClaimMeter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<ClaimMeasurement> _measurements = new();

        public ClaimMeter(string alias)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == CachedDiagnostics.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(alias, instrument, value, tags));
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(alias, instrument, value, tags));
            _listener.Start();
        }

        public List<ClaimMeasurement> Of(string instrument) => _measurements.Where(m => m.Instrument == instrument).ToList();

        public void Dispose() => _listener.Dispose();

        private void Record(string alias, Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var copy = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                copy[tag.Key] = tag.Value;
            }

            if (Equals(copy.GetValueOrDefault("cache.alias"), alias))
            {
                _measurements.Enqueue(new ClaimMeasurement(instrument.Name, value, copy));
            }
        }
    }
}
