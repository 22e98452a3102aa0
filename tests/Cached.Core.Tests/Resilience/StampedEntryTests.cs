using System.Buffers;
using System.Text;
using Cached.Resilience;
using Cached.Serializers;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Resilience;

/// <summary>The stamped entry: its byte header, what is never taken for one, and a hit that reads no clock of its own.</summary>
public sealed class StampedEntryTests
{
    [Test]
    public void The_header_round_trips_every_instant_and_the_throttle_flag()
    {
        var writer = new ArrayBufferWriter<byte>();
        StampFormat.WriteHeader(writer, freshUntil: 1_000, staleUntil: 2_000, refreshAt: 900, throttled: true);
        writer.Write("\"v\""u8);

        Assert.That(StampFormat.TryReadHeader(new ReadOnlySequence<byte>(writer.WrittenMemory), out var fresh, out var stale, out var refresh, out var throttled, out var value), Is.True);
        Assert.That((fresh, stale, refresh, throttled), Is.EqualTo((1_000L, 2_000L, 900L, true)));
        Assert.That(Encoding.UTF8.GetString(value.ToArray()), Is.EqualTo("\"v\""));
        Assert.That(writer.WrittenSpan[..4].ToArray(), Is.EqualTo(new byte[] { 0x00, 0xCA, 0xC4, 0xED }));
    }

    [TestCase("\"a plain JSON string of more than thirty bytes\"")]
    [TestCase("{\"id\":1,\"name\":\"Ada Lovelace\",\"tags\":[1,2,3]}")]
    [TestCase("\u0000 a text that starts with a NUL and goes on for a while")]
    public void A_plain_payload_is_never_taken_for_a_stamped_one(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);

        Assert.That(StampFormat.TryReadHeader(new ReadOnlySequence<byte>(bytes), out _, out _, out _, out _, out _), Is.False);
        Assert.That(StampFormat.TryUnwrap(bytes, out _, out _, out _), Is.False);
    }

    [Test]
    public void A_cache_that_stores_bytes_keeps_the_stamp_before_the_serializer_s_payload_and_plain_reads_see_through_it()
    {
        var time = new FakeTimeProvider();
        using var cache = new SimpleMemoryCache { TimeProvider = time, Serializer = new JsonSerializer() };
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), FailSafe = TimeSpan.FromSeconds(60) };
        cache.GetOrSet("k", _ => "v1", options);

        var raw = (byte[])cache.Raw("GET", "k")!;
        Assert.That(raw[..4], Is.EqualTo(new byte[] { 0x00, 0xCA, 0xC4, 0xED }));
        Assert.That(Encoding.UTF8.GetString(raw[StampFormat.HeaderLength..]), Is.EqualTo("\"v1\""));
        Assert.That(cache.Get<string>("k"), Is.EqualTo("v1"));
        time.Advance(TimeSpan.FromSeconds(11));
        Assert.That(cache.Get<string>("k"), Is.Null);
        Assert.That(cache.GetOrSet<string>("k", _ => throw new InvalidOperationException(), options), Is.EqualTo("v1"));
    }

    [Test]
    public void A_stamped_memory_hit_reads_the_clock_once_the_read_the_store_makes_for_physical_expiry()
    {
        var clock = new CountingClock();
        using var cache = new SimpleMemoryCache { TimeProvider = clock };
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), FailSafe = TimeSpan.FromSeconds(60), EagerRefresh = 0.9 };
        cache.GetOrSet("k", _ => "v1", options);
        cache.GetOrSet("k", _ => "not called", options);

        clock.Reset();
        Assert.That(cache.GetOrSet("k", _ => "not called", options), Is.EqualTo("v1"));

        Assert.That((clock.Timestamps, clock.WallClockReads), Is.EqualTo((1, 0)));
    }

    /// <summary>A fake clock that counts how often it is read.</summary>
    private sealed class CountingClock : TimeProvider
    {
        private readonly FakeTimeProvider _time = new();

        public int Timestamps { get; private set; }

        public int WallClockReads { get; private set; }

        public override long TimestampFrequency => _time.TimestampFrequency;

        public override DateTimeOffset GetUtcNow()
        {
            WallClockReads++;
            return _time.GetUtcNow();
        }

        public override long GetTimestamp()
        {
            Timestamps++;
            return _time.GetTimestamp();
        }

        public void Reset() => (Timestamps, WallClockReads) = (0, 0);
    }
}
