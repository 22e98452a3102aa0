using Cached.Hybrid;
using Cached.MultiLevel;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace Cached.Tests.Ecosystem;

/// <summary>
/// Code written for <see cref="HybridCache"/>, unchanged, on Microsoft's own implementation and on Cached's over one
/// and two levels: every test below passes on all three, so an application can swap one for the other.
/// </summary>
[TestFixture("Microsoft")]
[TestFixture("Cached memory")]
[TestFixture("Cached two levels")]
public sealed class HybridCacheContractTests(string implementation)
{
    private ServiceProvider _services = null!;
    private HybridCache _cache = null!;

    private ICache? _backing;

    [SetUp]
    public void Create()
    {
        Caches.Reset();
        var services = new ServiceCollection();
        switch (implementation)
        {
            case "Microsoft":
                services.AddHybridCache();
                break;
            case "Cached memory":
                _backing = new SimpleMemoryCache();
                services.AddCached(cached => cached.AddCache("default", _backing).AddHybridCache());
                break;
            default:
                _backing = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache(), new MemoryBackplane());
                services.AddCached(cached => cached.AddCache("default", _backing).AddHybridCache());
                break;
        }

        _services = services.BuildServiceProvider();
        _cache = _services.GetRequiredService<HybridCache>();
        Assert.That(_cache is CachedHybridCache, Is.EqualTo(implementation != "Microsoft"), "the implementation under test");
    }

    [TearDown]
    public void Dispose()
    {
        _services.Dispose();
        _backing?.Dispose();
        Caches.Reset();
    }

    [Test]
    public async Task A_cancelled_first_caller_leaves_at_once_and_the_shared_factory_goes_on_for_the_others()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tokens = new System.Collections.Concurrent.ConcurrentQueue<CancellationToken>();
        using var first = new CancellationTokenSource();
        Func<CancellationToken, ValueTask<int>> factory = async ct =>
        {
            tokens.Enqueue(ct);
            entered.TrySetResult();
            await gate.Task; // ignores its token, as much real code does
            return 7;
        };

        var cancelled = _cache.GetOrCreateAsync("k", factory, cancellationToken: first.Token).AsTask();
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var other = _cache.GetOrCreateAsync("k", factory).AsTask();
        first.Cancel();

        Assert.CatchAsync<OperationCanceledException>(async () => await cancelled.WaitAsync(TimeSpan.FromSeconds(10)), "the cancelled caller is not held until the factory ends");
        gate.SetResult();
        Assert.That(await other.WaitAsync(TimeSpan.FromSeconds(10)), Is.EqualTo(7));
        Assert.That(tokens, Has.Count.EqualTo(1), "one factory call");
        Assert.That(tokens.Single().IsCancellationRequested, Is.False, "the factory's token stayed live: another caller waited");
    }

    [TestCase("")]
    [TestCase("   ")]
    [TestCase("a\nb")]
    [TestCase("long")]
    public async Task A_key_that_cannot_be_cached_runs_the_factory_every_time_without_an_error(string key)
    {
        key = key == "long" ? new string('k', 1025) : key;
        var calls = 0;
        Func<CancellationToken, ValueTask<int>> factory = _ => new(Interlocked.Increment(ref calls));

        Assert.That(await _cache.GetOrCreateAsync(key, factory), Is.EqualTo(1));
        Assert.That(await _cache.GetOrCreateAsync(key, factory), Is.EqualTo(2), "not cached");
    }

    [Test]
    public async Task Removing_empty_tags_does_nothing()
    {
        Assert.That(await _cache.GetOrCreateAsync("k", _ => new ValueTask<int>(1), tags: ["users"]), Is.EqualTo(1));
        await _cache.RemoveByTagAsync("");
        await _cache.RemoveByTagAsync(["", " "]);
        Assert.That(await _cache.GetOrCreateAsync("k", _ => new ValueTask<int>(2)), Is.EqualTo(1), "an empty tag invalidated nothing");
        await _cache.RemoveByTagAsync("users");
        Assert.That(await _cache.GetOrCreateAsync("k", _ => new ValueTask<int>(3)), Is.EqualTo(3));
    }

    [Test]
    public async Task GetOrCreateAsync_calls_the_factory_on_a_miss_only()
    {
        var calls = 0;
        var first = await _cache.GetOrCreateAsync("product:1", async ct => { calls++; await Task.Yield(); return new Product(1, "Tea"); });
        var second = await _cache.GetOrCreateAsync("product:1", async ct => { calls++; await Task.Yield(); return new Product(1, "Coffee"); });

        Assert.That(first, Is.EqualTo(new Product(1, "Tea")));
        Assert.That(second, Is.EqualTo(new Product(1, "Tea")));
        Assert.That(calls, Is.EqualTo(1));
    }

    [Test]
    public async Task The_state_overload_passes_its_state()
    {
        var value = await _cache.GetOrCreateAsync("greeting", "world", static (who, ct) => ValueTask.FromResult("hello " + who));

        Assert.That(value, Is.EqualTo("hello world"));
    }

    [Test]
    public async Task Concurrent_callers_of_one_key_share_one_factory_call()
    {
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        var callers = Enumerable.Range(0, 8)
            .Select(_ => _cache.GetOrCreateAsync("slow", async ct => { Interlocked.Increment(ref calls); return await gate.Task; }).AsTask())
            .ToArray();

        gate.SetResult(42);
        var results = await Task.WhenAll(callers);

        Assert.That(results, Is.All.EqualTo(42));
        Assert.That(calls, Is.EqualTo(1));
    }

    [Test]
    public async Task SetAsync_writes_what_GetOrCreateAsync_then_reads()
    {
        await _cache.SetAsync("k", 5);

        Assert.That(await _cache.GetOrCreateAsync("k", ct => ValueTask.FromResult(9)), Is.EqualTo(5));
    }

    [Test]
    public async Task RemoveAsync_drops_one_key_or_many()
    {
        foreach (var key in new[] { "a", "b", "c" })
        {
            await _cache.SetAsync(key, key.ToUpperInvariant());
        }

        await _cache.RemoveAsync("a");
        await _cache.RemoveAsync(["b", "missing"]);

        Assert.That(await _cache.GetOrCreateAsync("a", ct => ValueTask.FromResult("new a")), Is.EqualTo("new a"));
        Assert.That(await _cache.GetOrCreateAsync("b", ct => ValueTask.FromResult("new b")), Is.EqualTo("new b"));
        Assert.That(await _cache.GetOrCreateAsync("c", ct => ValueTask.FromResult("new c")), Is.EqualTo("C"));
    }

    [Test]
    public async Task RemoveByTagAsync_makes_the_tagged_entries_miss_and_leaves_the_others()
    {
        await _cache.GetOrCreateAsync("user:1", ct => ValueTask.FromResult("Ada"), tags: ["users", "user:1"]);
        await _cache.GetOrCreateAsync("user:2", ct => ValueTask.FromResult("Bob"), tags: ["users", "user:2"]);
        await _cache.SetAsync("config", "on", tags: ["config"]);

        await _cache.RemoveByTagAsync("user:1");

        Assert.That(await _cache.GetOrCreateAsync("user:1", ct => ValueTask.FromResult("Ada 2"), tags: ["users", "user:1"]), Is.EqualTo("Ada 2"));
        Assert.That(await _cache.GetOrCreateAsync("user:2", ct => ValueTask.FromResult("Bob 2"), tags: ["users", "user:2"]), Is.EqualTo("Bob"));

        await _cache.RemoveByTagAsync(["users"]);

        Assert.That(await _cache.GetOrCreateAsync("user:2", ct => ValueTask.FromResult("Bob 3"), tags: ["users", "user:2"]), Is.EqualTo("Bob 3"));
        Assert.That(await _cache.GetOrCreateAsync("config", ct => ValueTask.FromResult("off"), tags: ["config"]), Is.EqualTo("on"));
    }

    [Test]
    public async Task The_tag_star_removes_every_entry()
    {
        await _cache.SetAsync("a", 1);
        await _cache.SetAsync("b", 2, tags: ["t"]);

        await _cache.RemoveByTagAsync("*");

        Assert.That(await _cache.GetOrCreateAsync("a", ct => ValueTask.FromResult(10)), Is.EqualTo(10));
        Assert.That(await _cache.GetOrCreateAsync("b", ct => ValueTask.FromResult(20)), Is.EqualTo(20));
    }

    [Test]
    public async Task DisableUnderlyingData_reads_without_calling_the_factory()
    {
        var readOnly = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableUnderlyingData };
        await _cache.SetAsync("present", 3);

        Assert.That(await _cache.GetOrCreateAsync("absent", ct => ValueTask.FromResult(7), readOnly), Is.EqualTo(0));
        Assert.That(await _cache.GetOrCreateAsync("present", ct => ValueTask.FromResult(7), readOnly), Is.EqualTo(3));
    }

    [Test]
    public async Task Disabling_every_write_returns_the_value_without_storing_it()
    {
        var noWrites = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheWrite | HybridCacheEntryFlags.DisableDistributedCacheWrite };

        Assert.That(await _cache.GetOrCreateAsync("k", ct => ValueTask.FromResult(1), noWrites), Is.EqualTo(1));
        Assert.That(await _cache.GetOrCreateAsync("k", ct => ValueTask.FromResult(2)), Is.EqualTo(2));
    }

    [Test]
    public async Task Disabling_every_read_calls_the_factory_and_stores_its_value()
    {
        var noReads = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheRead | HybridCacheEntryFlags.DisableDistributedCacheRead };
        await _cache.SetAsync("k", 1);

        Assert.That(await _cache.GetOrCreateAsync("k", ct => ValueTask.FromResult(2), noReads), Is.EqualTo(2));
        Assert.That(await _cache.GetOrCreateAsync("k", ct => ValueTask.FromResult(3)), Is.EqualTo(2));
    }

    [Test]
    public void A_failing_factory_reaches_the_caller_and_stores_nothing()
    {
        Assert.ThrowsAsync<InvalidOperationException>(async () => await _cache.GetOrCreateAsync<int>("k", ct => throw new InvalidOperationException("down")));
        Assert.That(async () => await _cache.GetOrCreateAsync("k", ct => ValueTask.FromResult(4)), Is.EqualTo(4));
    }

    [Test]
    public void A_cancelled_caller_gets_an_OperationCanceledException()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.That(
            async () => await _cache.GetOrCreateAsync("k", async ct => { await Task.Delay(Timeout.Infinite, ct); return 1; }, cancellationToken: cancelled.Token),
            Throws.InstanceOf<OperationCanceledException>());
    }

    public sealed record Product(int Id, string Name);
}
