using System.Buffers;
using Cached.Serializers;
using MessagePack;
using MessagePack.Resolvers;
using MessagePackSerializer = Cached.Serializers.MessagePackSerializer;

namespace Cached.Tests.Serializers;

public sealed class MessagePackSerializerTests
{
    private static byte[] Write<T>(ISerializer serializer, T value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        serializer.Serialize(buffer, value);
        return buffer.WrittenSpan.ToArray();
    }

    private static T? Read<T>(ISerializer serializer, byte[] payload)
        => serializer.Deserialize<T>(new ReadOnlySequence<byte>(payload));

    // ---- shape ----

    [Test]
    public void It_stores_bytes_not_references()
    {
        Assert.That(new MessagePackSerializer().StoresReferences, Is.False);
    }

    [Test]
    public void The_default_options_are_contractless_and_read_as_untrusted_data()
    {
        var options = new MessagePackSerializer().Options;

        Assert.That(options, Is.SameAs(MessagePackSerializer.DefaultOptions));
        Assert.That(options.Resolver, Is.SameAs(ContractlessStandardResolver.Instance));
        Assert.That(options.Security, Is.SameAs(MessagePackSecurity.UntrustedData));
        Assert.That(options.Compression, Is.EqualTo(MessagePackCompression.None));
    }

    [Test]
    public void The_options_constructor_keeps_the_given_options()
    {
        var options = MessagePackSerializerOptions.Standard.WithResolver(ContractlessStandardResolver.Instance).WithOmitAssemblyVersion(true);

        Assert.That(new MessagePackSerializer(options).Options, Is.SameAs(options));
    }

    [Test]
    public void A_payload_with_bytes_after_its_value_is_refused_not_read_as_its_first_byte()
    {
        // The text "10" starts with '1' (0x31), a whole MessagePack value (the fixint 49): a counter, or JSON, read
        // under MessagePack must fail, never answer 49.
        var serializer = new MessagePackSerializer();

        Assert.That(() => Read<long>(serializer, "10"u8.ToArray()), Throws.InstanceOf<MessagePackSerializationException>());
        Assert.That(() => Read<int>(serializer, "12345"u8.ToArray()), Throws.InstanceOf<MessagePackSerializationException>());
        Assert.That(() => Read<int>(serializer, "\"hello\""u8.ToArray()), Throws.InstanceOf<MessagePackSerializationException>());
        Assert.That(Read<long>(serializer, Write(serializer, 10L)), Is.EqualTo(10), "a whole payload still reads");
    }

    [Test]
    public void A_counter_read_with_MessagePack_is_a_serialization_fault_not_a_wrong_number()
    {
        using var cache = new SimpleMemoryCache { Serializer = new MessagePackSerializer() };
        Assert.That(cache.Increment("n", 10), Is.EqualTo(10));

        Assert.That(() => cache.Get<long>("n"), Throws.InstanceOf<CacheSerializationException>());
    }

    [Test]
    public void A_null_options_argument_is_refused_by_name()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => _ = new MessagePackSerializer(null!));

        Assert.That(ex!.ParamName, Is.EqualTo("options"));
    }

    [Test]
    public void A_null_destination_is_refused_by_name()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => new MessagePackSerializer().Serialize(null!, 1));

        Assert.That(ex!.ParamName, Is.EqualTo("destination"));
    }

    // ---- payloads ----

    [Test]
    public void A_record_is_written_as_a_map_keyed_by_member_names()
    {
        var payload = Write(new MessagePackSerializer(), new Person("Ada", 36, ["math"]));

        // Contract-less: a map of names, so adding or reordering members does not shift what old payloads mean.
        Assert.That(MessagePack.MessagePackSerializer.ConvertToJson(payload), Is.EqualTo("""{"Name":"Ada","Age":36,"Tags":["math"]}"""));
    }

    [Test]
    public void Null_is_written_as_the_MessagePack_nil_byte()
    {
        Assert.That(Write<Person?>(new MessagePackSerializer(), null), Is.EqualTo(new byte[] { 0xC0 }));
    }

    [Test]
    public void A_payload_split_across_segments_is_read()
    {
        var serializer = new MessagePackSerializer();
        var payload = Write(serializer, new Person("Ada", 36, ["math", "engines"]));
        var first = new Segment(payload.AsMemory(0, 5));
        var last = first.Append(payload.AsMemory(5));

        var read = serializer.Deserialize<Person>(new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length));

        Assert.That(read!.Name, Is.EqualTo("Ada"));
        Assert.That(read.Tags, Is.EqualTo(new[] { "math", "engines" }));
    }

    [Test]
    public void A_serializer_is_safe_to_share_between_threads()
    {
        var serializer = new MessagePackSerializer();

        Parallel.For(0, 200, i =>
        {
            var value = new Person($"p{i}", i, [i.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            var read = Read<Person>(serializer, Write(serializer, value));
            Assert.That(read!.Age, Is.EqualTo(i));
            Assert.That(read.Name, Is.EqualTo(value.Name));
        });
    }

    // ---- LZ4 ----

    [TestCase(MessagePackCompression.Lz4BlockArray)]
    [TestCase(MessagePackCompression.Lz4Block)]
    public void Lz4_options_compress_and_round_trip(MessagePackCompression compression)
    {
        var plain = new MessagePackSerializer();
        var lz4 = new MessagePackSerializer(MessagePackSerializer.DefaultOptions.WithCompression(compression));
        var value = Enumerable.Range(0, 500).Select(static i => new Settings { Theme = "solarized-dark", FontSize = i % 3 }).ToList();

        var compressed = Write(lz4, value);
        var uncompressed = Write(plain, value);

        Assert.That(compressed.Length, Is.LessThan(uncompressed.Length / 4), "repetitive data shrinks under LZ4");
        Assert.That(Read<List<Settings>>(lz4, compressed), Is.EqualTo(value));
    }

    [Test]
    public void Lz4_options_work_through_a_cache()
    {
        var lz4 = new MessagePackSerializer(MessagePackSerializer.DefaultOptions.WithCompression(MessagePackCompression.Lz4BlockArray));
        using var compressedCache = new SimpleMemoryCache { Serializer = lz4 };
        using var plainCache = new SimpleMemoryCache { Serializer = new MessagePackSerializer() };
        var value = Enumerable.Repeat("the same words again and again", 200).ToArray();

        compressedCache.Set("k", value);
        plainCache.Set("k", value);

        Assert.That(((byte[])compressedCache.Raw("get", "k")!).Length, Is.LessThan(((byte[])plainCache.Raw("get", "k")!).Length / 4));
        Assert.That(compressedCache.Get<string[]>("k"), Is.EqualTo(value));
    }

    // ---- through a cache ----

    [Test]
    public void A_stored_null_is_a_hit_with_a_null_value()
    {
        using var cache = new SimpleMemoryCache { Serializer = new MessagePackSerializer() };

        cache.Set<Person?>("k", null);

        Assert.That(cache.Raw("get", "k"), Is.EqualTo(new byte[] { 0xC0 }));
        Assert.That(cache.TryGet<Person?>("k", out var value), Is.True);
        Assert.That(value, Is.Null);
        Assert.That(cache.TryGet<Person?>("missing", out _), Is.False);
    }

    [Test]
    public async Task The_async_commands_round_trip_a_value()
    {
        using var cache = new SimpleMemoryCache { Serializer = new MessagePackSerializer() };
        var value = new Person("Ada", 36, ["math"]);

        await cache.SetAsync("k", value);
        var read = await cache.TryGetAsync<Person>("k");

        Assert.That(read.Found, Is.True);
        Assert.That(read.Value!.Name, Is.EqualTo("Ada"));
        Assert.That(read.Value, Is.Not.SameAs(value));
    }

    [Test]
    public void A_value_changed_after_Set_does_not_change_the_cached_value()
    {
        using var cache = new SimpleMemoryCache { Serializer = new MessagePackSerializer() };
        var value = new List<int> { 1 };
        cache.Set("k", value);

        value.Add(2);

        Assert.That(cache.Get<List<int>>("k"), Is.EqualTo(new[] { 1 }));
    }

    [Test]
    public void MultiSet_and_MultiGet_round_trip_every_value()
    {
        using var cache = new SimpleMemoryCache { Serializer = new MessagePackSerializer() };

        cache.MultiSet(new Dictionary<string, Settings> { ["a"] = new() { Theme = "a" }, ["b"] = new() { Theme = "b" } });

        Assert.That(cache.MultiGet<Settings>(["a", "b", "c"]), Is.EqualTo(new[] { new Settings { Theme = "a" }, new Settings { Theme = "b" }, null }));
    }

    [TestCase(new byte[] { 0xC1 }, TestName = "A_never_used_format_byte_surfaces_as_CacheSerializationException")]
    [TestCase(new byte[] { 0x83, 0xA4, 0x4E, 0x61 }, TestName = "A_truncated_payload_surfaces_as_CacheSerializationException")]
    [TestCase(new byte[] { 0xA3, 0x61, 0x62, 0x63 }, TestName = "A_string_read_as_a_record_surfaces_as_CacheSerializationException")]
    public void Garbage_bytes_surface_as_CacheSerializationException(byte[] garbage)
    {
        using var cache = new SimpleMemoryCache { Serializer = new MessagePackSerializer() };
        // The bytes go in as they are, the way another writer of the store could leave them.
        cache.Set("k", garbage, serializer: NullSerializer.Instance);

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Get<Person>("k"));

        Assert.That(ex!.Key, Is.EqualTo("k"));
        Assert.That(ex.ValueType, Is.EqualTo(typeof(Person)));
        Assert.That(ex.InnerException, Is.InstanceOf<MessagePackSerializationException>());
    }

    [Test]
    public void A_non_public_type_is_refused_with_a_CacheSerializationException_and_nothing_is_written()
    {
        using var cache = new SimpleMemoryCache { Serializer = new MessagePackSerializer() };

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Set("k", new InternalRecord("x")));

        Assert.That(ex!.ValueType, Is.EqualTo(typeof(InternalRecord)));
        Assert.That(cache.Exists("k"), Is.False);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
