using System.Collections.Concurrent;
using System.Diagnostics;
using Cached.Diagnostics;
using Cached.Plugins;
using Cached.Serializers;
using Cached.Tests.Commands;
using Cached.Tests.Runtime;

namespace Cached.Tests.Diagnostics;

[NonParallelizable]
public class TelemetryTests
{
    private const string Alias = "telemetry_test";

    [Test]
    public void Reads_count_hits_and_misses_per_key_tagged_with_alias_and_backend()
    {
        using var recorder = new CachedMeterRecorder(Alias);
        var cache = new SimpleMemoryCache { Alias = Alias };
        cache.Set("a", "1");
        cache.Set("b", "2");

        cache.Get<string>("a");
        cache.Get<string>("missing");
        cache.MultiGet<string>(["a", "b", "x", "y", "z"]);

        Assert.Multiple(() =>
        {
            Assert.That(recorder.Sum("cached.hits"), Is.EqualTo(3));
            Assert.That(recorder.Sum("cached.misses"), Is.EqualTo(4));
            var hit = recorder.Of("cached.hits").First();
            Assert.That(hit["cache.alias"], Is.EqualTo(Alias));
            Assert.That(hit["cache.backend"], Is.EqualTo("SimpleMemoryCache"));
        });
    }

    [Test]
    public void A_stored_null_is_a_hit()
    {
        using var recorder = new CachedMeterRecorder(Alias);
        var cache = new SimpleMemoryCache { Alias = Alias };
        cache.Set<string?>("nothing", null);

        Assert.That(cache.TryGet<string?>("nothing", out _), Is.True);
        Assert.That(recorder.Sum("cached.hits"), Is.EqualTo(1));
        Assert.That(recorder.Sum("cached.misses"), Is.Zero);
    }

    [Test]
    public async Task Writes_count_every_entry_stored()
    {
        using var recorder = new CachedMeterRecorder(Alias);
        var cache = new SimpleMemoryCache { Alias = Alias };

        cache.Set("a", 1);
        await cache.AddAsync("b", 2);
        await cache.MultiSetAsync([new KeyValuePair<string, int>("c", 3), new("d", 4), new("e", 5)]);

        Assert.That(recorder.Sum("cached.sets"), Is.EqualTo(5));
    }

    [Test]
    public void Every_command_records_its_duration_tagged_with_the_command()
    {
        using var recorder = new CachedMeterRecorder(Alias);
        var cache = new SimpleMemoryCache { Alias = Alias };

        cache.Set("a", 1);
        cache.Get<int>("a");
        cache.Exists("a");
        cache.Increment("n");
        cache.Expire("a", TimeSpan.FromMinutes(1));
        cache.Delete("a");
        cache.Clear();

        var commands = recorder.Of("cached.command.duration").Select(static m => (string?)m["cache.command"]);
        Assert.Multiple(() =>
        {
            Assert.That(commands, Is.EqualTo(new[] { "set", "get", "exists", "increment", "expire", "delete", "clear" }));
            Assert.That(recorder.Of("cached.command.duration").All(static m => m.Value >= 0), Is.True);
        });
    }

    [Test]
    public void The_duration_is_the_time_between_the_pre_and_post_hooks_on_the_cache_s_clock()
    {
        using var recorder = new CachedMeterRecorder(Alias);
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var backend = new TestBackend { Alias = Alias, TimeProvider = clock, AfterRead = _ => clock.Advance(TimeSpan.FromMilliseconds(42)) };

        backend.Get<string>("k");

        Assert.That(recorder.Of("cached.command.duration").Single().Value, Is.EqualTo(0.042).Within(1e-9));
    }

    [Test]
    public void A_backend_fault_is_counted_as_an_error_with_its_type_and_still_thrown()
    {
        using var recorder = new CachedMeterRecorder(Alias);
        var backend = new TestBackend { Alias = Alias, FailReads = true };

        Assert.Throws<CacheException>(() => backend.Get<string>("k"));

        var error = recorder.Of("cached.errors").Single();
        Assert.Multiple(() =>
        {
            Assert.That(error.Value, Is.EqualTo(1));
            Assert.That(error["cache.command"], Is.EqualTo("get"));
            Assert.That(error["error.type"], Is.EqualTo(typeof(CacheException).FullName));
            Assert.That(error["cache.backend"], Is.EqualTo("TestBackend"));
            Assert.That(recorder.Of("cached.misses"), Is.Empty, "a failed read is neither a hit nor a miss");
        });
    }

    [Test]
    public async Task An_async_fault_after_the_command_has_gone_async_is_counted_too()
    {
        using var recorder = new CachedMeterRecorder(Alias);
        var backend = new TestBackend { Alias = Alias, FailReads = true, FaultsAreSynchronous = false };

        Assert.ThrowsAsync<CacheException>(async () => await backend.MultiGetAsync<string>(["a", "b"]));
        await Task.Yield();

        Assert.That(recorder.Of("cached.errors").Single()["cache.command"], Is.EqualTo("multiget"));
    }

    [Test]
    public void A_timeout_is_counted_as_an_error()
    {
        using var recorder = new CachedMeterRecorder(Alias);
        var cache = new GatedCache { Alias = Alias, Timeout = TimeSpan.FromMilliseconds(20) };

        Assert.ThrowsAsync<TimeoutException>(async () => await cache.GetAsync<string>("k"));

        Assert.That(recorder.Of("cached.errors").Single()["error.type"], Is.EqualTo(typeof(TimeoutException).FullName));
    }

    [Test]
    public void A_payload_that_cannot_be_read_is_counted_as_an_error()
    {
        using var recorder = new CachedMeterRecorder(Alias);
        var cache = new SimpleMemoryCache { Alias = Alias, Serializer = new StringSerializer() };
        cache.Set("k", "not a number");

        Assert.Throws<CacheSerializationException>(() => cache.Get<int>("k", serializer: new JsonSerializer()));

        Assert.That(recorder.Of("cached.errors").Single()["error.type"], Is.EqualTo(typeof(CacheSerializationException).FullName));
    }

    [Test]
    public void Add_on_an_existing_key_and_a_cancelled_command_are_outcomes_not_errors()
    {
        using var recorder = new CachedMeterRecorder(Alias);
        var cache = new GatedCache { Alias = Alias };
        var memory = new SimpleMemoryCache { Alias = Alias };
        memory.Set("k", 1);
        using var cancelled = new CancellationTokenSource();

        Assert.Throws<KeyExistsException>(() => memory.Add("k", 2));
        var pending = cache.GetAsync<string>("k", cancellationToken: cancelled.Token);
        cancelled.Cancel();
        Assert.ThrowsAsync<TaskCanceledException>(async () => await pending);

        Assert.That(recorder.Of("cached.errors"), Is.Empty);
    }

    [Test]
    public void Caches_created_by_alias_are_tagged_with_it()
    {
        Caches.Reset();
        try
        {
            Caches.Add(Alias, new CacheConfig { Cache = "Cached.SimpleMemoryCache" });
            using var recorder = new CachedMeterRecorder(Alias);

            Caches.Get(Alias).Get<string>("k");

            Assert.That(recorder.Sum("cached.misses"), Is.EqualTo(1));
        }
        finally
        {
            Caches.Reset();
        }
    }

    [Test]
    public void Plugins_and_telemetry_see_the_same_commands()
    {
        using var recorder = new CachedMeterRecorder(Alias);
        var ratio = new HitMissRatioPlugin();
        var cache = new SimpleMemoryCache { Alias = Alias, Plugins = [ratio] };
        cache.Set("a", "1");

        cache.Get<string>("a");
        cache.Get<string>("b");

        Assert.Multiple(() =>
        {
            Assert.That(ratio.Hits, Is.EqualTo(1));
            Assert.That(ratio.Misses, Is.EqualTo(1));
            Assert.That(recorder.Sum("cached.hits"), Is.EqualTo(1));
            Assert.That(recorder.Sum("cached.misses"), Is.EqualTo(1));
        });
    }

    [Test]
    public void A_command_is_an_activity_when_someone_listens()
    {
        var activities = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name == CachedDiagnostics.ActivitySourceName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var backend = new TestBackend { Alias = Alias };
        backend.Set("user:1", "ada");

        backend.Get<string>("user:1");
        backend.FailReads = true;
        Assert.Throws<CacheException>(() => backend.Get<string>("user:2"));

        var mine = activities.Where(static a => Equals(a.GetTagItem("cache.alias"), Alias)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(mine.Select(static a => a.DisplayName), Is.EqualTo(new[] { "cache set", "cache get", "cache get" }));
            Assert.That(mine[1].GetTagItem("cache.key"), Is.EqualTo("user:1"));
            Assert.That(mine[1].GetTagItem("cache.hits"), Is.EqualTo(1));
            Assert.That(mine[1].GetTagItem("cache.backend"), Is.EqualTo("TestBackend"));
            Assert.That(mine[1].Kind, Is.EqualTo(ActivityKind.Client));
            Assert.That(mine[1].Status, Is.EqualTo(ActivityStatusCode.Unset));
            Assert.That(mine[2].Status, Is.EqualTo(ActivityStatusCode.Error));
            Assert.That(mine[2].GetTagItem("error.type"), Is.EqualTo(typeof(CacheException).FullName));
        });
    }

    [Test]
    public void Nobody_listening_means_no_activity_and_no_allocation_on_a_hit()
    {
        var cache = new SimpleMemoryCache();
        cache.Set("k", "v");
        cache.TryGetAsync<string>("k");
        // Every test that listens disposes its listener; one left behind is a defect of that test, reported here.
        Assert.That(ActivitySourceHasNoListener(), Is.True, "a listener from another test is still attached");

        var allocated = Allocations.Fewest(() =>
        {
            for (var i = 0; i < 100; i++)
            {
                _ = cache.TryGetAsync<string>("k").Result;
            }
        });

        Assert.That(allocated, Is.Zero);
    }

    [Test]
    public void Listening_to_the_meter_turns_command_contexts_on_and_stopping_turns_them_off()
    {
        var cache = new SimpleMemoryCache { Alias = Alias };
        cache.Set("k", "v");
        long Allocated() => Allocations.Fewest(() => _ = cache.TryGetAsync<string>("k").Result, rounds: 3);

        Allocated();
        var quiet = Allocated();
        long observed;
        using (var recorder = new CachedMeterRecorder(Alias))
        {
            observed = Allocated();
        }

        var quietAgain = Allocated();
        Assert.Multiple(() =>
        {
            Assert.That(quiet, Is.Zero);
            Assert.That(observed, Is.GreaterThan(0), "the measurement needs a context");
            Assert.That(quietAgain, Is.Zero);
        });
    }

    private static bool ActivitySourceHasNoListener()
    {
        using var probe = new ActivitySource(CachedDiagnostics.ActivitySourceName);
        return !probe.HasListeners();
    }
}
