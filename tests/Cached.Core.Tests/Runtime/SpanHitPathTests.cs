using System.Diagnostics.Metrics;
using Cached.Diagnostics;
using Cached.Plugins;
using Cached.Runtime;
using Cached.Serializers;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Runtime;

/// <summary>
/// The hit path of generated methods: the key is built in a stack buffer and looked up without making a string.
/// Where that read could differ from the ordinary one, the ordinary one runs instead, so behaviour never changes.
/// </summary>
[NonParallelizable]
public sealed class SpanHitPathTests
{
    private const string Alias = "span_path";

    [SetUp]
    public void SetUp() => Caches.Reset();

    [TearDown]
    public void TearDown() => Caches.Reset();

    private static CachedMethod<string> Method(ICache cache, string? @namespace = null)
    {
        Caches.AddInstance(Alias, cache);
        return new CachedMethod<string>(new CachedMethodOptions { Method = "Test.Get", Alias = Alias, Namespace = @namespace });
    }

    private static ReadOnlySpan<char> Key(Span<char> buffer, int id)
    {
        var writer = new CacheKeyWriter(buffer, "Test.Get");
        writer.Argument(id);
        return writer.Close();
    }

    private static long AllocatedByHits(CachedMethod<string> method, bool async)
    {
        static string Hit(CachedMethod<string> method, bool async)
        {
            var key = Key(stackalloc char[64], 42);
            return async
                ? method.InvokeAsync(key, 0, static (_, _) => ValueTask.FromResult("body"), null, CancellationToken.None).Result
                : method.Invoke(key, 0, static _ => "body", null);
        }

        Hit(method, async);
        return Allocations.Fewest(() =>
        {
            for (var i = 0; i < 100; i++)
            {
                Hit(method, async);
            }
        });
    }

    [TestCase(false)]
    [TestCase(true)]
    public void A_hit_with_a_built_key_allocates_nothing(bool async)
    {
        var cache = new SimpleMemoryCache();
        cache.Set("Test.Get(42)", "stored");
        var method = Method(cache);

        Assert.Multiple(() =>
        {
            Assert.That(method.Invoke(Key(stackalloc char[64], 42), 0, static _ => "body", null), Is.EqualTo("stored"));
            Assert.That(AllocatedByHits(method, async), Is.Zero);
        });
    }

    [Test]
    public void A_hit_in_a_namespace_allocates_nothing_and_finds_the_namespaced_entry()
    {
        var cache = new SimpleMemoryCache();
        cache.Set("Test.Get(42)", "stored", @namespace: "users");
        cache.Set("Test.Get(42)", "wrong namespace");
        var method = Method(cache, "users");

        Assert.Multiple(() =>
        {
            Assert.That(method.Invoke(Key(stackalloc char[64], 42), 0, static _ => "body", null), Is.EqualTo("stored"));
            Assert.That(AllocatedByHits(method, async: false), Is.Zero);
        });
    }

    [Test]
    public void A_namespace_that_needs_escaping_takes_the_ordinary_path_and_still_hits()
    {
        var cache = new SimpleMemoryCache();
        cache.Set("Test.Get(42)", "stored", @namespace: "a:b");
        var method = Method(cache, "a:b");

        Assert.That(method.Invoke(Key(stackalloc char[64], 42), 0, static _ => "body", null), Is.EqualTo("stored"));
    }

    [Test]
    public void A_miss_runs_the_body_once_stores_the_result_and_the_next_call_hits()
    {
        var cache = new SimpleMemoryCache();
        var method = Method(cache);
        var calls = 0;

        var first = method.Invoke(Key(stackalloc char[64], 7), 0, _ => "body" + ++calls, null);
        var second = method.Invoke(Key(stackalloc char[64], 7), 0, _ => "body" + ++calls, null);

        Assert.Multiple(() =>
        {
            Assert.That((first, second, calls), Is.EqualTo(("body1", "body1", 1)));
            Assert.That(cache.Get<string>("Test.Get(7)"), Is.EqualTo("body1"));
        });
    }

    [Test]
    public async Task An_expired_entry_is_a_miss_on_the_span_path()
    {
        var clock = new FakeTimeProvider();
        var cache = new SimpleMemoryCache { TimeProvider = clock };
        cache.Set("Test.Get(1)", "old", ttl: TimeSpan.FromSeconds(1));
        var method = Method(cache);

        clock.Advance(TimeSpan.FromSeconds(1));
        var value = await method.InvokeAsync(Key(stackalloc char[64], 1), 0, static (_, _) => ValueTask.FromResult("new"), null, CancellationToken.None);

        Assert.That(value, Is.EqualTo("new"));
    }

    [Test]
    public void A_stored_null_is_a_hit_on_the_span_path()
    {
        var cache = new SimpleMemoryCache();
        cache.Set<string?>("Test.Get(3)", null);
        var method = new CachedMethod<string?>(new CachedMethodOptions { Method = "Test.Get", Alias = Alias });
        Caches.AddInstance(Alias, cache);

        var value = method.Invoke(Key(stackalloc char[64], 3), 0, static _ => "body", null);

        Assert.That(value, Is.Null);
    }

    [Test]
    public void Plugins_still_see_the_hit()
    {
        var ratio = new HitMissRatioPlugin();
        var cache = new SimpleMemoryCache { Plugins = [ratio] };
        cache.Set("Test.Get(42)", "stored");
        var method = Method(cache);

        method.Invoke(Key(stackalloc char[64], 42), 0, static _ => "body", null);

        Assert.That(ratio.Hits, Is.EqualTo(1));
    }

    [Test]
    public void A_metrics_listener_still_counts_the_hit()
    {
        var hits = 0L;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == CachedDiagnostics.MeterName && instrument.Name == "cached.hits")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref hits, value));
        listener.Start();
        var cache = new SimpleMemoryCache();
        cache.Set("Test.Get(42)", "stored");
        var method = Method(cache);

        method.Invoke(Key(stackalloc char[64], 42), 0, static _ => "body", null);

        Assert.That(Interlocked.Read(ref hits), Is.EqualTo(1));
    }

    [Test]
    public void A_key_builder_is_honoured()
    {
        var cache = new SimpleMemoryCache { KeyBuilder = static (key, _) => "custom/" + key };
        cache.Set("Test.Get(42)", "stored");
        var method = Method(cache);

        Assert.Multiple(() =>
        {
            Assert.That(method.Invoke(Key(stackalloc char[64], 42), 0, static _ => "body", null), Is.EqualTo("stored"));
            Assert.That(cache.Raw("contains", "custom/Test.Get(42)"), Is.EqualTo(true));
        });
    }

    [Test]
    public void A_serializing_cache_reads_through_its_serializer()
    {
        var cache = new SimpleMemoryCache { Serializer = new JsonSerializer() };
        cache.Set("Test.Get(42)", "stored");
        var method = Method(cache);

        Assert.That(method.Invoke(Key(stackalloc char[64], 42), 0, static _ => "body", null), Is.EqualTo("stored"));
    }

    [Test]
    public void A_value_of_another_type_is_reported_by_the_ordinary_read_and_the_body_answers()
    {
        var cache = new SimpleMemoryCache();
        cache.Set("Test.Get(42)", 12345);
        var method = Method(cache);

        Assert.That(method.Invoke(Key(stackalloc char[64], 42), 0, static _ => "body", null), Is.EqualTo("body"));
    }

    [Test]
    public void Caching_switched_off_is_a_miss_every_time()
    {
        var cache = new SimpleMemoryCache();
        cache.Set("Test.Get(42)", "stored");
        var method = Method(cache);
        Cache.Disabled = true;
        try
        {
            Assert.That(method.Invoke(Key(stackalloc char[64], 42), 0, static _ => "body", null), Is.EqualTo("body"));
        }
        finally
        {
            Cache.Disabled = false;
        }
    }

    [Test]
    public void A_skipped_read_runs_the_body()
    {
        var cache = new SimpleMemoryCache();
        cache.Set("Test.Get(42)", "stored");
        var method = Method(cache);

        using (CacheScope.SkipRead())
        {
            Assert.That(method.Invoke(Key(stackalloc char[64], 42), 0, static _ => "body", null), Is.EqualTo("body"));
        }

        Assert.That(cache.Get<string>("Test.Get(42)"), Is.EqualTo("body"));
    }

    [Test]
    public void A_cancelled_token_still_throws_on_a_hit_as_the_ordinary_read_does()
    {
        var cache = new SimpleMemoryCache();
        cache.Set("Test.Get(42)", "stored");
        var method = Method(cache);

        Assert.That(
            () => method.InvokeAsync(Key(stackalloc char[64], 42), 0, static (_, _) => ValueTask.FromResult("body"), null, new CancellationToken(canceled: true)).AsTask(),
            Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public void A_key_longer_than_the_stack_buffer_is_copied_once_and_still_hits()
    {
        var longName = new string('n', 600);
        var cache = new SimpleMemoryCache();
        var writer = new CacheKeyWriter(stackalloc char[16], "Test.Get");
        writer.Argument(longName);
        var full = writer.Finish();
        cache.Set(full, "stored");
        var method = Method(cache);

        var key = new CacheKeyWriter(stackalloc char[16], "Test.Get");
        key.Argument(longName);

        Assert.That(method.Invoke(key.Close(), 0, static _ => "body", null), Is.EqualTo("stored"));
    }

    [Test]
    public void The_cache_method_key_string_overload_takes_the_same_path()
    {
        var cache = new SimpleMemoryCache();
        cache.Set("fixed", "stored");
        var method = Method(cache);
        Func<int, string> body = static _ => "body";
        method.Invoke("fixed", 0, body);

        string? value = null;
        var allocated = Allocations.Fewest(() => value = method.Invoke("fixed", 0, body));

        Assert.Multiple(() =>
        {
            Assert.That(value, Is.EqualTo("stored"));
            Assert.That(allocated, Is.Zero);
        });
    }
    // The calls below come after a first hit: by then the method has resolved its cache and takes the short hit path,
    // which must give way to everything the first call checked.

    private static CachedMethod<string> WarmMethod(SimpleMemoryCache cache)
    {
        cache.Set("Test.Get(42)", "stored");
        var method = Method(cache);
        Assert.That(method.Invoke(Key(stackalloc char[64], 42), 0, static _ => "body", null), Is.EqualTo("stored"), "the warming hit");
        return method;
    }

    [Test]
    public void After_a_hit_caching_switched_off_is_a_miss()
    {
        var method = WarmMethod(new SimpleMemoryCache());
        Cache.Disabled = true;
        try
        {
            Assert.That(method.Invoke(Key(stackalloc char[64], 42), 0, static _ => "body", null), Is.EqualTo("body"));
        }
        finally
        {
            Cache.Disabled = false;
        }
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task After_a_hit_a_skipped_read_runs_the_body(bool async)
    {
        var cache = new SimpleMemoryCache();
        var method = WarmMethod(cache);

        string value;
        using (CacheScope.SkipRead())
        {
            value = async
                ? await method.InvokeAsync("Test.Get(42)", 0, static (_, _) => ValueTask.FromResult("body"), null, CancellationToken.None)
                : method.Invoke("Test.Get(42)", 0, static _ => "body", null);
        }

        Assert.Multiple(() =>
        {
            Assert.That(value, Is.EqualTo("body"));
            Assert.That(cache.Get<string>("Test.Get(42)"), Is.EqualTo("body"));
        });
    }

    [Test]
    public void After_a_hit_a_new_instance_for_the_alias_is_read()
    {
        var method = WarmMethod(new SimpleMemoryCache());
        var replacement = new SimpleMemoryCache();
        replacement.Set("Test.Get(42)", "replacement");
        Caches.AddInstance(Alias, replacement);

        Assert.That(method.Invoke(Key(stackalloc char[64], 42), 0, static _ => "body", null), Is.EqualTo("replacement"));
    }

    [Test]
    public void After_a_hit_a_metrics_listener_that_starts_counts_the_next_hit()
    {
        var method = WarmMethod(new SimpleMemoryCache());
        var hits = 0L;
        using var listener = Listen("cached.hits", value => Interlocked.Add(ref hits, value));

        method.Invoke(Key(stackalloc char[64], 42), 0, static _ => "body", null);

        Assert.That(Interlocked.Read(ref hits), Is.EqualTo(1));
    }

    [Test]
    public void A_listener_to_misses_only_still_counts_every_miss_and_leaves_hits_allocation_free()
    {
        // A scope another test left open would rightly send every call the ordinary way.
        Assert.That(CacheScope.NoneOpen, Is.True, "a CacheScope from another test is still open");
        var misses = 0L;
        using var listener = Listen("cached.misses", value => Interlocked.Add(ref misses, value));
        var cache = new SimpleMemoryCache();
        var method = Method(cache);

        Assert.That(method.Invoke(Key(stackalloc char[64], 42), 0, static _ => "stored", null), Is.EqualTo("stored"), "the miss that stores");
        var afterFirstMiss = Interlocked.Read(ref misses);
        var allocated = AllocatedByHits(method, async: false);
        method.Invoke(Key(stackalloc char[64], 43), 0, static _ => "other", null);

        Assert.Multiple(() =>
        {
            Assert.That(afterFirstMiss, Is.EqualTo(1), "the first call's miss");
            Assert.That(allocated, Is.Zero, "hits nobody counts need no key string");
            Assert.That(Interlocked.Read(ref misses), Is.EqualTo(2), "the hits added no miss; the new key's miss is counted");
        });
    }

    [Test]
    public void A_clock_that_fails_on_a_hit_is_a_survived_fault_and_the_body_answers()
    {
        var clock = new FailingClock();
        var cache = new SimpleMemoryCache { TimeProvider = clock };
        cache.Set("Test.Get(42)", "stored", ttl: TimeSpan.FromMinutes(1));
        var method = Method(cache);
        Assert.That(method.Invoke(Key(stackalloc char[64], 42), 0, static _ => "body", null), Is.EqualTo("stored"), "the warming hit");

        clock.Fails = true;

        Assert.That(method.Invoke(Key(stackalloc char[64], 42), 0, static _ => "body", null), Is.EqualTo("body"));
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task A_cache_whose_settings_fault_is_survived_on_every_call(bool async)
    {
        // Regression: working out whether the cache reads by span reads its default serializer; that fault escaped
        // every call of the method instead of being logged and answered by the body.
        using var backend = new TestBackend { SerializerFails = true };
        var method = Method(backend);

        for (var call = 0; call < 2; call++)
        {
            var value = async
                ? await method.InvokeAsync("k", 0, static (_, _) => ValueTask.FromResult("body"), null, CancellationToken.None)
                : method.Invoke("k", 0, static _ => "body", null);
            Assert.That(value, Is.EqualTo("body"), $"call {call + 1}");
        }
    }

    [Test]
    public void A_null_body_is_refused_even_when_the_key_would_hit()
    {
        var method = WarmMethod(new SimpleMemoryCache());

        Assert.Multiple(() =>
        {
            Assert.That(() => method.Invoke(Key(stackalloc char[64], 42), 0, null!, null), Throws.ArgumentNullException);
            Assert.That(() => method.Invoke("Test.Get(42)", 0, null!, null), Throws.ArgumentNullException);
            Assert.That(() => method.InvokeAsync(Key(stackalloc char[64], 42), 0, null!, null, CancellationToken.None), Throws.ArgumentNullException);
            Assert.That(() => method.InvokeAsync("Test.Get(42)", 0, null!, null, CancellationToken.None), Throws.ArgumentNullException);
        });
    }

    private static MeterListener Listen(string instrumentName, Action<long> record)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == CachedDiagnostics.MeterName && instrument.Name == instrumentName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => record(value));
        listener.Start();
        return listener;
    }

    /// <summary>The system clock until told to fail.</summary>
    private sealed class FailingClock : TimeProvider
    {
        public bool Fails { get; set; }

        public override long GetTimestamp() => Fails ? throw new InvalidOperationException("the clock is broken") : base.GetTimestamp();
    }
}
