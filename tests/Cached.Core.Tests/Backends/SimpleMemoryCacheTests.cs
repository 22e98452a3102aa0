using Cached.Serializers;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Backends;

/// <summary>What only the in-process backend does: references, its own store, raw commands, sweep, bound, threads.</summary>
public sealed class SimpleMemoryCacheTests
{
    private sealed class Box
    {
        public int Value { get; set; }
    }

    private readonly FakeTimeProvider _time = new();

    private SimpleMemoryCache NewCache(int? maxEntries = null, ISerializer? serializer = null) => new()
    {
        TimeProvider = _time,
        MaxEntries = maxEntries,
        Serializer = serializer ?? NullSerializer.Instance,
        SweepInterval = TimeSpan.FromSeconds(10),
    };

    [Test]
    public void The_default_serializer_is_NullSerializer_and_reads_return_the_stored_reference()
    {
        using var cache = new SimpleMemoryCache();
        var box = new Box { Value = 1 };

        cache.Set("box", box);
        box.Value = 2;

        Assert.That(cache.Serializer, Is.InstanceOf<NullSerializer>());
        Assert.That(cache.Get<Box>("box"), Is.SameAs(box));
        Assert.That(cache.Get<Box>("box")!.Value, Is.EqualTo(2), "mutating a stored reference changes the cached value");
    }

    [Test]
    public void The_default_timeout_is_five_seconds_as_in_aiocache()
    {
        using var cache = new SimpleMemoryCache();
        Assert.That(cache.Timeout, Is.EqualTo(TimeSpan.FromSeconds(5)));
    }

    [Test]
    public void A_ttl_expires_exactly_when_it_has_elapsed_on_the_monotonic_clock()
    {
        using var cache = NewCache();
        cache.Set("key", "value", ttl: TimeSpan.FromMilliseconds(100));

        _time.Advance(TimeSpan.FromMilliseconds(99));
        Assert.That(cache.Exists("key"), Is.True, "1 ms before the end of its ttl the key is still there");

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(cache.Exists("key"), Is.False);
        Assert.That(cache.Get<string>("key"), Is.Null);
    }

    [Test]
    public void Each_instance_has_its_own_store()
    {
        using var first = new SimpleMemoryCache();
        using var second = new SimpleMemoryCache();

        first.Set("key", "value");

        Assert.That(second.Exists("key"), Is.False, "pycached shares one global dict across instances; we do not");
    }

    [Test]
    public void Raw_runs_store_operations_on_backend_keys_without_the_namespace()
    {
        using var cache = new SimpleMemoryCache { Namespace = "test" };

        Assert.That(cache.Raw("setdefault", "key", "value"), Is.EqualTo("value"));
        Assert.That(cache.Raw("setdefault", "key", "other"), Is.EqualTo("value"));
        Assert.That(cache.Raw("get", "key"), Is.EqualTo("value"));
        Assert.That(cache.Raw("keys"), Is.EqualTo(new[] { "key" }));
        Assert.That(cache.Raw("contains", "key"), Is.EqualTo(true));
        Assert.That(cache.Exists("key"), Is.False, "the namespaced command looks under test:key");
        Assert.That(cache.Raw("count"), Is.EqualTo(1));
        Assert.That(cache.Raw("pop", "key"), Is.EqualTo("value"));
        Assert.That(cache.Raw("count"), Is.EqualTo(0));
    }

    [Test]
    public void Raw_refuses_an_unknown_command_or_a_wrong_argument_count()
    {
        using var cache = new SimpleMemoryCache();

        var unknown = Assert.Throws<ArgumentException>(() => cache.Raw("flushall"));
        Assert.That(unknown!.ParamName, Is.EqualTo("command"));
        Assert.That(unknown.Message, Does.Contain("setdefault"));
        Assert.That(Assert.Throws<ArgumentException>(() => cache.Raw("get"))!.ParamName, Is.EqualTo("args"));
    }

    [Test]
    public void The_default_key_composition_is_namespace_colon_key_with_the_namespace_escaped()
    {
        using var cache = new SimpleMemoryCache { Namespace = "test" };

        Assert.That(cache.BuildKey("key"), Is.EqualTo("test:key"));
        Assert.That(cache.BuildKey("key", "a:b"), Is.EqualTo("a\\:b:key"));
        Assert.That(cache.BuildKey("key", "a\\"), Is.EqualTo("a\\\\:key"));
    }

    [Test]
    public void Increment_keeps_the_stored_form_of_the_integer()
    {
        using var cache = NewCache();
        cache.Set("int", 5);
        cache.Set("text", "10");

        Assert.That(cache.Increment("int"), Is.EqualTo(6));
        Assert.That(cache.Get<int>("int"), Is.EqualTo(6), "an int stays an int");
        Assert.That(cache.Increment("text"), Is.EqualTo(11));
        Assert.That(cache.Get<long>("text"), Is.EqualTo(11), "a counted string becomes a long, as aiocache's int(v) + delta stores an int");
        Assert.That(cache.Increment("new", 3), Is.EqualTo(3));
        Assert.That(cache.Get<long>("new"), Is.EqualTo(3), "a counter created by Increment holds a long");
    }

    [Test]
    public void Increment_of_an_int_past_its_range_throws_OverflowException_and_keeps_the_value()
    {
        using var cache = NewCache();
        cache.Set("int", int.MaxValue);

        Assert.Throws<OverflowException>(() => cache.Increment("int"));
        Assert.That(cache.Get<int>("int"), Is.EqualTo(int.MaxValue));
    }

    [Test]
    public void Increment_takes_a_whole_decimal_or_BigInteger_as_the_integer_it_is_and_refuses_their_fractions()
    {
        // As on Redis, where 3m is stored as the JSON 3, which INCRBY counts on.
        using var cache = NewCache();
        cache.Set("decimal", 3m);
        cache.Set("big", new System.Numerics.BigInteger(41));
        cache.Set("half", 2.5m);

        Assert.That(cache.Increment("decimal"), Is.EqualTo(4));
        Assert.That(cache.Get<decimal>("decimal"), Is.EqualTo(4m), "a decimal stays a decimal");
        Assert.That(cache.Increment("big"), Is.EqualTo(42));
        Assert.That(cache.Get<System.Numerics.BigInteger>("big"), Is.EqualTo(new System.Numerics.BigInteger(42)));
        Assert.Throws<CacheValueNotIntegerException>(() => cache.Increment("half"));
        Assert.That(cache.Get<decimal>("half"), Is.EqualTo(2.5m));
        cache.Set("scaled", 3.0m);
        Assert.Throws<CacheValueNotIntegerException>(() => cache.Increment("scaled"), "3.0m is written 3.0, which INCRBY refuses too");
    }

    [Test]
    public void Increment_of_an_integer_past_long_s_range_throws_OverflowException_and_keeps_the_value()
    {
        using var cache = NewCache();
        cache.Set("ulong", ulong.MaxValue);
        cache.Set("decimal", decimal.MaxValue);
        cache.Set("big", System.Numerics.BigInteger.Pow(2, 70));

        Assert.Throws<OverflowException>(() => cache.Increment("ulong"));
        Assert.Throws<OverflowException>(() => cache.Increment("decimal"));
        Assert.Throws<OverflowException>(() => cache.Increment("big"));
        Assert.That(cache.Get<ulong>("ulong"), Is.EqualTo(ulong.MaxValue));
        Assert.That(cache.Get<decimal>("decimal"), Is.EqualTo(decimal.MaxValue));
        Assert.That(cache.Get<System.Numerics.BigInteger>("big"), Is.EqualTo(System.Numerics.BigInteger.Pow(2, 70)));
    }

    [Test]
    public void Increment_refuses_a_fraction_rather_than_truncating_it()
    {
        using var cache = NewCache();
        cache.Set("fraction", 1.7);

        Assert.Throws<CacheValueNotIntegerException>(() => cache.Increment("fraction"));
        Assert.That(cache.Get<double>("fraction"), Is.EqualTo(1.7));
    }

    [Test]
    public void Increment_works_on_serialized_payloads_as_Redis_INCRBY_does()
    {
        using var cache = NewCache(serializer: new StringSerializer());
        cache.Set("count", 41);

        Assert.That(cache.Increment("count"), Is.EqualTo(42));
        Assert.That(cache.Get<int>("count"), Is.EqualTo(42));
        Assert.That(cache.Increment("fresh", 2), Is.EqualTo(2));
        Assert.That(cache.Get<string>("fresh"), Is.EqualTo("2"));
    }

    [Test]
    public void Increment_keeps_the_ttl_of_the_key()
    {
        using var cache = NewCache();
        cache.Set("count", 1L, ttl: TimeSpan.FromSeconds(10));
        cache.Increment("count");

        _time.Advance(TimeSpan.FromSeconds(10));

        Assert.That(cache.Exists("count"), Is.False);
    }

    [Test]
    public void The_sweep_removes_expired_entries_that_nobody_reads()
    {
        using var cache = NewCache();
        for (var i = 0; i < 100; i++)
        {
            cache.Set($"short{i}", i, ttl: TimeSpan.FromSeconds(1));
        }

        cache.Set("long", 1, ttl: TimeSpan.FromMinutes(1));
        cache.Set("forever", 1);
        Assert.That(cache.Count, Is.EqualTo(102));

        _time.Advance(TimeSpan.FromSeconds(10));

        Assert.That(cache.Count, Is.EqualTo(2), "the sweep ran on the cache's clock without any read");
    }

    [Test]
    public void After_Dispose_the_sweep_stops_but_the_store_stays_usable()
    {
        var cache = NewCache();
        cache.Set("key", 1, ttl: TimeSpan.FromSeconds(1));
        cache.Dispose();

        _time.Advance(TimeSpan.FromSeconds(10));

        Assert.That(cache.Count, Is.EqualTo(1), "no sweep after Dispose");
        Assert.That(cache.Exists("key"), Is.False, "expired entries are still invisible");
        Assert.That(cache.Set("other", 2), Is.True);
        Assert.That(cache.Get<int>("other"), Is.EqualTo(2));
    }

    [Test]
    public void A_write_with_a_ttl_after_Dispose_never_restarts_the_sweep()
    {
        var cache = NewCache();
        cache.Set("before", 1, ttl: TimeSpan.FromSeconds(1));
        cache.Dispose();

        cache.Set("after", 2, ttl: TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromMinutes(5));

        Assert.That(cache.Count, Is.EqualTo(2), "no timer swept the expired entries: none was started again");
        Assert.That(cache.Exists("after"), Is.False, "expired entries are still invisible");
    }

    [Test]
    public void Past_MaxEntries_the_least_recently_used_entries_are_evicted_down_to_ninety_percent()
    {
        using var cache = NewCache(maxEntries: 10);
        for (var i = 0; i < 10; i++)
        {
            cache.Set($"k{i}", i);
            _time.Advance(TimeSpan.FromMilliseconds(1));
        }

        // Use the five oldest, so the five newest writes become the least recently used.
        for (var i = 0; i < 5; i++)
        {
            cache.Get<int>($"k{i}");
            _time.Advance(TimeSpan.FromMilliseconds(1));
        }

        cache.Set("k10", 10);

        Assert.That(cache.Count, Is.EqualTo(9));
        Assert.That(Enumerable.Range(0, 5).All(i => cache.Exists($"k{i}")), Is.True, "recently read entries stay");
        Assert.That(cache.Exists("k10"), Is.True, "the newest entry stays");
        Assert.That(Enumerable.Range(5, 5).Count(i => cache.Exists($"k{i}")), Is.EqualTo(3), "two of the least recently used go");
        Assert.That(cache.Exists("k5") || cache.Exists("k6"), Is.False);
    }

    [Test]
    public void Eviction_removes_expired_entries_before_live_ones()
    {
        using var cache = NewCache(maxEntries: 4);
        cache.Set("expiring1", 1, ttl: TimeSpan.FromSeconds(1));
        cache.Set("expiring2", 1, ttl: TimeSpan.FromSeconds(1));
        cache.Set("live1", 1);
        cache.Set("live2", 1);
        _time.Advance(TimeSpan.FromSeconds(1));

        cache.Set("live3", 1);

        Assert.That(new[] { "live1", "live2", "live3" }.All(k => cache.Exists(k)), Is.True);
    }

    [Test]
    public void A_bad_MaxEntries_or_SweepInterval_is_refused()
    {
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SimpleMemoryCache { MaxEntries = 0 })!.ParamName, Is.EqualTo("MaxEntries"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SimpleMemoryCache { SweepInterval = TimeSpan.Zero })!.ParamName, Is.EqualTo("SweepInterval"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SimpleMemoryCache { Ttl = TimeSpan.FromSeconds(-1) })!.ParamName, Is.EqualTo("Ttl"));
    }

    [Test]
    public void A_huge_ttl_never_overflows_into_the_past()
    {
        using var cache = NewCache();
        cache.Set("key", 1, ttl: TimeSpan.MaxValue);
        _time.Advance(TimeSpan.FromDays(365));

        Assert.That(cache.Exists("key"), Is.True);
    }

    [Test]
    public void Concurrent_increments_add_up_exactly()
    {
        using var cache = NewCache();
        const int threads = 8, perThread = 20_000;

        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ =>
        {
            for (var i = 0; i < perThread; i++)
            {
                cache.Increment("counter");
            }
        });

        Assert.That(cache.Get<long>("counter"), Is.EqualTo(threads * perThread));
    }

    [Test]
    public void Concurrent_adds_of_one_key_have_exactly_one_winner()
    {
        using var cache = NewCache();
        for (var round = 0; round < 200; round++)
        {
            var winners = 0;
            Parallel.For(0, 8, i =>
            {
                try
                {
                    cache.Add($"key{round}", i);
                    Interlocked.Increment(ref winners);
                }
                catch (KeyExistsException)
                {
                }
            });

            Assert.That(winners, Is.EqualTo(1), $"round {round}");
        }
    }

    [Test]
    public void Concurrent_readers_and_writers_see_only_values_that_were_written()
    {
        using var cache = NewCache();
        var bad = 0;
        Parallel.For(0, 8, worker =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                var key = $"k{i % 16}";
                if (worker % 2 == 0)
                {
                    cache.Set(key, new Box { Value = i % 16 });
                }
                else if (cache.TryGet<Box>(key, out var box) && box!.Value != i % 16)
                {
                    Interlocked.Increment(ref bad);
                }
            }
        });

        Assert.That(bad, Is.EqualTo(0));
    }
    [Test]
    public void Eviction_while_hits_keep_touching_entries_never_fails_a_write()
    {
        // Regression: eviction sorted the entries by their LastUsed while concurrent hits kept changing it; a sort
        // whose comparer changes its answers may throw ("inconsistent comparer") out of the Set that evicts.
        using var cache = new SimpleMemoryCache { MaxEntries = 2_000 };
        for (var i = 0; i < 2_000; i++)
        {
            cache.Set($"k{i}", i);
        }

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var readers = Enumerable.Range(0, 2).Select(r => Task.Run(() =>
        {
            var random = new Random(r);
            while (!stop.IsCancellationRequested)
            {
                cache.Get<int>($"k{random.Next(4_000)}");
            }
        })).ToArray();

        var writes = 0;
        Exception? failure = null;
        try
        {
            for (var next = 2_000; !stop.IsCancellationRequested; next++)
            {
                cache.Set($"k{next % 4_000}", next);
                writes++;
            }
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        stop.Cancel();
        Task.WaitAll(readers);
        Assert.Multiple(() =>
        {
            Assert.That(failure, Is.Null, () => $"after {writes} writes: {failure}");
            Assert.That(cache.Count, Is.LessThanOrEqualTo(2_000 + 2));
        });
    }
}
