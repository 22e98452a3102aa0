using System.Numerics;
using Cached.Serializers;
using Cached.Tests.Serializers;
using JsonSerializer = Cached.Serializers.JsonSerializer;

namespace Cached.Tests;

/// <summary>
/// An outside review of <c>JsonSerializer</c>, <c>StringSerializer</c> and <c>NullSerializer</c> on the memory backend,
/// against docs/serializers.md and docs/caches.md (each test quotes the sentence it checks): the probes every backend
/// shares (<see cref="SerializerReviewProbes"/>), then what holds on memory only. Failing tests mark values that come
/// back other than the docs say, or are lost; the Redis twin is tests/Cached.Redis.Tests/OutsiderSerializerReviewTests.cs.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderSerializerReviewTests : SerializerReviewProbes
{
    /// <inheritdoc />
    protected override ICache CreateCache(ISerializer serializer)
        => new SimpleMemoryCache { Serializer = serializer, Namespace = "review" };

    // ---- NullSerializer on memory ----

    /// <summary>serializers.md: NullSerializer "Reads back as: the same object"; References: "the stored object itself (memory)".</summary>
    [Test]
    public void Null_on_memory_returns_the_same_object_for_any_value()
    {
        var cache = NewCache(NullSerializer.Instance);
        var bag = new List<object?> { null, double.NaN, new Point(1, 2) };
        cache.Set<object>("o", 42);
        cache.Set("l", bag);
        cache.Set("rom", new ReadOnlyMemory<byte>([1, 2]));

        Assert.That(cache.Get<object>("o"), Is.EqualTo(42));
        Assert.That(cache.Get<int>("o"), Is.EqualTo(42));
        Assert.That(cache.Get<List<object?>>("l"), Is.SameAs(bag));
        Assert.That(cache.Get<ReadOnlyMemory<byte>>("rom").ToArray(), Is.EqualTo(new byte[] { 1, 2 }));
    }

    // ---- per-call serializers, cross-serializer reads ----

    /// <summary>caches.md: "Reads and writes also take a serializer: that replaces the cache's for that call". A JSON write on a
    /// NullSerializer memory cache is bytes; a read with the same per-call serializer gets the value back, on Get, TryGet and MultiGet.</summary>
    [Test]
    public void Per_call_Json_on_a_Null_memory_cache_reads_back_with_the_same_per_call_serializer()
    {
        var cache = NewCache(NullSerializer.Instance);
        var json = new JsonSerializer();
        cache.Set("k", new Point(1, 2), serializer: json);
        cache.MultiSet(new Dictionary<string, double> { ["a"] = double.NaN, ["b"] = -0.0 }, serializer: json);
        cache.MultiSet(new Dictionary<string, string?> { ["s"] = null, ["e"] = "" }, serializer: new StringSerializer());

        Assert.That(cache.Get<Point>("k", serializer: json), Is.EqualTo(new Point(1, 2)));
        Assert.That(cache.MultiGet<double>(["a", "b", "missing"], serializer: json).Select(static d => Describe(d)), Is.EqualTo(new[] { Describe(double.NaN), Describe(-0.0), Describe(0.0) }));
        var strings = cache.MultiTryGet<string>(["s", "e"], serializer: new StringSerializer());
        Assert.That(strings.Select(static r => (r.Found, r.Value)), Is.EqualTo(new[] { (true, (string?)null), (true, "") }));
    }

    /// <summary>A NullSerializer memory cache holding references, read with a per-call copying serializer: refused with
    /// CacheSerializationException (or read back exactly), never the wrong value.</summary>
    [Test]
    public void Per_call_Json_read_of_an_entry_stored_as_a_reference()
    {
        var cache = NewCache(NullSerializer.Instance);
        cache.Set("k", new Point(1, 2));
        cache.Set("s", "text");

        try
        {
            Assert.That(cache.Get<Point>("k", serializer: new JsonSerializer()), Is.EqualTo(new Point(1, 2)));
        }
        catch (CacheSerializationException)
        {
        }

        try
        {
            Assert.That(cache.Get<string>("s", serializer: new StringSerializer()), Is.EqualTo("text"));
        }
        catch (CacheSerializationException)
        {
        }
    }

    /// <summary>serializers.md (MessagePack section, "Entries carry no mark of the serializer that wrote them ... A payload the
    /// other format cannot read is refused with a CacheSerializationException"): String text read by Json.</summary>
    [Test]
    public void Reading_String_text_with_Json_is_a_CacheSerializationException()
    {
        var cache = NewCache(new StringSerializer());
        cache.Set("word", "abc");
        cache.Set<string?>("none", null);
        cache.Set("bool", true);

        Assert.Throws<CacheSerializationException>(() => cache.Get<string>("word", serializer: new JsonSerializer()));
        Assert.Throws<CacheSerializationException>(() => cache.Get<string>("none", serializer: new JsonSerializer()));
        Assert.Throws<CacheSerializationException>(() => cache.Get<bool>("bool", serializer: new JsonSerializer()));
    }

    // ---- Increment under each serializer ----

    /// <summary>caches.md: "The counter is stored as its decimal text (Redis INCRBY's form), which the text serializers read back
    /// with Get&lt;long&gt;; in memory without a serializer, an integer keeps its type and a string becomes a long ..., so Get&lt;long&gt; reads it there too."</summary>
    [Test]
    public void Increment_of_a_missing_key_then_Get_long_int_string([Values("json", "string", "null")] string kind)
    {
        ISerializer serializer = kind switch { "json" => new JsonSerializer(), "string" => new StringSerializer(), _ => NullSerializer.Instance };
        var cache = NewCache(serializer);

        Assert.That(cache.Increment("c", 41), Is.EqualTo(41));
        Assert.That(cache.Increment("c"), Is.EqualTo(42));

        Assert.That(cache.Get<long>("c"), Is.EqualTo(42L), "Get<long>");
        Assert.That(cache.Get<long?>("c"), Is.EqualTo(42L), "Get<long?>");
        if (kind != "null")
        {
            Assert.That(cache.Get<int>("c"), Is.EqualTo(42), "Get<int>");
        }

        if (kind == "string")
        {
            Assert.That(cache.Get<string>("c"), Is.EqualTo("42"));
        }
    }

    /// <summary>caches.md: "Increment ... OverflowException past long's range ..., value unchanged."</summary>
    [Test]
    public void Increment_past_long_MaxValue_overflows_and_keeps_the_value([Values("json", "string", "null")] string kind)
    {
        ISerializer serializer = kind switch { "json" => new JsonSerializer(), "string" => new StringSerializer(), _ => NullSerializer.Instance };
        var cache = NewCache(serializer);
        cache.Set("c", long.MaxValue);

        Assert.Throws<OverflowException>(() => cache.Increment("c"));
        Assert.That(cache.Get<long>("c"), Is.EqualTo(long.MaxValue));
    }
}
