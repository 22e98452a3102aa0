using Cached.Distributed;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Ecosystem;

/// <summary>A Cached cache as an IDistributedCache: absolute and sliding expiry, refresh, remove, foreign entries, DI.</summary>
public sealed class CacheDistributedCacheTests
{
    private static readonly byte[] Session = [1, 2, 3];

    private FakeTimeProvider _time = null!;
    private SimpleMemoryCache _cache = null!;
    private IDistributedCache _distributed = null!;

    [SetUp]
    public void Create()
    {
        _time = new FakeTimeProvider();
        _cache = new SimpleMemoryCache { TimeProvider = _time };
        _distributed = _cache.AsDistributedCache("sessions");
    }

    [Test]
    public async Task Every_async_method_with_a_cancelled_token_returns_a_cancelled_task_and_writes_nothing()
    {
        var swept = await Cached.Tests.Commands.CancelledCalls.AssertEveryAsyncMethodReturnsACancelledTask(_distributed, typeof(IDistributedCache));

        Assert.That(swept, Has.Count.EqualTo(4));
        Assert.That(_distributed.Get("cancelled-call"), Is.Null);
    }

    [TearDown]
    public void Dispose()
    {
        _cache.Dispose();
        Caches.Reset();
    }

    [Test]
    public async Task Bytes_round_trip_and_Remove_drops_them([Values] bool async)
    {
        if (async)
        {
            await _distributed.SetAsync("s1", Session, new DistributedCacheEntryOptions());
            Assert.That(await _distributed.GetAsync("s1"), Is.EqualTo(Session));
            await _distributed.RemoveAsync("s1");
            Assert.That(await _distributed.GetAsync("s1"), Is.Null);
        }
        else
        {
            _distributed.Set("s1", Session, new DistributedCacheEntryOptions());
            Assert.That(_distributed.Get("s1"), Is.EqualTo(Session));
            _distributed.Remove("s1");
            Assert.That(_distributed.Get("s1"), Is.Null);
        }
    }

    [Test]
    public void The_caller_may_change_its_array_after_Set_without_changing_the_entry()
    {
        var value = new byte[] { 1, 2, 3 };
        _distributed.Set("s1", value, new DistributedCacheEntryOptions());
        value[0] = 9;

        var read = _distributed.Get("s1")!;
        read[1] = 9;

        Assert.That(_distributed.Get("s1"), Is.EqualTo(Session));
    }

    [Test]
    public void An_absolute_expiry_ends_the_entry()
    {
        _distributed.Set("relative", Session, new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(1) });
        _distributed.Set("absolute", Session, new DistributedCacheEntryOptions { AbsoluteExpiration = _time.GetUtcNow().AddMinutes(2) });

        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.That(_distributed.Get("relative"), Is.Null);
        Assert.That(_distributed.Get("absolute"), Is.EqualTo(Session));
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.That(_distributed.Get("absolute"), Is.Null);
    }

    [Test]
    public async Task An_entry_past_its_absolute_expiry_is_absent_even_while_the_cache_still_keeps_it([Values] bool async)
    {
        // Regression: without a sliding window the stored expiry was left to the cache's time to live, and a cache may
        // keep a copy longer (an L1 copy of an entry read from a DistributedCacheBackend L2 lives for its CopyLife).
        // Here the cache runs on the system clock and the adapter on the fake one, which moves past the expiry.
        using var keeps = new SimpleMemoryCache();
        var distributed = new CacheDistributedCache(keeps, timeProvider: _time);
        distributed.Set("k", Session, new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(1) });

        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.That(keeps.Exists("k"), Is.True, "the cache still holds it");
        Assert.That(async ? await distributed.GetAsync("k") : distributed.Get("k"), Is.Null);
    }

    [Test]
    public async Task A_sliding_entry_lives_while_it_is_read_or_refreshed([Values] bool async)
    {
        var options = new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(20) };
        _distributed.Set("s1", Session, options);

        for (var i = 0; i < 3; i++)
        {
            _time.Advance(TimeSpan.FromMinutes(15));
            if (async)
            {
                await _distributed.RefreshAsync("s1");
            }
            else
            {
                _distributed.Refresh("s1");
            }
        }

        Assert.That(_distributed.Get("s1"), Is.EqualTo(Session), "45 minutes after it was written, never idle for 20");
        _time.Advance(TimeSpan.FromMinutes(20));
        Assert.That(_distributed.Get("s1"), Is.Null, "idle for its whole window");
    }

    [Test]
    public void A_sliding_window_never_extends_past_the_absolute_expiry()
    {
        _distributed.Set("s1", Session, new DistributedCacheEntryOptions
        {
            SlidingExpiration = TimeSpan.FromMinutes(20),
            AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(30),
        });

        _time.Advance(TimeSpan.FromMinutes(15));
        Assert.That(_distributed.Get("s1"), Is.EqualTo(Session));
        _time.Advance(TimeSpan.FromMinutes(15));

        Assert.That(_distributed.Get("s1"), Is.Null);
    }

    [Test]
    public void Bad_options_are_refused_naming_them()
    {
        Assert.That(
            () => _distributed.Set("s", Session, new DistributedCacheEntryOptions { AbsoluteExpiration = _time.GetUtcNow().AddSeconds(-1) }),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("options"));
        Assert.That(() => _distributed.Set("s", null!, new DistributedCacheEntryOptions()), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("value"));
        Assert.That(() => _distributed.Get(null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("key"));
    }

    [Test]
    public async Task An_entry_the_adapter_did_not_write_reads_as_absent([Values] bool async)
    {
        _cache.Set("foreign", "written by Set", @namespace: "sessions");
        _cache.Set("short", new byte[] { 1 }, @namespace: "sessions");

        Assert.That(async ? await _distributed.GetAsync("foreign") : _distributed.Get("foreign"), Is.Null);
        Assert.That(async ? await _distributed.GetAsync("short") : _distributed.Get("short"), Is.Null);
    }

    [Test]
    public void A_cancelled_caller_gets_an_OperationCanceledException_and_nothing_is_written()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.That(async () => await _distributed.SetAsync("s", Session, new DistributedCacheEntryOptions(), cancelled.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(async () => await _distributed.GetAsync("s", cancelled.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(_distributed.Get("s"), Is.Null);
    }

    [Test]
    public async Task AddDistributedCache_replaces_the_memory_one_in_either_order()
    {
        foreach (var memoryFirst in new[] { true, false })
        {
            Caches.Reset();
            var services = new ServiceCollection();
            if (memoryFirst)
            {
                services.AddDistributedMemoryCache();
            }

            services.AddCached(cached => cached.AddCache("default", _cache).AddDistributedCache(@namespace: "sessions"));
            if (!memoryFirst)
            {
                services.AddDistributedMemoryCache();
            }

            await using var provider = services.BuildServiceProvider();
            var distributed = provider.GetRequiredService<IDistributedCache>();
            distributed.Set("k" + memoryFirst, Session, new DistributedCacheEntryOptions());

            Assert.That(distributed, Is.InstanceOf<CacheDistributedCache>());
            Assert.That(_distributed.Get("k" + memoryFirst), Is.EqualTo(Session), "stored in the alias");
        }
    }
}
