using Cached.Capabilities;
using Cached.Runtime;

namespace Cached.Tests.Runtime;

/// <summary>
/// A miss on <see cref="SimpleMemoryCache"/> opens and stores its fill on the one-key path: the in-process fence only,
/// one of the cache's fixed set, without the batch arrays and the backend fences a shared store needs, held as a value
/// rather than a ticket; the fence's gate makes no semaphore unless two parties want it at once, and the flight no
/// task unless a caller joins it.
/// </summary>
[NonParallelizable]
public sealed class MissAllocationTests
{
    private const int Misses = 2_000;

    [SetUp]
    public void SetUp() => Caches.Reset();

    [TearDown]
    public void TearDown() => Caches.Reset();

    private static CachedMethod<object> MethodOn(SimpleMemoryCache cache)
    {
        Caches.AddInstance("misses", cache);
        return new CachedMethod<object>(new CachedMethodOptions { Method = "Test.Get", Alias = "misses" });
    }

    [Test]
    public void A_miss_of_a_cached_method_allocates_no_ticket_no_semaphore_and_no_task()
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn(cache);
        var next = 0;
        var perMiss = PerMiss(() => _ = method.Invoke($"user:{++next}", 0, static _ => (object)1, null));
        TestContext.Out.WriteLine($"{perMiss:F0} B per miss");

        // The key, the entry and its dictionary node, the flight (linked into its board, FlightBoard): about 250 B on
        // .NET 10, under MemoryCache's TryGetValue + Set (304 B). The flight's own ConcurrentDictionary node made it
        // about 280 B; a fence and its dictionary node per fill about 360 B; a ticket object per fill, a semaphore per
        // fence and a task per flight about 600 B; the batch path of a one-key fill about 1,300 B.
        Assert.That(perMiss, Is.LessThan(265), $"{perMiss:F0} B per miss");
    }

    [Test]
    public void An_async_miss_whose_body_completes_at_once_allocates_what_a_sync_miss_does_and_the_note_of_its_body()
    {
        // The leader's steps run in the calling method and store as the sync path does. Through async methods (the
        // miss, the lead, the fill, the write, each completing at once) this Debug build allocated a state machine
        // for each, about 1,700 B more a miss; a Release build paid their time instead.
        using var cache = new SimpleMemoryCache();
        var method = MethodOn(cache);
        var next = 0;
        var pending = 0;
        var sync = PerMiss(() => _ = method.Invoke($"user:{++next}", 0, static _ => (object)1, null));
        var async = PerMiss(() =>
        {
            var call = method.InvokeAsync($"user:{++next}", 0, static (_, _) => new ValueTask<object>(1), null, CancellationToken.None);
            pending += call.IsCompletedSuccessfully ? 0 : 1;
            _ = call.Result;
        });
        TestContext.Out.WriteLine($"{sync:F0} B per sync miss, {async:F0} B per async miss");

        // Plus the note of its body in its own flow (CachedMethod.Reentry.cs): an async-local set for the body, a new
        // execution context and map of the flow's async-locals, about 160 B in this test runner's flow.
        Assert.That(async, Is.LessThanOrEqualTo(sync + 200), $"{async:F0} B per async miss against {sync:F0} B per sync miss");
        Assert.That(pending, Is.Zero, "every async miss completed at once");
        Assert.That(cache.Get<object>($"user:{next}"), Is.EqualTo(1), "the async miss stored its value");
    }

    /// <summary>Bytes per call of <paramref name="miss"/>, each call a new key, after as many calls to warm up.</summary>
    private static double PerMiss(Action miss)
    {
        Allocations.WarmUp(() =>
        {
            for (var i = 0; i < Misses / 4; i++)
            {
                miss();
            }
        });

        return Allocations.Fewest(() =>
        {
            for (var i = 0; i < Misses; i++)
            {
                miss();
            }
        }) / (double)Misses;
    }

    [Test]
    public void A_fill_on_a_store_in_this_process_notes_no_backend_fence_and_is_still_refused_after_an_invalidation()
    {
        using var cache = new SimpleMemoryCache();
        IFencedFillCache fills = cache;

        using var stored = fills.OpenFill("k");
        Assert.That(fills.TryFill(stored, "v", null, null), Is.True);
        Assert.That(cache.Get<string>("k"), Is.EqualTo("v"));

        using var refused = fills.OpenFill("k", "ns");
        cache.Delete("k", "ns");
        Assert.Multiple(() =>
        {
            Assert.That(stored.RemoteFence, Is.Null);
            Assert.That(fills.TryFill(refused, "stale", null, null), Is.False, "a delete during the fill is final");
            Assert.That(cache.Exists("k", "ns"), Is.False);
        });
    }
}
