using Cached.Runtime;
using Cached.Tests.Resilience;
using Cached.Tests.Runtime;

namespace Cached.Tests.Tags;

/// <summary>[InvalidateTags]' runtime: each cache once, and a fault logged rather than thrown after the method's work is done.</summary>
public sealed class TagInvalidationTests : ResilienceFixture
{
    [Test]
    public async Task Each_cache_of_the_type_s_tagged_methods_is_invalidated_once([Values] bool async)
    {
        var invalidations = 0;
        using var shared = new SimpleMemoryCache { Plugins = [new Counting(() => invalidations++)] };
        var first = new CachedMethod<int>(new CachedMethodOptions { Method = "A", CacheFactory = () => shared, Tagged = true });
        var second = new CachedMethod<string>(new CachedMethodOptions { Method = "B", CacheFactory = () => shared, Tagged = true });
        shared.Set("k", 1, new CacheEntryOptions { Tags = ["t"] });

        if (async)
        {
            await TagInvalidation.InvalidateAsync(["t"], [first, second], CancellationToken.None);
        }
        else
        {
            TagInvalidation.Invalidate(["t"], first, second);
        }

        Assert.That(invalidations, Is.EqualTo(1));
        Assert.That(shared.TryGet<int>("k", out _), Is.False);
    }

    [Test]
    public async Task The_caches_of_several_methods_are_invalidated_side_by_side()
    {
        // In an outage each cache's invalidation waits out its timeout: one after another, N caches took N timeouts.
        using var first = new Commands.GatedCache();
        using var second = new Commands.GatedCache();
        var a = new CachedMethod<int>(new CachedMethodOptions { Method = "A", CacheFactory = () => first, Tagged = true });
        var b = new CachedMethod<int>(new CachedMethodOptions { Method = "B", CacheFactory = () => second, Tagged = true });

        var invalidation = TagInvalidation.InvalidateAsync(["t"], [a, b], CancellationToken.None).AsTask();

        Assert.That(second.MostWaiting, Is.GreaterThan(0), "the second cache's invalidation started while the first one's waits");
        first.Open();
        second.Open();
        await invalidation.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Test]
    public async Task The_tags_are_invalidated_even_when_the_method_s_token_was_cancelled_after_its_body([Values] bool byAlias)
    {
        // Regression: the invalidation ran under the token and threw before invalidating; the body's change was made, the entries stayed.
        using var cache = new SimpleMemoryCache();
        Caches.AddInstance("tagged-after-cancel", cache);
        var method = new CachedMethod<int>(new CachedMethodOptions { Method = "A", CacheFactory = () => cache, Tagged = true });
        cache.Set("k", 1, new CacheEntryOptions { Tags = ["t"] });
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        try
        {
            if (byAlias)
            {
                await TagInvalidation.InvalidateAsync("tagged-after-cancel", ["t"], cancelled.Token);
            }
            else
            {
                await TagInvalidation.InvalidateAsync(["t"], [method], cancelled.Token);
            }
        }
        finally
        {
            Caches.Reset();
        }

        Assert.That(cache.TryGet<int>("k", out _), Is.False);
    }

    [Test]
    public async Task A_fault_or_an_empty_alias_is_logged_not_thrown([Values] bool async)
    {
        using var failing = new TestBackend { FailWrites = true };
        var method = new CachedMethod<int>(new CachedMethodOptions { Method = "A", CacheFactory = () => failing, Tagged = true });

        if (async)
        {
            await TagInvalidation.InvalidateAsync(["t"], [method], CancellationToken.None);
            await TagInvalidation.InvalidateAsync(string.Empty, ["t"], CancellationToken.None);
        }
        else
        {
            TagInvalidation.Invalidate(["t"], method);
            TagInvalidation.Invalidate(string.Empty, ["t"]);
        }

        Assert.That(Logs.Entries.Count(e => e.EventId == 4), Is.EqualTo(2));
    }

    private sealed class Counting(Action onInvalidate) : Cached.Plugins.CachePlugin
    {
        protected override void PostInvalidateTags(Cached.Plugins.CacheCommandContext context) => onInvalidate();
    }
}
