using Cached.Hybrid;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace Cached.Tests.Ecosystem;

/// <summary>
/// An outsider's check of <see cref="HybridCacheEntryFlags"/> through <see cref="CachedHybridCache"/>, side by side with
/// Microsoft's own HybridCache (in-process only, no IDistributedCache registered): what one call's flags do to a caller
/// that cancels, to the calls its factory makes, and to the callers that share its flight. Each test states the
/// behaviour Microsoft's implementation shows; a test is a finding when it fails on a Cached implementation only.
/// Found (failing on Cached, passing on Microsoft): a flagged call on the step-by-step path holds a cancelled caller
/// until its factory ends; on two levels, an outer call's DisableLocalCacheWrite or LocalCacheExpiration reaches the
/// calls its factory makes for other keys, and a caller without flags that joins such a call's flight gets no local copy.
/// </summary>
[TestFixture("Microsoft")]
[TestFixture("Cached memory")]
[TestFixture("Cached two levels")]
[NonParallelizable]
public sealed class OutsiderHybridFlagsReviewTests(string implementation)
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(5);

    // Reads the local level only and never calls the factory: whether this node holds a copy, on all three.
    private static readonly HybridCacheEntryOptions s_localProbe = new()
    {
        Flags = HybridCacheEntryFlags.DisableDistributedCacheRead | HybridCacheEntryFlags.DisableUnderlyingData,
    };

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
    }

    [TearDown]
    public void Dispose()
    {
        _services.Dispose();
        _backing?.Dispose();
        Caches.Reset();
    }

    private static TaskCompletionSource Signal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// docs/microsoft-caching.md: "As in Microsoft's implementation: a caller that cancels leaves at once". A call with a
    /// flag that sends it down the step-by-step path (any flag but DisableLocalCacheWrite alone) awaits the factory
    /// itself, so a caller whose factory ignores its token (as the contract test's factory does) is held until the
    /// factory ends. Microsoft's caller leaves at once whatever its flags.
    /// </summary>
    [Test]
    public async Task A_caller_that_cancels_a_flagged_call_leaves_at_once_though_the_factory_ignores_its_token(
        [Values(HybridCacheEntryFlags.DisableLocalCacheRead, HybridCacheEntryFlags.DisableLocalCacheWrite, HybridCacheEntryFlags.DisableDistributedCacheRead, HybridCacheEntryFlags.DisableDistributedCacheWrite, HybridCacheEntryFlags.DisableCompression)] HybridCacheEntryFlags flags)
    {
        var entered = Signal();
        var gate = Signal();
        using var cancel = new CancellationTokenSource();
        var options = new HybridCacheEntryOptions { Flags = flags };

        var call = _cache.GetOrCreateAsync("k", async ct =>
        {
            entered.TrySetResult();
            await gate.Task; // ignores its token, as much real code does
            return 7;
        }, options, cancellationToken: cancel.Token).AsTask();
        await entered.Task.WaitAsync(s_limit);
        cancel.Cancel();

        try
        {
            Assert.CatchAsync<OperationCanceledException>(async () => await call.WaitAsync(s_limit), "the cancelled caller was held until the factory ended");
        }
        finally
        {
            gate.TrySetResult();
        }
    }

    /// <summary>
    /// A factory that reads another key through the same HybridCache (an order's factory loading its customer): the
    /// inner call has no flags and must be cached as any call without flags is, locally included. On a two-level cache
    /// the outer call's DisableLocalCacheWrite (a LocalTtl of zero carried in an AsyncLocal) reaches the inner call, so
    /// the customer is never kept in this node's L1. Microsoft keeps the inner entry locally.
    /// </summary>
    [Test]
    public async Task A_call_the_factory_makes_for_another_key_is_not_bound_by_the_outer_call_s_DisableLocalCacheWrite()
    {
        var outer = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheWrite };

        var order = await _cache.GetOrCreateAsync("order:1", async ct =>
        {
            var customer = await _cache.GetOrCreateAsync("customer:7", _ => ValueTask.FromResult(70), cancellationToken: ct);
            return customer + 1;
        }, outer);

        Assert.That(order, Is.EqualTo(71));
        Assert.That(
            await _cache.GetOrCreateAsync("customer:7", _ => ValueTask.FromResult(-1), s_localProbe),
            Is.EqualTo(70),
            "the inner call, made without flags, keeps its value in the local level");
    }

    /// <summary>
    /// The same through LocalCacheExpiration: the outer call keeps its own L1 copy for a short while; the inner call,
    /// which says nothing of it, must not inherit that bound. Checked without a clock: a bound of one tick means the
    /// inner copy is gone by the time it is probed.
    /// </summary>
    [Test]
    public async Task A_call_the_factory_makes_for_another_key_is_not_bound_by_the_outer_call_s_LocalCacheExpiration()
    {
        var outer = new HybridCacheEntryOptions { LocalCacheExpiration = TimeSpan.FromTicks(1) };

        await _cache.GetOrCreateAsync("order:1", async ct =>
        {
            await _cache.GetOrCreateAsync("customer:7", _ => ValueTask.FromResult(70), cancellationToken: ct);
            return 1;
        }, outer);

        Assert.That(
            await _cache.GetOrCreateAsync("customer:7", _ => ValueTask.FromResult(-1), s_localProbe),
            Is.EqualTo(70),
            "the inner call keeps its local copy for the default local expiration, not the outer call's tick");
    }

    /// <summary>
    /// Flags and the single flight: a caller without flags that arrives while a call with DisableLocalCacheWrite is
    /// loading the same key. Microsoft keys its stampede by key and flags, so the caller without flags gets a flight of
    /// its own and a local copy. Cached joins the two callers in one flight, which runs under the first caller's
    /// LocalTtl of zero: the caller that asked for nothing special is left without its local copy.
    /// </summary>
    [Test]
    public async Task A_caller_without_flags_that_joins_a_DisableLocalCacheWrite_call_in_flight_still_gets_a_local_copy()
    {
        var entered = Signal();
        var gate = Signal();
        var secondGate = Signal();
        var noLocalWrite = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheWrite };

        var first = _cache.GetOrCreateAsync("k", async ct =>
        {
            entered.TrySetResult();
            await gate.Task;
            return 7;
        }, noLocalWrite).AsTask();
        await entered.Task.WaitAsync(s_limit);
        var second = _cache.GetOrCreateAsync("k", async ct =>
        {
            await secondGate.Task;
            return 7;
        }).AsTask();

        // The flagged call ends first, its write made; the caller without flags, which called while it ran, ends after
        // (a caller that joined the flagged call's flight would have ended with it, its fill made under its flags).
        gate.SetResult();
        Assert.That(await first.WaitAsync(s_limit), Is.EqualTo(7));
        secondGate.SetResult();
        Assert.That(await second.WaitAsync(s_limit), Is.EqualTo(7));
        Assert.That(await _cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(-1), s_localProbe), Is.EqualTo(7), "the caller without flags keeps a local copy");
    }

    /// <summary>
    /// Tags given through the adapter with each flag that still stores the entry somewhere: RemoveByTagAsync makes the
    /// entry miss on every implementation.
    /// </summary>
    [Test]
    public async Task RemoveByTagAsync_removes_an_entry_written_under_any_storing_flag(
        [Values(HybridCacheEntryFlags.None, HybridCacheEntryFlags.DisableLocalCacheWrite, HybridCacheEntryFlags.DisableDistributedCacheWrite, HybridCacheEntryFlags.DisableLocalCacheRead, HybridCacheEntryFlags.DisableDistributedCacheRead)] HybridCacheEntryFlags flags)
    {
        var options = new HybridCacheEntryOptions { Flags = flags };
        if (implementation is "Microsoft" or "Cached memory" && flags == HybridCacheEntryFlags.DisableLocalCacheWrite)
        {
            // One level, the local one (Microsoft's in-process HybridCache, a memory alias), with its writes off:
            // nothing is stored, alike on both, so there is nothing for the tag to remove.
            Assert.That(await _cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(1), options, tags: ["t"]), Is.EqualTo(1));
            Assert.That(await _cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(2)), Is.EqualTo(2), "nothing was stored");
            return;
        }

        Assert.That(await _cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(1), options, tags: ["t"]), Is.EqualTo(1));
        Assert.That(await _cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(2)), Is.EqualTo(1), "stored");

        await _cache.RemoveByTagAsync("t");

        Assert.That(await _cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(3)), Is.EqualTo(3), "gone with its tag");
    }

    /// <summary>DisableUnderlyingData joins no flight: while another caller's factory runs, it answers a miss at once.</summary>
    [Test]
    public async Task DisableUnderlyingData_answers_default_at_once_while_another_caller_loads_the_key()
    {
        var entered = Signal();
        var gate = Signal();
        var loading = _cache.GetOrCreateAsync("k", async ct =>
        {
            entered.TrySetResult();
            await gate.Task;
            return 7;
        }).AsTask();
        await entered.Task.WaitAsync(s_limit);

        var readOnly = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableUnderlyingData };
        var calls = 0;
        var answer = await _cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(Interlocked.Increment(ref calls)), readOnly).AsTask().WaitAsync(s_limit);

        gate.SetResult();
        Assert.That(await loading.WaitAsync(s_limit), Is.EqualTo(7));
        Assert.That((answer, calls), Is.EqualTo((0, 0)), "a miss, no factory call, not held by the flight");
        Assert.That(await _cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(-1), readOnly), Is.EqualTo(7), "the flight's value, read");
    }
}
