using Cached.Runtime;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Commands;

/// <summary>One TTL rule on every backend: a span is rounded up to a whole millisecond, Redis's resolution.</summary>
public sealed class TtlRoundingTests
{
    private static readonly TimeSpan s_halfMillisecond = TimeSpan.FromTicks(TimeSpan.TicksPerMillisecond / 2);

    [TestCase(1L, 10_000L)]
    [TestCase(5_000L, 10_000L)]
    [TestCase(10_000L, 10_000L)]
    [TestCase(10_001L, 20_000L)]
    [TestCase(25_000_000L, 25_000_000L)]
    public void A_ttl_is_rounded_up_to_a_whole_millisecond(long ticks, long expected)
        => Assert.That(TtlRules.Normalize(TimeSpan.FromTicks(ticks), "ttl"), Is.EqualTo(TimeSpan.FromTicks(expected)));

    [Test]
    public void The_largest_spans_are_kept_as_they_are()
        => Assert.That(TtlRules.Normalize(TimeSpan.MaxValue, "ttl"), Is.EqualTo(TimeSpan.MaxValue));

    [Test]
    public void A_half_millisecond_entry_on_the_memory_backend_lives_one_millisecond()
    {
        var time = new FakeTimeProvider();
        using var cache = new SimpleMemoryCache { TimeProvider = time };

        cache.Set("k", "v", s_halfMillisecond);
        time.Advance(TimeSpan.FromTicks(TimeSpan.TicksPerMillisecond - 1));
        Assert.That(cache.Exists("k"), Is.True, "a half-millisecond TTL means 1 ms, as on Redis");
        time.Advance(TimeSpan.FromTicks(1));
        Assert.That(cache.Exists("k"), Is.False);
    }
}
