using System.Buffers;
using System.Text;
using Cached.Serializers;
using JsonSerializer = Cached.Serializers.JsonSerializer;

namespace Cached.Tests.Serializers;

/// <summary>An outsider's probes of the serializers: awkward values, reads as another type, per-call serializers.</summary>
public sealed class SerializerReviewTests
{
    private static readonly FunctionSerializer<string> Shout = new(static s => s.ToUpperInvariant(), static s => s);

    // ---- JSON: a payload is one JSON value ----

    [TestCase("10 items")]
    [TestCase("10 20")]
    [TestCase("1\n2")]
    public void JsonSerializer_refuses_text_after_the_first_value_rather_than_reading_its_first_token(string stored)
    {
        using var cache = new SimpleMemoryCache { Serializer = new JsonSerializer() };
        cache.Set("k", stored, serializer: new StringSerializer());

        Assert.That(() => cache.Get<int>("k"), Throws.InstanceOf<CacheSerializationException>());
    }

    [Test]
    public void JsonSerializer_Deserialize_refuses_a_second_value_after_the_first()
    {
        var json = new JsonSerializer();

        Assert.That(() => json.Deserialize<int>(new ReadOnlySequence<byte>("10 20"u8.ToArray())), Throws.Exception);
        Assert.That(() => json.Deserialize<Point>(new ReadOnlySequence<byte>("""{"X":1,"Y":2} {"X":3,"Y":4}"""u8.ToArray())), Throws.Exception);
    }

    [Test]
    public void JsonSerializer_reads_a_bare_NaN_as_a_number_not_as_the_string_NaN()
    {
        using var cache = new SimpleMemoryCache { Serializer = new JsonSerializer() };
        // json.dumps(float("nan")) from Python.
        cache.Set("k", "NaN"u8.ToArray(), serializer: NullSerializer.Instance);

        Assert.That(cache.Get<double>("k"), Is.NaN);
        Assert.That(() => cache.Get<string>("k"), Throws.InstanceOf<CacheSerializationException>());
    }

    // ---- NullSerializer on a byte store: strings as they are, or not at all ----

    [Test]
    public void NullSerializer_refuses_a_string_UTF8_cannot_hold_rather_than_storing_U_FFFD()
    {
        var buffer = new ArrayBufferWriter<byte>();

        // StringSerializer refuses the same string ("Strings are stored exactly or not at all").
        Assert.That(() => NullSerializer.Instance.Serialize(buffer, "a\uD800b"), Throws.Exception);
    }

    [Test]
    public void NullSerializer_refuses_bytes_that_are_not_UTF8_when_read_as_a_string()
    {
        var payload = new ReadOnlySequence<byte>(new byte[] { 0x61, 0xFF, 0xC0, 0x62 });

        Assert.That(() => NullSerializer.Instance.Deserialize<string>(payload), Throws.Exception);
        Assert.That(() => new StringSerializer().Deserialize<string>(payload), Throws.Exception, "as StringSerializer does");
    }

    // ---- reads as another type ----

    [Test]
    public void A_read_as_another_type_is_a_CacheSerializationException_on_every_serializer()
    {
        foreach (var serializer in new ISerializer[] { new JsonSerializer(), new StringSerializer(), NullSerializer.Instance })
        {
            using var cache = new SimpleMemoryCache { Serializer = serializer };
            cache.Set("n", 5);
            cache.Set("s", "abc");

            Assert.That(() => cache.Get<Guid>("s"), Throws.InstanceOf<CacheSerializationException>(), serializer.GetType().Name);
            Assert.That(() => cache.Get<int>("s"), Throws.InstanceOf<CacheSerializationException>(), serializer.GetType().Name);
            Assert.That(() => cache.Get<DateTime>("n"), Throws.InstanceOf<CacheSerializationException>(), serializer.GetType().Name);
        }
    }

    [Test]
    public void Json_record_read_as_another_record_fails()
    {
        using var cache = new SimpleMemoryCache { Serializer = new JsonSerializer() };
        cache.Set("k", new Person("Ada", 36, ["math"]));

        Assert.That(() => cache.Get<Point>("k"), Throws.InstanceOf<CacheSerializationException>());
    }

    [Test]
    public void A_stored_null_read_as_a_non_nullable_value_type_is_not_a_hit_of_zero()
    {
        foreach (var serializer in new ISerializer[] { new JsonSerializer(), new StringSerializer(), NullSerializer.Instance })
        {
            using var cache = new SimpleMemoryCache { Serializer = serializer };
            cache.Set<string?>("k", null);

            Assert.That(() => cache.Get<int>("k", @default: 7), Throws.InstanceOf<CacheSerializationException>(), serializer.GetType().Name);
        }
    }

    // ---- round trips ----

    [Test]
    public void Awkward_values_round_trip_through_Json_on_memory()
    {
        using var cache = new SimpleMemoryCache { Serializer = new JsonSerializer() };
        var big = new string('é', 600_000) + "😀" + new string('x', 600_000);
        var local = new DateTime(2024, 3, 1, 10, 0, 0, DateTimeKind.Local).AddTicks(1234567);
        var offset = new DateTimeOffset(2024, 3, 1, 10, 0, 0, TimeSpan.FromHours(5.5)).AddTicks(7);

        cache.Set("big", big);
        cache.Set("empty", "");
        cache.Set("bytes", Array.Empty<byte>());
        cache.Set("zero", 0);
        cache.Set<int?>("nullint", null);
        cache.Set("local", local);
        cache.Set("offset", offset);
        cache.Set("dec", 1.500m);
        cache.Set("maxdec", decimal.MaxValue);
        cache.Set("smalldec", 0.0000000000000000000000000001m);

        Assert.That(cache.Get<string>("big"), Is.EqualTo(big));
        Assert.That(cache.Get<string>("empty"), Is.EqualTo(""));
        Assert.That(cache.Get<byte[]>("bytes"), Is.Empty);
        Assert.That(cache.TryGet<int>("zero", out var zero) && zero == 0, Is.True);
        Assert.That(cache.TryGet<int?>("nullint", out var nullint) && nullint is null, Is.True);
        Assert.That(cache.Get<DateTime>("local"), Is.EqualTo(local));
        Assert.That(cache.Get<DateTime>("local").Kind, Is.EqualTo(DateTimeKind.Local));
        Assert.That(cache.Get<DateTimeOffset>("offset"), Is.EqualTo(offset));
        Assert.That(cache.Get<DateTimeOffset>("offset").Offset, Is.EqualTo(offset.Offset));
        Assert.That(cache.Get<decimal>("dec").ToString(System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo("1.500"));
        Assert.That(cache.Get<decimal>("maxdec"), Is.EqualTo(decimal.MaxValue));
        Assert.That(cache.Get<decimal>("smalldec"), Is.EqualTo(0.0000000000000000000000000001m));
    }

    [Test]
    public void Awkward_values_round_trip_through_String_on_memory()
    {
        using var cache = new SimpleMemoryCache { Serializer = new StringSerializer() };
        var big = new string('é', 600_000) + "😀" + new string('x', 600_000);
        var local = new DateTime(2024, 3, 1, 10, 0, 0, DateTimeKind.Local).AddTicks(1234567);
        var offset = new DateTimeOffset(2024, 3, 1, 10, 0, 0, TimeSpan.FromHours(-3.5)).AddTicks(7);

        cache.Set("big", big);
        cache.Set("empty", "");
        cache.Set<int?>("nullint", null);
        cache.Set("local", local);
        cache.Set("offset", offset);
        cache.Set("dec", 1.50m);
        cache.Set("maxdec", decimal.MinValue);

        Assert.That(cache.Get<string>("big"), Is.EqualTo(big));
        Assert.That(cache.TryGet<string>("empty", out var empty) && empty == "", Is.True);
        Assert.That(cache.TryGet<int?>("nullint", out var nullint) && nullint is null, Is.True);
        Assert.That(cache.Get<DateTime>("local"), Is.EqualTo(local));
        Assert.That(cache.Get<DateTime>("local").Kind, Is.EqualTo(DateTimeKind.Local));
        Assert.That(cache.Get<DateTimeOffset>("offset").Offset, Is.EqualTo(offset.Offset));
        Assert.That(cache.Get<decimal>("dec").ToString(System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo("1.50"));
        Assert.That(cache.Get<decimal>("maxdec"), Is.EqualTo(decimal.MinValue));
    }

    [Test]
    public void Object_typed_reads_of_a_json_record_give_a_JsonElement()
    {
        using var cache = new SimpleMemoryCache { Serializer = new JsonSerializer() };
        cache.Set("k", new Point(1, 2));

        Assert.That(cache.Get<object>("k"), Is.InstanceOf<System.Text.Json.JsonElement>());
        cache.Set<object>("o", new Point(3, 4));
        Assert.That(cache.Get<Point>("o"), Is.EqualTo(new Point(3, 4)), "an object-typed write writes the runtime type");
    }

    // ---- per-call serializers on every command ----

    [Test]
    public void Add_MultiSet_and_MultiGet_use_the_per_call_serializer()
    {
        using var cache = new SimpleMemoryCache { Serializer = new StringSerializer() };

        cache.Add("a", "hello", serializer: Shout);
        cache.MultiSet(new Dictionary<string, string> { ["b"] = "x", ["c"] = "y" }, serializer: Shout);

        Assert.That(cache.Get<string>("a"), Is.EqualTo("HELLO"));
        Assert.That(cache.MultiGet<string>(["a", "b", "c", "d"], serializer: Shout), Is.EqualTo(new[] { "HELLO", "X", "Y", null }));
    }

    [Test]
    public void Increment_counts_on_a_value_stored_by_String_or_Json([Values("string", "json", "null")] string kind)
    {
        ISerializer serializer = kind switch { "string" => new StringSerializer(), "json" => new JsonSerializer(), _ => NullSerializer.Instance };
        using var cache = new SimpleMemoryCache { Serializer = serializer };
        cache.Set("n", 10);

        Assert.That(cache.Increment("n", 5), Is.EqualTo(15));
        Assert.That(cache.Get<int>("n"), Is.EqualTo(15));
        Assert.That(cache.Get<long>("n"), Is.EqualTo(15));
    }

    // ---- a throwing serializer ----

    private sealed class ThrowsOn(string poison) : ISerializer
    {
        public bool StoresReferences => false;

        public void Serialize<T>(IBufferWriter<byte> destination, T value)
        {
            if (value is string s && s == poison)
            {
                throw new InvalidOperationException("poison");
            }

            destination.Write(Encoding.UTF8.GetBytes(value?.ToString() ?? ""));
        }

        public T? Deserialize<T>(ReadOnlySequence<byte> payload)
        {
            var text = Encoding.UTF8.GetString(payload);
            return text == poison ? throw new InvalidOperationException("poison read") : (T)(object)text;
        }
    }

    [Test]
    public void A_throwing_serializer_writes_nothing_and_is_reported_as_CacheSerializationException()
    {
        using var cache = new SimpleMemoryCache { Serializer = new ThrowsOn("bad") };

        var ex = Assert.Throws<CacheSerializationException>(() => cache.MultiSet(new Dictionary<string, string> { ["a"] = "ok", ["b"] = "bad", ["c"] = "ok" }));
        Assert.That(ex!.Key, Is.EqualTo("b"));
        Assert.That(ex.IsUnsupportedType, Is.False);
        Assert.That(cache.Exists("a") || cache.Exists("b") || cache.Exists("c"), Is.False);

        Assert.Throws<CacheSerializationException>(() => cache.Set("d", "bad"));
        Assert.That(cache.Exists("d"), Is.False);

        cache.Set("e", "bad", serializer: NullSerializer.Instance);
        var read = Assert.Throws<CacheSerializationException>(() => cache.Get<string>("e"));
        Assert.That(read!.Key, Is.EqualTo("e"));
    }

    // ---- two levels ----

    [Test]
    public void A_per_call_serializer_on_two_levels_shapes_L2s_bytes_while_L1_holds_the_value()
    {
        // multilevel.md, "What L1 holds": L1 keeps the value written, not what a per-call serializer reads back.
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Serializer = new StringSerializer() });
        cache.Set("greeting", "hello", serializer: Shout);

        Assert.That(cache.L2.Get<string>("greeting", serializer: Shout), Is.EqualTo("HELLO"));
        Assert.That(cache.Get<string>("greeting", serializer: Shout), Is.EqualTo("hello"), "this node's L1 copy");
    }

    [Test]
    public void L1_holds_the_object_written_and_read_unless_it_has_a_copying_serializer([Values] bool copies)
    {
        using var cache = new MultiLevelCache(
            copies ? new SimpleMemoryCache { Serializer = new JsonSerializer() } : new SimpleMemoryCache(),
            new SimpleMemoryCache { Serializer = new JsonSerializer() });
        var written = new List<int> { 1 };
        cache.Set("written", written);
        cache.L2.Set("read", new List<int> { 1 });

        written.Add(2);
        cache.Get<List<int>>("read")!.Add(2);

        var expected = copies ? new[] { 1 } : new[] { 1, 2 };
        Assert.That(cache.Get<List<int>>("written"), Is.EqualTo(expected), "a value mutated after it was written");
        Assert.That(cache.Get<List<int>>("read"), Is.EqualTo(expected), "a value mutated after it was read");
        Assert.That(cache.L2.Get<List<int>>("written"), Is.EqualTo(new[] { 1 }), "L2, and so every other node, holds what was serialized");
    }

    [Test]
    public void A_read_as_another_type_answers_as_L1s_store_does([Values] bool copies)
    {
        using var cache = new MultiLevelCache(
            copies ? new SimpleMemoryCache { Serializer = new JsonSerializer() } : new SimpleMemoryCache(),
            new SimpleMemoryCache { Serializer = new JsonSerializer() });
        cache.Set("k", 5);

        Assert.That(cache.L2.Get<double>("k"), Is.EqualTo(5.0));
        if (copies)
        {
            Assert.That(cache.Get<double>("k"), Is.EqualTo(5.0), "L1's JSON reads 5 as a double, as L2's does");
        }
        else
        {
            Assert.That(() => cache.Get<double>("k"), Throws.InstanceOf<CacheSerializationException>(), "L1 holds a boxed int, which is no double");
        }
    }
}
