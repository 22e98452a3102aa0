using Cached.Serializers;
using MessagePackSerializer = Cached.Serializers.MessagePackSerializer;

namespace Cached.Tests.Serializers;

public sealed record Pair(int Left, int Right);

/// <summary>An outsider's probes: reads as another type must fail rather than answer made-up data.</summary>
public sealed class MessagePackReviewTests
{
    [Test]
    public void A_record_read_as_another_record_with_no_member_in_common_reads_as_defaults_as_serializers_md_says()
    {
        // serializers.md: the contractless resolver matches members by name and leaves the missing ones at their
        // defaults (JsonSerializer refuses the same read, RespectRequiredConstructorParameters): a known limit.
        using var cache = new SimpleMemoryCache { Serializer = new MessagePackSerializer() };
        cache.Set("k", new Person("Ada", 36, ["math"]));

        Assert.That(cache.Get<Pair>("k"), Is.EqualTo(new Pair(0, 0)));
    }

    [Test]
    public void Reads_as_another_primitive_type_are_CacheSerializationException()
    {
        using var cache = new SimpleMemoryCache { Serializer = new MessagePackSerializer() };
        cache.Set("s", "abc");
        cache.Set("big", long.MaxValue);
        cache.Set("f", 1.5);
        cache.Set("b", true);

        Assert.That(() => cache.Get<int>("s"), Throws.InstanceOf<CacheSerializationException>());
        Assert.That(() => cache.Get<int>("big"), Throws.InstanceOf<CacheSerializationException>());
        Assert.That(() => cache.Get<int>("f"), Throws.InstanceOf<CacheSerializationException>());
        Assert.That(() => cache.Get<int>("b"), Throws.InstanceOf<CacheSerializationException>());
        Assert.That(() => cache.Get<Person>("s"), Throws.InstanceOf<CacheSerializationException>());
        Assert.That(() => cache.Get<DateTime>("s"), Throws.InstanceOf<CacheSerializationException>());
    }

    [Test]
    public void Awkward_values_round_trip()
    {
        using var cache = new SimpleMemoryCache { Serializer = new MessagePackSerializer() };
        var big = new string('é', 600_000) + "😀";
        var offset = new DateTimeOffset(2024, 3, 1, 10, 0, 0, TimeSpan.FromHours(5.5)).AddTicks(7);
        cache.Set("big", big);
        cache.Set("empty", Array.Empty<byte>());
        cache.Set<int?>("n", null);
        cache.Set("dec", 1.500m);
        cache.Set("off", offset);
        cache.Set<object>("obj", new Pair(1, 2));

        Assert.That(cache.Get<string>("big"), Is.EqualTo(big));
        Assert.That(cache.TryGet<byte[]>("empty", out var empty) && empty!.Length == 0, Is.True);
        Assert.That(cache.TryGet<int?>("n", out var n) && n is null, Is.True);
        Assert.That(cache.Get<decimal>("dec").ToString(System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo("1.500"));
        Assert.That(cache.Get<DateTimeOffset>("off").Offset, Is.EqualTo(offset.Offset));
        Assert.That(cache.Get<DateTimeOffset>("off"), Is.EqualTo(offset));
        Assert.That(cache.Get<Pair>("obj"), Is.EqualTo(new Pair(1, 2)));
    }
}
