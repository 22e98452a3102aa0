using Cached.Serializers;

namespace Cached.Tests.Outsider;

/// <summary>
/// The memory twin of tests/Cached.Redis.Tests/OutsiderVersionSkewReviewTests.cs: a method that gained <c>Tags</c>
/// finds an entry written without them (a plain <c>Set</c>, or the method before its tags). Such an entry cannot be
/// invalidated by the tags, so a tagged read takes it as a miss and replaces it, on a cache that keeps references and
/// on one that keeps bytes alike.
/// </summary>
[TestFixture]
public sealed class OutsiderVersionSkewMemoryReviewTests
{
    private static readonly CacheEntryOptions s_tagged = new() { Ttl = TimeSpan.FromMinutes(1), Tags = ["t"] };

    private static readonly CacheEntryOptions s_failSafe = new() { Ttl = TimeSpan.FromMinutes(1), FailSafe = TimeSpan.FromMinutes(10) };

    [Test]
    public async Task A_tagged_GetOrSet_replaces_an_untagged_entry_that_its_invalidation_could_not_reach([Values] bool bytes, [Values] bool failSafeWriter)
    {
        await using var cache = bytes ? new SimpleMemoryCache { Serializer = new JsonSerializer() } : new SimpleMemoryCache();
        if (failSafeWriter)
        {
            cache.GetOrSet("k", _ => "untagged", s_failSafe);
        }
        else
        {
            cache.Set("k", "untagged");
        }

        var calls = 0;
        Assert.That(cache.GetOrSet("k", _ => "tagged" + ++calls, s_tagged), Is.EqualTo("tagged1"));
        Assert.That(await cache.GetOrSetAsync("k", _ => new ValueTask<string>("tagged" + ++calls), s_tagged), Is.EqualTo("tagged1"));

        cache.InvalidateTags(["t"]);

        Assert.That(cache.GetOrSet("k", _ => "tagged" + ++calls, s_tagged), Is.EqualTo("tagged2"));
    }

    /// <summary>
    /// A tagged call whose factory fails answers with the untagged last value (fail-safe), but must not write it back
    /// fresh for the throttle under its tags: the copy would look current to every tagged reader, though no invalidation
    /// of those tags could have reached the value.
    /// </summary>
    [Test]
    public async Task A_tagged_call_that_fails_over_an_untagged_last_value_serves_it_without_making_it_a_tagged_hit([Values] bool async)
    {
        await using var cache = new SimpleMemoryCache();
        cache.GetOrSet("k", _ => "untagged", s_failSafe);
        var taggedFailSafe = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), FailSafe = TimeSpan.FromMinutes(10), Tags = ["t"] };

        var served = async
            ? await cache.GetOrSetAsync<string>("k", _ => throw new InvalidOperationException("source down"), taggedFailSafe)
            : cache.GetOrSet<string>("k", _ => throw new InvalidOperationException("source down"), taggedFailSafe);

        Assert.That(served, Is.EqualTo("untagged"), "the failing call gets the last value");
        var calls = 0;
        Assert.That(cache.GetOrSet("k", _ => "tagged" + ++calls, taggedFailSafe), Is.EqualTo("tagged1"), "the next tagged call runs its factory");
    }

    [Test]
    public async Task A_GetOrSet_without_tags_still_reads_a_tagged_entry_and_a_plain_one()
    {
        await using var cache = new SimpleMemoryCache();
        cache.Set("plain", "p");
        cache.GetOrSet("tagged", _ => "t", s_tagged);

        Assert.That(cache.GetOrSet("plain", _ => "computed", s_failSafe), Is.EqualTo("p"));
        Assert.That(cache.GetOrSet("tagged", _ => "computed", s_failSafe), Is.EqualTo("t"));
    }

    /// <summary>
    /// Two methods whose keys collide after a key template changed, on a cache that keeps references: the entry holds
    /// the other method's type. It is a miss the caller's value replaces, not an <see cref="InvalidCastException"/>.
    /// </summary>
    [Test]
    public async Task An_entry_of_another_type_kept_by_reference_is_a_miss_the_value_replaces([Values] bool async, [Values] bool failSafe)
    {
        await using var cache = new SimpleMemoryCache();
        cache.Set("k", 5);
        var options = failSafe ? s_failSafe : null;
        var calls = 0;
        string Read() => async
            ? cache.GetOrSetAsync("k", _ => new ValueTask<string>("text" + ++calls), options).AsTask().GetAwaiter().GetResult()
            : cache.GetOrSet("k", _ => "text" + ++calls, options);

        Assert.That(Read(), Is.EqualTo("text1"));
        Assert.That(Read(), Is.EqualTo("text1"));
    }
}
