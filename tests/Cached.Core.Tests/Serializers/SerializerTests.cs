using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Serialization;
using Cached.Serializers;
using JsonSerializer = Cached.Serializers.JsonSerializer;

namespace Cached.Tests.Serializers;

public sealed record Person(string Name, int Age, IReadOnlyList<string> Tags);

public sealed record Point(int X, int Y);

public sealed record Unlisted(string Value);

public sealed class Node
{
    public string Name { get; set; } = "";

    public Node? Next { get; set; }
}

/// <summary>An <see cref="IParsable{TSelf}"/> record Cached knows nothing else of: its text is its code.</summary>
public sealed record Sku(string Code) : IParsable<Sku>
{
    public override string ToString() => Code;

    public static Sku Parse(string s, IFormatProvider? provider) => new(s);

    public static bool TryParse(string? s, IFormatProvider? provider, out Sku result)
    {
        result = new(s ?? "");
        return s is not null;
    }
}

/// <summary>An <see cref="IParsable{TSelf}"/> and <see cref="IFormattable"/> struct, for the nullable path.</summary>
public readonly record struct Celsius(decimal Degrees) : IParsable<Celsius>, IFormattable
{
    public string ToString(string? format, IFormatProvider? formatProvider) => Degrees.ToString(format, formatProvider) + "C";

    public static Celsius Parse(string s, IFormatProvider? provider) => new(decimal.Parse(s.TrimEnd('C'), provider));

    public static bool TryParse(string? s, IFormatProvider? provider, out Celsius result)
    {
        var parsed = decimal.TryParse(s?.TrimEnd('C'), provider, out var degrees);
        result = new(degrees);
        return parsed;
    }
}

/// <summary>An <see cref="IParsable{TSelf}"/> type whose text drops the fraction: it cannot be stored as text exactly.</summary>
public sealed record Lossy(double Value) : IParsable<Lossy>
{
    public override string ToString() => Math.Round(Value).ToString(CultureInfo.InvariantCulture);

    public static Lossy Parse(string s, IFormatProvider? provider) => new(double.Parse(s, provider));

    public static bool TryParse(string? s, IFormatProvider? provider, out Lossy result)
    {
        result = new(0);
        return false;
    }
}

[JsonSerializable(typeof(Point))]
[JsonSerializable(typeof(List<Point>))]
public sealed partial class TestJsonContext : JsonSerializerContext
{
}

/// <summary>A serializer that gzips what another serializer writes.</summary>
public sealed class GZipSerializer(ISerializer inner) : ISerializer
{
    public bool StoresReferences => false;

    public void Serialize<T>(IBufferWriter<byte> destination, T value)
    {
        var plain = new ArrayBufferWriter<byte>();
        inner.Serialize(plain, value);
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(plain.WrittenSpan);
        }

        destination.Write(compressed.ToArray());
    }

    public T? Deserialize<T>(ReadOnlySequence<byte> payload)
    {
        using var gzip = new GZipStream(new MemoryStream(payload.ToArray()), CompressionMode.Decompress);
        using var plain = new MemoryStream();
        gzip.CopyTo(plain);
        return inner.Deserialize<T>(new ReadOnlySequence<byte>(plain.ToArray()));
    }
}

/// <summary>A serializer that Brotli-compresses what another serializer writes.</summary>
public sealed class BrotliSerializer(ISerializer inner) : ISerializer
{
    public bool StoresReferences => false;

    public void Serialize<T>(IBufferWriter<byte> destination, T value)
    {
        var plain = new ArrayBufferWriter<byte>();
        inner.Serialize(plain, value);
        var compressed = new byte[BrotliEncoder.GetMaxCompressedLength(plain.WrittenCount)];
        if (!BrotliEncoder.TryCompress(plain.WrittenSpan, compressed, out var written))
        {
            throw new InvalidOperationException("Brotli compression failed.");
        }

        destination.Write(compressed.AsSpan(0, written));
    }

    public T? Deserialize<T>(ReadOnlySequence<byte> payload)
    {
        using var brotli = new BrotliStream(new MemoryStream(payload.ToArray()), CompressionMode.Decompress);
        using var plain = new MemoryStream();
        brotli.CopyTo(plain);
        return inner.Deserialize<T>(new ReadOnlySequence<byte>(plain.ToArray()));
    }
}

public class SerializerTests
{
    private static byte[] RawBytes(ICache cache, string key)
    {
        var raw = cache.Raw("get", key);
        Assert.That(raw, Is.InstanceOf<byte[]>(), $"the store holds bytes for '{key}'");
        return (byte[])raw!;
    }

    private static string RawText(ICache cache, string key) => Encoding.UTF8.GetString(RawBytes(cache, key));

    private static T WithCulture<T>(string name, Func<T> action)
    {
        var saved = CultureInfo.CurrentCulture;
        var savedUi = CultureInfo.CurrentUICulture;
        CultureInfo.CurrentCulture = new CultureInfo(name);
        CultureInfo.CurrentUICulture = new CultureInfo(name);
        try
        {
            return action();
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
            CultureInfo.CurrentUICulture = savedUi;
        }
    }

    // ---- NullSerializer ----

    [Test]
    public void SimpleMemoryCache_uses_the_NullSerializer_by_default()
    {
        Assert.That(new SimpleMemoryCache().Serializer, Is.SameAs(NullSerializer.Instance));
        Assert.That(NullSerializer.Instance.StoresReferences, Is.True);
    }

    [Test]
    public void NullSerializer_keeps_the_same_reference_through_Set()
    {
        var cache = new SimpleMemoryCache();
        var value = new List<int> { 1, 2 };

        cache.Set("k", value);

        Assert.That(cache.Get<List<int>>("k"), Is.SameAs(value));
        Assert.That(cache.Raw("get", "k"), Is.SameAs(value));
    }

    [Test]
    public void NullSerializer_keeps_the_same_reference_through_Add()
    {
        var cache = new SimpleMemoryCache();
        var value = new Person("Ada", 36, ["math"]);

        cache.Add("k", value);

        Assert.That(cache.Get<Person>("k"), Is.SameAs(value));
    }

    [Test]
    public void NullSerializer_keeps_the_same_reference_through_MultiSet()
    {
        var cache = new SimpleMemoryCache();
        var a = new object();
        var b = new object();

        cache.MultiSet(new Dictionary<string, object> { ["a"] = a, ["b"] = b });

        var values = cache.MultiGet<object>(["a", "b"]);
        Assert.That(values[0], Is.SameAs(a));
        Assert.That(values[1], Is.SameAs(b));
    }

    [Test]
    public async Task NullSerializer_keeps_the_same_reference_through_the_async_commands()
    {
        var cache = new SimpleMemoryCache();
        var value = new Dictionary<string, int> { ["x"] = 1 };

        await cache.SetAsync("k", value);

        Assert.That(await cache.GetAsync<Dictionary<string, int>>("k"), Is.SameAs(value));
    }

    [Test]
    public void NullSerializer_stores_a_mutable_value_so_later_changes_show()
    {
        var cache = new SimpleMemoryCache();
        var value = new List<int> { 1 };
        cache.Set("k", value);

        value.Add(2);

        Assert.That(cache.Get<List<int>>("k"), Is.EqualTo(new[] { 1, 2 }));
    }

    [Test]
    public void NullSerializer_writes_strings_and_bytes_as_they_are()
    {
        var serializer = NullSerializer.Instance;
        var text = new ArrayBufferWriter<byte>();
        var bytes = new ArrayBufferWriter<byte>();

        serializer.Serialize(text, "héllo");
        serializer.Serialize(bytes, new byte[] { 1, 2, 3 });

        Assert.That(text.WrittenSpan.ToArray(), Is.EqualTo(Encoding.UTF8.GetBytes("héllo")));
        Assert.That(bytes.WrittenSpan.ToArray(), Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(serializer.Deserialize<string>(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes("héllo"))), Is.EqualTo("héllo"));
        Assert.That(serializer.Deserialize<byte[]>(new ReadOnlySequence<byte>(new byte[] { 4, 5 })), Is.EqualTo(new byte[] { 4, 5 }));
    }

    [Test]
    public void NullSerializer_refuses_to_write_other_values_as_bytes()
    {
        Assert.Throws<NotSupportedException>(() => NullSerializer.Instance.Serialize(new ArrayBufferWriter<byte>(), 42));
        Assert.Throws<NotSupportedException>(() => NullSerializer.Instance.Deserialize<int>(new ReadOnlySequence<byte>("42"u8.ToArray())));
    }

    // ---- StringSerializer ----

    [Test]
    public void StringSerializer_stores_invariant_text_on_any_culture()
    {
        var cache = new SimpleMemoryCache { Serializer = new StringSerializer() };

        WithCulture("de-DE", () =>
        {
            Assert.That(1.5.ToString(CultureInfo.CurrentCulture), Is.EqualTo("1,5"), "the culture really is de-DE");
            cache.Set("double", 1.5);
            cache.Set("bool", true);
            cache.Set("int", 1234567);
            cache.Set("date", new DateTime(2024, 3, 1, 10, 0, 0, DateTimeKind.Utc));
            return 0;
        });

        Assert.That(RawText(cache, "double"), Is.EqualTo("1.5"));
        Assert.That(RawText(cache, "bool"), Is.EqualTo("True"));
        Assert.That(RawText(cache, "int"), Is.EqualTo("1234567"));
        Assert.That(RawText(cache, "date"), Is.EqualTo("2024-03-01T10:00:00.0000000Z"));
    }

    [Test]
    public void StringSerializer_reads_back_text_and_parses_primitives_with_the_invariant_culture()
    {
        var cache = new SimpleMemoryCache { Serializer = new StringSerializer() };
        cache.Set("double", 1.5);
        cache.Set("bool", true);
        cache.Set("int", 42);

        WithCulture("de-DE", () =>
        {
            Assert.That(cache.Get<string>("double"), Is.EqualTo("1.5"));
            Assert.That(cache.Get<double>("double"), Is.EqualTo(1.5));
            Assert.That(cache.Get<decimal>("double"), Is.EqualTo(1.5m));
            Assert.That(cache.Get<string>("bool"), Is.EqualTo("True"));
            Assert.That(cache.Get<bool>("bool"), Is.True);
            Assert.That(cache.Get<string>("int"), Is.EqualTo("42"));
            Assert.That(cache.Get<int>("int"), Is.EqualTo(42));
            Assert.That(cache.Get<long?>("int"), Is.EqualTo(42L));
            Assert.That(cache.Get<object>("int"), Is.EqualTo("42"));
            return 0;
        });
    }

    [Test]
    public void StringSerializer_writes_enums_by_name_and_reads_them_back()
    {
        var cache = new SimpleMemoryCache { Serializer = new StringSerializer() };

        cache.Set("day", DayOfWeek.Friday);

        Assert.That(cache.Get<string>("day"), Is.EqualTo("Friday"));
        Assert.That(cache.Get<DayOfWeek>("day"), Is.EqualTo(DayOfWeek.Friday));
    }

    [Test]
    public void StringSerializer_refuses_a_record_naming_the_type_and_the_serializers_that_carry_it()
    {
        var cache = new SimpleMemoryCache { Serializer = new StringSerializer() };

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Set("point", new Point(1, 2)));

        Assert.That(ex!.IsUnsupportedType, Is.True);
        Assert.That(ex.ValueType, Is.EqualTo(typeof(Point)));
        Assert.That(ex.Message, Does.Contain(typeof(Point).FullName).And.Contain("JsonSerializer").And.Contain("MessagePackSerializer"));
        Assert.That(cache.Exists("point"), Is.False, "nothing is written");
    }

    [TestCaseSource(nameof(TypesWithoutExactText))]
    public void StringSerializer_refuses_a_type_without_exact_text_for_every_value_null_included(Action<ICache> write)
    {
        var cache = new SimpleMemoryCache { Serializer = new StringSerializer() };

        var ex = Assert.Throws<CacheSerializationException>(() => write(cache));

        Assert.That(ex!.IsUnsupportedType, Is.True);
        Assert.That(cache.Exists("k"), Is.False);
    }

    private static IEnumerable<TestCaseData> TypesWithoutExactText()
    {
        yield return new TestCaseData((Action<ICache>)(cache => cache.Set<Point?>("k", null))).SetName("a null record");
        yield return new TestCaseData((Action<ICache>)(cache => cache.Set("k", new List<int> { 1, 2 }))).SetName("a list");
        yield return new TestCaseData((Action<ICache>)(cache => cache.Set("k", new byte[] { 1, 2 }))).SetName("a byte array");
        yield return new TestCaseData((Action<ICache>)(cache => cache.Set<object>("k", 42))).SetName("an int typed as object");
        yield return new TestCaseData((Action<ICache>)(cache => cache.Set("k", new Lossy(1.5)))).SetName("an IParsable type whose text loses the value");
    }

    [Test]
    public void StringSerializer_keeps_a_null_string_distinct_from_the_empty_string()
    {
        var cache = new SimpleMemoryCache { Serializer = new StringSerializer() };

        cache.Set<string?>("null", null);
        cache.Set("empty", "");

        Assert.That(cache.TryGet<string>("null", out var none), Is.True);
        Assert.That(none, Is.Null);
        Assert.That(cache.TryGet<string>("empty", out var empty), Is.True);
        Assert.That(empty, Is.EqualTo(""));
        Assert.That(RawBytes(cache, "null"), Is.EqualTo("None"u8.ToArray()), "Python's str(None)");
        Assert.That(RawBytes(cache, "empty"), Is.Empty);
        Assert.That(cache.Get<object>("null"), Is.Null);
    }

    [Test]
    public void StringSerializer_stores_a_string_as_exactly_its_UTF8_bytes()
    {
        var cache = new SimpleMemoryCache { Serializer = new StringSerializer() };
        const string text = "héllo, 世界 \u00ff 🎉";

        cache.Set("k", text);

        Assert.That(RawBytes(cache, "k"), Is.EqualTo(Encoding.UTF8.GetBytes(text)));
        Assert.That(cache.Get<string>("k"), Is.EqualTo(text));
    }

    [Test]
    public void StringSerializer_refuses_a_string_that_UTF8_cannot_hold_rather_than_altering_it()
    {
        var cache = new SimpleMemoryCache { Serializer = new StringSerializer() };

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Set("k", "lone \ud800 surrogate"));

        Assert.That(ex!.IsUnsupportedType, Is.False, "strings are carried; this one value is not");
        Assert.That(cache.Exists("k"), Is.False);
    }

    [Test]
    public void StringSerializer_reads_a_stored_null_as_a_value_type_as_an_error()
    {
        var cache = new SimpleMemoryCache { Serializer = new StringSerializer() };
        cache.Set<string?>("k", null);

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Get<int>("k"));

        Assert.That(ex!.ValueType, Is.EqualTo(typeof(int)));
        Assert.That(ex.IsUnsupportedType, Is.False);
        Assert.That(cache.Get<int?>("k"), Is.Null);
    }

    [Test]
    public void StringSerializer_round_trips_a_null_nullable_number()
    {
        var cache = new SimpleMemoryCache { Serializer = new StringSerializer() };

        cache.Set<int?>("k", null);

        Assert.That(cache.TryGet<int?>("k", out var value), Is.True);
        Assert.That(value, Is.Null);
    }

    [Test]
    public void StringSerializer_refuses_to_read_a_complex_type()
    {
        var cache = new SimpleMemoryCache { Serializer = new StringSerializer() };
        cache.Set("k", "text");

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Get<Point>("k"));

        Assert.That(ex!.Key, Is.EqualTo("k"));
        Assert.That(ex.ValueType, Is.EqualTo(typeof(Point)));
        Assert.That(ex.IsUnsupportedType, Is.True);
    }

    [Test]
    public void StringSerializer_text_that_is_not_a_number_cannot_be_read_as_one()
    {
        var cache = new SimpleMemoryCache { Serializer = new StringSerializer() };
        cache.Set("k", "abc");

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Get<int>("k"));

        Assert.That(ex!.Key, Is.EqualTo("k"));
        Assert.That(ex.ValueType, Is.EqualTo(typeof(int)));
        Assert.That(cache.Get<string>("k"), Is.EqualTo("abc"), "the stored text is untouched");
    }

    private static T? StringRoundTrip<T>(T value)
    {
        var cache = new SimpleMemoryCache { Serializer = new StringSerializer() };
        cache.Set("k", value);
        Assert.That(cache.TryGet<T>("k", out var read), Is.True);
        return read;
    }

    [TestCase(DateTimeKind.Utc)]
    [TestCase(DateTimeKind.Local)]
    [TestCase(DateTimeKind.Unspecified)]
    public void StringSerializer_round_trips_a_DateTime_with_every_tick_and_its_kind(DateTimeKind kind)
    {
        var value = new DateTime(2024, 3, 1, 10, 0, 0, 123, kind).AddTicks(4567);

        var read = StringRoundTrip(value);
        var nullable = StringRoundTrip<DateTime?>(value);

        Assert.That(read.Ticks, Is.EqualTo(value.Ticks), "milliseconds and ticks kept");
        Assert.That(read.Kind, Is.EqualTo(kind));
        Assert.That(nullable!.Value.Ticks, Is.EqualTo(value.Ticks));
        Assert.That(nullable.Value.Kind, Is.EqualTo(kind));
    }

    [Test]
    public void StringSerializer_round_trips_date_and_time_types_exactly()
    {
        var offset = new DateTimeOffset(2024, 3, 1, 10, 0, 0, TimeSpan.FromMinutes(330)).AddTicks(1234567);
        var read = StringRoundTrip(offset);

        Assert.Multiple(() =>
        {
            Assert.That(read.Ticks, Is.EqualTo(offset.Ticks));
            Assert.That(read.Offset, Is.EqualTo(offset.Offset));
            Assert.That(StringRoundTrip(TimeSpan.FromTicks(-123456789012345)), Is.EqualTo(TimeSpan.FromTicks(-123456789012345)));
            Assert.That(StringRoundTrip(TimeSpan.MaxValue), Is.EqualTo(TimeSpan.MaxValue));
            Assert.That(StringRoundTrip(TimeSpan.MinValue), Is.EqualTo(TimeSpan.MinValue));
            Assert.That(StringRoundTrip(new DateOnly(1, 1, 1)), Is.EqualTo(new DateOnly(1, 1, 1)));
            Assert.That(StringRoundTrip(new TimeOnly(23, 59, 59).Add(TimeSpan.FromTicks(9999999))), Is.EqualTo(TimeOnly.MaxValue));
            Assert.That(StringRoundTrip(DateTime.MaxValue), Is.EqualTo(DateTime.MaxValue));
        });
    }

    private static IEnumerable<double> EdgeDoubles()
        => [double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, 0.0, double.Epsilon, double.MaxValue, double.MinValue, 0.1, 1.0 / 3];

    [TestCaseSource(nameof(EdgeDoubles))]
    public void StringSerializer_round_trips_binary_floating_point_bit_for_bit(double value)
    {
        WithCulture("de-DE", () =>
        {
            Assert.That(BitConverter.DoubleToInt64Bits(StringRoundTrip(value)), Is.EqualTo(BitConverter.DoubleToInt64Bits(value)));
            Assert.That(BitConverter.SingleToInt32Bits(StringRoundTrip((float)value)), Is.EqualTo(BitConverter.SingleToInt32Bits((float)value)));
            Assert.That(BitConverter.HalfToInt16Bits(StringRoundTrip((Half)value)), Is.EqualTo(BitConverter.HalfToInt16Bits((Half)value)));
            Assert.That(BitConverter.DoubleToInt64Bits(StringRoundTrip<double?>(value)!.Value), Is.EqualTo(BitConverter.DoubleToInt64Bits(value)));
            return 0;
        });
    }

    [TestCase("1.50")]
    [TestCase("-0.000")]
    [TestCase("79228162514264337593543950335")]
    [TestCase("0.0000000000000000000000000001")]
    public void StringSerializer_keeps_the_scale_of_a_decimal(string text)
    {
        var value = decimal.Parse(text, CultureInfo.InvariantCulture);

        var read = StringRoundTrip(value);

        Assert.That(decimal.GetBits(read), Is.EqualTo(decimal.GetBits(value)), "the same sign, digits and scale");
        Assert.That(read.Scale, Is.EqualTo(value.Scale));
    }

    [Test]
    public void StringSerializer_round_trips_Guid_char_bool_Uri_Version_and_every_integer_type()
    {
        var guid = Guid.NewGuid();
        var uri = new Uri("https://example.com/a%20b?q=c d#f");

        Assert.Multiple(() =>
        {
            Assert.That(StringRoundTrip(guid), Is.EqualTo(guid));
            Assert.That(StringRoundTrip<Guid?>(guid), Is.EqualTo(guid));
            Assert.That(StringRoundTrip('é'), Is.EqualTo('é'));
            Assert.That(StringRoundTrip(' '), Is.EqualTo(' '));
            Assert.That(StringRoundTrip(false), Is.False);
            Assert.That(StringRoundTrip(uri)!.OriginalString, Is.EqualTo(uri.OriginalString));
            Assert.That(StringRoundTrip(new Version(1, 2, 3)), Is.EqualTo(new Version(1, 2, 3)));
            Assert.That(StringRoundTrip(sbyte.MinValue), Is.EqualTo(sbyte.MinValue));
            Assert.That(StringRoundTrip(ulong.MaxValue), Is.EqualTo(ulong.MaxValue));
            Assert.That(StringRoundTrip(nint.MinValue), Is.EqualTo(nint.MinValue));
            Assert.That(StringRoundTrip(Int128.MinValue), Is.EqualTo(Int128.MinValue));
            Assert.That(StringRoundTrip(UInt128.MaxValue), Is.EqualTo(UInt128.MaxValue));
            Assert.That(StringRoundTrip(System.Numerics.BigInteger.Pow(-7, 99)), Is.EqualTo(System.Numerics.BigInteger.Pow(-7, 99)));
        });
    }

    [Test]
    public void StringSerializer_round_trips_flags_combinations_undefined_values_and_null_enums()
    {
        Assert.Multiple(() =>
        {
            Assert.That(StringRoundTrip(FileAttributes.Hidden | FileAttributes.ReadOnly), Is.EqualTo(FileAttributes.Hidden | FileAttributes.ReadOnly));
            Assert.That(StringRoundTrip((DayOfWeek)(-42)), Is.EqualTo((DayOfWeek)(-42)));
            Assert.That(StringRoundTrip<DayOfWeek?>(DayOfWeek.Monday), Is.EqualTo(DayOfWeek.Monday));
            Assert.That(StringRoundTrip<DayOfWeek?>(null), Is.Null);
        });
    }

    [Test]
    public void StringSerializer_round_trips_any_IParsable_type_through_its_ToString_and_Parse()
    {
        var cache = new SimpleMemoryCache { Serializer = new StringSerializer() };
        cache.Set("sku", new Sku("AB-12"));
        cache.Set<Celsius?>("temperature", new Celsius(21.5m));
        cache.Set<Celsius?>("none", null);

        Assert.That(cache.Get<string>("sku"), Is.EqualTo("AB-12"));
        Assert.That(cache.Get<Sku>("sku"), Is.EqualTo(new Sku("AB-12")));
        Assert.That(cache.Get<Celsius?>("temperature"), Is.EqualTo(new Celsius(21.5m)));
        Assert.That(cache.Get<Celsius>("temperature"), Is.EqualTo(new Celsius(21.5m)));
        Assert.That(cache.TryGet<Celsius?>("none", out var none) && none is null, Is.True);
    }

    // ---- JsonSerializer ----

    [Test]
    public void JsonSerializer_round_trips_a_record()
    {
        var cache = new SimpleMemoryCache { Serializer = new JsonSerializer() };
        var person = new Person("Ada", 36, ["math", "engines"]);

        cache.Set("p", person);
        var read = cache.Get<Person>("p");

        Assert.That(read, Is.Not.SameAs(person), "a copy, not the stored reference");
        Assert.That(read!.Name, Is.EqualTo("Ada"));
        Assert.That(read.Age, Is.EqualTo(36));
        Assert.That(read.Tags, Is.EqualTo(new[] { "math", "engines" }));
        Assert.That(RawText(cache, "p"), Is.EqualTo("""{"Name":"Ada","Age":36,"Tags":["math","engines"]}"""));
    }

    [Test]
    public void JsonSerializer_reuses_its_writer_on_a_thread_and_each_instance_keeps_its_own_options()
    {
        // One writer is kept per thread for the next value: a serializer with other options must not write with it,
        // and a serialization that failed halfway must leave nothing behind for the next one.
        var compact = new JsonSerializer();
        var indented = new JsonSerializer(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
        var person = new Person("Ada", 36, ["math"]);

        Assert.That(Written(compact, person), Is.EqualTo("""{"Name":"Ada","Age":36,"Tags":["math"]}"""));
        Assert.That(Written(indented, person), Does.Contain("\n"), "the indented instance writes indented");
        Assert.That(Written(compact, person), Is.EqualTo("""{"Name":"Ada","Age":36,"Tags":["math"]}"""), "and the compact one compact again");
        Assert.That(() => Written(compact, new Failing()), Throws.InvalidOperationException);
        Assert.That(Written(compact, 42), Is.EqualTo("42"), "a failed value leaves nothing in the next one");

        var buffer = new ArrayBufferWriter<byte>(256);
        var allocated = Allocations.Fewest(() =>
        {
            buffer.ResetWrittenCount();
            compact.Serialize(buffer, 42);
        });
        Assert.That(allocated, Is.Zero, "the second value on a thread makes no writer");

        static string Written<T>(JsonSerializer serializer, T value)
        {
            var output = new ArrayBufferWriter<byte>();
            serializer.Serialize(output, value);
            return Encoding.UTF8.GetString(output.WrittenSpan);
        }
    }

    private sealed class Failing
    {
        public string First => "written";

        public string Second => throw new InvalidOperationException("this value cannot be written");
    }

    [Test]
    public void JsonSerializer_reads_a_payload_in_one_piece_or_in_several_alike()
    {
        var serializer = new JsonSerializer();
        var text = """{"Name":"Ada","Age":36,"Tags":["math"]}"""u8.ToArray();
        var split = Segments.Of(text[..10], text[10..]);

        var whole = serializer.Deserialize<Person>(new ReadOnlySequence<byte>(text));
        var pieces = serializer.Deserialize<Person>(split);

        Assert.That(whole!.Name, Is.EqualTo("Ada"));
        Assert.That(pieces!.Name, Is.EqualTo(whole.Name));
        Assert.That(pieces.Tags, Is.EqualTo(whole.Tags));
    }

    [Test]
    public void JsonSerializer_refuses_a_payload_with_more_after_its_value_in_one_piece_or_several()
    {
        // A payload in one piece is read from its span first, which refuses anything after the value; the reader that
        // reads it again (for Python's literals), and reads a payload in pieces, refuses it too, as json.loads does.
        var serializer = new JsonSerializer();
        Assert.That(() => serializer.Deserialize<int>(new ReadOnlySequence<byte>("42 43"u8.ToArray())), Throws.InstanceOf<System.Text.Json.JsonException>());
        Assert.That(() => serializer.Deserialize<int>(Segments.Of("42 "u8.ToArray(), "43"u8.ToArray())), Throws.InstanceOf<System.Text.Json.JsonException>());
        Assert.That(() => serializer.Deserialize<double>(new ReadOnlySequence<byte>("NaN NaN"u8.ToArray())), Throws.InstanceOf<System.Text.Json.JsonException>());
        Assert.That(serializer.Deserialize<int>(new ReadOnlySequence<byte>("42 \n"u8.ToArray())), Is.EqualTo(42), "whitespace after the value is no value");
        Assert.That(serializer.Deserialize<double>(new ReadOnlySequence<byte>("NaN"u8.ToArray())), Is.NaN, "Python's bare NaN still reads");
    }

    [Test]
    public void JsonSerializer_round_trips_lists_dictionaries_and_primitives()
    {
        var cache = new SimpleMemoryCache { Serializer = new JsonSerializer() };

        cache.Set("list", new List<int> { 1, 2, 3 });
        cache.Set("dict", new Dictionary<string, double> { ["a"] = 1.5, ["b"] = -2 });
        cache.Set("text", "hi \"there\"");
        cache.Set("bool", false);
        cache.Set("long", long.MaxValue);

        Assert.That(cache.Get<List<int>>("list"), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(cache.Get<Dictionary<string, double>>("dict"), Is.EqualTo(new Dictionary<string, double> { ["a"] = 1.5, ["b"] = -2 }));
        Assert.That(cache.Get<string>("text"), Is.EqualTo("hi \"there\""));
        Assert.That(cache.TryGet<bool>("bool", out var flag), Is.True);
        Assert.That(flag, Is.False);
        Assert.That(cache.Get<long>("long"), Is.EqualTo(long.MaxValue));
    }

    [Test]
    public void JsonSerializer_stores_null_as_json_null_and_finds_it()
    {
        var cache = new SimpleMemoryCache { Serializer = new JsonSerializer() };

        cache.Set<Person?>("p", null);

        Assert.That(RawText(cache, "p"), Is.EqualTo("null"));
        Assert.That(cache.TryGet<Person>("p", out var value), Is.True, "a stored null is found, not a miss");
        Assert.That(value, Is.Null);
        Assert.That(cache.Get("p", new Person("default", 0, [])), Is.Null, "the default is not used for a stored null");
        Assert.That(cache.TryGet<Person>("absent", out _), Is.False);
    }

    [Test]
    public async Task JsonSerializer_finds_a_stored_null_through_TryGetAsync()
    {
        var cache = new SimpleMemoryCache { Serializer = new JsonSerializer() };
        await cache.SetAsync<List<int>?>("k", null);

        var result = await cache.TryGetAsync<List<int>>("k");

        Assert.That(result.Found, Is.True);
        Assert.That(result.Value, Is.Null);
    }

    [Test]
    public void JsonSerializer_uses_the_given_options()
    {
        var options = new System.Text.Json.JsonSerializerOptions { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase };
        var cache = new SimpleMemoryCache { Serializer = new JsonSerializer(options) };

        cache.Set("pt", new Point(1, 2));

        Assert.That(RawText(cache, "pt"), Is.EqualTo("""{"x":1,"y":2}"""));
        Assert.That(cache.Get<Point>("pt"), Is.EqualTo(new Point(1, 2)));
    }

    [Test]
    public void JsonSerializer_with_new_default_options_round_trips()
    {
        var cache = new SimpleMemoryCache { Serializer = new JsonSerializer(new System.Text.Json.JsonSerializerOptions()) };

        cache.Set("pt", new Point(1, 2));

        Assert.That(cache.Get<Point>("pt"), Is.EqualTo(new Point(1, 2)));
    }

    [Test]
    public void JsonSerializer_uses_options_that_name_their_resolver()
    {
        var options = new System.Text.Json.JsonSerializerOptions
        {
            PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase,
            TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
        };
        var cache = new SimpleMemoryCache { Serializer = new JsonSerializer(options) };

        cache.Set("pt", new Point(1, 2));

        Assert.That(RawText(cache, "pt"), Is.EqualTo("""{"x":1,"y":2}"""));
        Assert.That(cache.Get<Point>("pt"), Is.EqualTo(new Point(1, 2)));
    }

    [Test]
    public void JsonSerializer_with_a_source_generated_context_round_trips_its_types()
    {
        var cache = new SimpleMemoryCache { Serializer = new JsonSerializer(TestJsonContext.Default) };

        cache.Set("pt", new Point(3, 4));
        cache.Set("pts", new List<Point> { new(1, 1), new(2, 2) });

        Assert.That(cache.Get<Point>("pt"), Is.EqualTo(new Point(3, 4)));
        Assert.That(cache.Get<List<Point>>("pts"), Is.EqualTo(new[] { new Point(1, 1), new Point(2, 2) }));
        Assert.That(RawText(cache, "pt"), Is.EqualTo("""{"X":3,"Y":4}"""));
    }

    [Test]
    public void JsonSerializer_with_a_context_refuses_to_write_a_type_it_does_not_list()
    {
        var cache = new SimpleMemoryCache { Serializer = new JsonSerializer(TestJsonContext.Default) };

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Set("u", new Unlisted("x")));

        Assert.That(ex!.Key, Is.EqualTo("u"));
        Assert.That(ex.ValueType, Is.EqualTo(typeof(Unlisted)));
        Assert.That(ex.Message, Does.Contain(nameof(Unlisted)));
        Assert.That(cache.Exists("u"), Is.False);
    }

    [Test]
    public void JsonSerializer_with_a_context_refuses_to_read_a_type_it_does_not_list()
    {
        var cache = new SimpleMemoryCache { Serializer = new JsonSerializer(TestJsonContext.Default) };
        cache.Set("pt", new Point(3, 4));

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Get<Unlisted>("pt"));

        Assert.That(ex!.Key, Is.EqualTo("pt"));
        Assert.That(ex.ValueType, Is.EqualTo(typeof(Unlisted)));
    }

    // ---- per-call serializers ----

    [Test]
    public void A_per_call_dumps_function_is_used_by_Set()
    {
        var cache = new SimpleMemoryCache { Serializer = new StringSerializer() };
        var dumps = new FunctionSerializer<string>(dumps: _ => "v4lu3", loads: s => s);

        cache.Set("k", "value", serializer: dumps);

        Assert.That(cache.Get<string>("k"), Is.EqualTo("v4lu3"));
    }

    [Test]
    public void A_per_call_loads_function_is_used_by_Get()
    {
        var cache = new SimpleMemoryCache { Serializer = new StringSerializer() };
        cache.Set("k", "value");
        var loads = new FunctionSerializer<string>(dumps: s => s, loads: s => s.ToUpperInvariant());

        Assert.That(cache.Get<string>("k", serializer: loads), Is.EqualTo("VALUE"));
        Assert.That(cache.Get<string>("k"), Is.EqualTo("value"), "the override lasts for one call");
    }

    [Test]
    public void A_per_call_serializer_applies_to_Add_MultiSet_and_MultiGet()
    {
        var cache = new SimpleMemoryCache { Serializer = new StringSerializer() };
        var functions = new FunctionSerializer<int>(dumps: i => $"#{i}", loads: s => int.Parse(s.TrimStart('#'), CultureInfo.InvariantCulture) * 10);

        cache.Add("a", 1, serializer: functions);
        cache.MultiSet(new Dictionary<string, int> { ["b"] = 2, ["c"] = 3 }, serializer: functions);

        Assert.That(cache.MultiGet<string>(["a", "b", "c"]), Is.EqualTo(new[] { "#1", "#2", "#3" }));
        Assert.That(cache.MultiGet<int>(["a", "b", "c", "absent"], serializer: functions), Is.EqualTo(new[] { 10, 20, 30, 0 }));
    }

    [Test]
    public async Task A_per_call_serializer_applies_to_the_async_commands()
    {
        var cache = new SimpleMemoryCache { Serializer = new StringSerializer() };
        var dumps = new FunctionSerializer<string>(dumps: _ => "v4lu3", loads: s => s + "!");

        await cache.SetAsync("k", "value", serializer: dumps);

        Assert.That(await cache.GetAsync<string>("k"), Is.EqualTo("v4lu3"));
        Assert.That(await cache.GetAsync<string>("k", serializer: dumps), Is.EqualTo("v4lu3!"));
    }

    [Test]
    public void A_per_call_dumps_function_on_the_default_memory_cache_is_read_back_as_text()
    {
        // pycached: memory + NullSerializer, set(dumps_fn=...) then get() returns "v4lu3".
        var cache = new SimpleMemoryCache();
        var dumps = new FunctionSerializer<string>(dumps: _ => "v4lu3", loads: s => s);

        cache.Set("k", "value", serializer: dumps);

        Assert.That(cache.Get<string>("k"), Is.EqualTo("v4lu3"));
    }

    [Test]
    public void A_function_serializer_refuses_a_value_of_another_type()
    {
        var cache = new SimpleMemoryCache();
        var functions = new FunctionSerializer<string>(dumps: s => s, loads: s => s);

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Set("k", 42, serializer: functions));

        Assert.That(ex!.ValueType, Is.EqualTo(typeof(int)));
        Assert.That(cache.Exists("k"), Is.False);
    }

    // ---- custom compressing serializers ----

    [Test]
    public void A_gzip_serializer_round_trips_and_stores_compressed_bytes()
    {
        var cache = new SimpleMemoryCache { Serializer = new GZipSerializer(new JsonSerializer()) };
        var person = new Person("Grace", 85, Enumerable.Repeat("compiler", 50).ToList());

        cache.Set("p", person);

        var raw = RawBytes(cache, "p");
        Assert.That(raw[0], Is.EqualTo(0x1f));
        Assert.That(raw[1], Is.EqualTo(0x8b));
        Assert.That(raw.Length, Is.LessThan(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(person).Length));
        var read = cache.Get<Person>("p");
        Assert.That(read!.Name, Is.EqualTo("Grace"));
        Assert.That(read.Tags, Has.Count.EqualTo(50));
    }

    [Test]
    public async Task A_brotli_serializer_round_trips_and_stores_compressed_bytes()
    {
        var cache = new SimpleMemoryCache { Serializer = new BrotliSerializer(new JsonSerializer()) };
        var values = Enumerable.Range(0, 200).Select(i => i % 3).ToList();

        await cache.SetAsync("v", values);

        var raw = RawBytes(cache, "v");
        var json = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(values);
        Assert.That(raw, Is.Not.EqualTo(json));
        Assert.That(raw.Length, Is.LessThan(json.Length));
        Assert.That(await cache.GetAsync<List<int>>("v"), Is.EqualTo(values));
    }

    [Test]
    public void A_gzip_payload_that_is_corrupt_throws_a_serialization_error()
    {
        var cache = new SimpleMemoryCache { Serializer = new GZipSerializer(new JsonSerializer()) };
        cache.Raw("set", "p", new byte[] { 0x1f, 0x8b, 0x00, 0x01 });

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Get<Person>("p"));

        Assert.That(ex!.Key, Is.EqualTo("p"));
        Assert.That(ex.InnerException, Is.Not.Null);
    }

    // ---- failures ----

    [Test]
    public void A_payload_that_cannot_be_read_throws_naming_the_key_and_type()
    {
        var cache = new SimpleMemoryCache { Serializer = new JsonSerializer() };
        cache.Raw("set", "p", new byte[] { 0x7b, 0x00, 0xff, 0x13 });

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Get<Person>("p"));

        Assert.That(ex!.Key, Is.EqualTo("p"));
        Assert.That(ex.ValueType, Is.EqualTo(typeof(Person)));
        Assert.That(ex.InnerException, Is.InstanceOf<System.Text.Json.JsonException>());
        Assert.That(ex, Is.InstanceOf<CacheException>());
    }

    [Test]
    public void A_payload_that_cannot_be_read_names_the_callers_key_not_the_namespaced_one()
    {
        var cache = new SimpleMemoryCache { Serializer = new JsonSerializer(), Namespace = "ns" };
        cache.Raw("set", cache.BuildKey("p"), "not json"u8.ToArray());

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Get<Person>("p"));

        Assert.That(ex!.Key, Is.EqualTo("p"));
    }

    [Test]
    public void A_payload_that_cannot_be_read_fails_MultiGet_naming_its_key()
    {
        var cache = new SimpleMemoryCache { Serializer = new JsonSerializer() };
        cache.Set("good", new Point(1, 2));
        cache.Raw("set", "bad", "{\"X\":"u8.ToArray());

        var ex = Assert.Throws<CacheSerializationException>(() => cache.MultiGet<Point>(["good", "bad"]));

        Assert.That(ex!.Key, Is.EqualTo("bad"));
        Assert.That(ex.ValueType, Is.EqualTo(typeof(Point)));
    }

    [Test]
    public void A_payload_that_cannot_be_read_throws_from_GetAsync()
    {
        var cache = new SimpleMemoryCache { Serializer = new JsonSerializer() };
        cache.Raw("set", "p", new byte[] { 0xff });

        var ex = Assert.ThrowsAsync<CacheSerializationException>(async () => await cache.GetAsync<Person>("p"));

        Assert.That(ex!.Key, Is.EqualTo("p"));
        Assert.That(ex.ValueType, Is.EqualTo(typeof(Person)));
    }

    [Test]
    public void A_raw_value_that_is_not_bytes_cannot_be_read_by_a_byte_serializer()
    {
        var cache = new SimpleMemoryCache { Serializer = new JsonSerializer() };
        cache.Raw("set", "p", "a string, not bytes");

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Get<Person>("p"));

        Assert.That(ex!.Key, Is.EqualTo("p"));
        Assert.That(ex.ValueType, Is.EqualTo(typeof(Person)));
    }

    [Test]
    public void A_value_that_cannot_be_serialized_throws_and_leaves_the_store_unchanged()
    {
        var cache = new SimpleMemoryCache { Serializer = new JsonSerializer() };
        var previous = new Node { Name = "previous" };
        cache.Set("n", previous);
        var cyclic = new Node { Name = "a" };
        cyclic.Next = new Node { Name = "b", Next = cyclic };

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Set("n", cyclic));

        Assert.That(ex!.Key, Is.EqualTo("n"));
        Assert.That(ex.ValueType, Is.EqualTo(typeof(Node)));
        Assert.That(ex.InnerException, Is.InstanceOf<System.Text.Json.JsonException>());
        Assert.That(cache.Get<Node>("n")!.Name, Is.EqualTo("previous"));
        Assert.That(cache.Count, Is.EqualTo(1));
    }

    [Test]
    public void A_value_that_cannot_be_serialized_fails_Add_and_writes_nothing()
    {
        var cache = new SimpleMemoryCache { Serializer = new JsonSerializer() };
        var cyclic = new Node { Name = "a" };
        cyclic.Next = cyclic;

        Assert.Throws<CacheSerializationException>(() => cache.Add("n", cyclic));

        Assert.That(cache.Exists("n"), Is.False);
    }

    [Test]
    public void A_value_that_cannot_be_serialized_fails_the_whole_MultiSet()
    {
        var cache = new SimpleMemoryCache { Serializer = new JsonSerializer() };
        var cyclic = new Node { Name = "a" };
        cyclic.Next = cyclic;

        var ex = Assert.Throws<CacheSerializationException>(() => cache.MultiSet(new Dictionary<string, Node>
        {
            ["ok"] = new Node { Name = "fine" },
            ["bad"] = cyclic,
        }));

        Assert.That(ex!.Key, Is.EqualTo("bad"));
        Assert.That(cache.Exists("ok"), Is.False, "nothing is written when one pair fails");
        Assert.That(cache.Count, Is.Zero);
    }

    [Test]
    public async Task A_value_that_cannot_be_serialized_throws_from_SetAsync()
    {
        var cache = new SimpleMemoryCache { Serializer = new JsonSerializer() };
        var cyclic = new Node { Name = "a" };
        cyclic.Next = cyclic;

        var ex = Assert.ThrowsAsync<CacheSerializationException>(async () => await cache.SetAsync("n", cyclic));

        Assert.That(ex!.Key, Is.EqualTo("n"));
        Assert.That(await cache.ExistsAsync("n"), Is.False);
    }

    [Test]
    public void Reading_a_reference_stored_value_as_the_wrong_type_throws()
    {
        var cache = new SimpleMemoryCache();
        cache.Set("k", 42);

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Get<string>("k"));

        Assert.That(ex!.Key, Is.EqualTo("k"));
        Assert.That(ex.ValueType, Is.EqualTo(typeof(string)));
        Assert.That(ex.Message, Does.Contain("System.Int32"));
        Assert.That(cache.Get<int>("k"), Is.EqualTo(42), "the value is still there");
    }

    [Test]
    public void Reading_a_reference_stored_value_as_a_base_type_or_interface_works()
    {
        var cache = new SimpleMemoryCache();
        var list = new List<int> { 1 };
        cache.Set("k", list);

        Assert.That(cache.Get<IReadOnlyList<int>>("k"), Is.SameAs(list));
        Assert.That(cache.Get<object>("k"), Is.SameAs(list));
    }

    [Test]
    public void Reading_a_reference_stored_value_as_the_wrong_type_fails_MultiGet_too()
    {
        var cache = new SimpleMemoryCache();
        cache.Set("a", "text");
        cache.Set("b", 1.5);

        var ex = Assert.Throws<CacheSerializationException>(() => cache.MultiGet<string>(["a", "b"]));

        Assert.That(ex!.Key, Is.EqualTo("b"));
    }

    [Test]
    public void A_stored_null_reference_is_found_and_read_as_any_reference_type()
    {
        var cache = new SimpleMemoryCache();
        cache.Set<string?>("k", null);

        Assert.That(cache.TryGet<string>("k", out var text), Is.True);
        Assert.That(text, Is.Null);
        Assert.That(cache.TryGet<Person>("k", out var person), Is.True);
        Assert.That(person, Is.Null);
    }
}

/// <summary>A payload in several pieces, as a backend that reads into pooled buffers may hand one over.</summary>
internal static class Segments
{
    public static ReadOnlySequence<byte> Of(byte[] first, byte[] second)
    {
        var head = new Segment(first, 0);
        var tail = head.Append(second);
        return new ReadOnlySequence<byte>(head, 0, tail, second.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] bytes, long runningIndex)
        {
            Memory = bytes;
            RunningIndex = runningIndex;
        }

        public Segment Append(byte[] bytes)
        {
            var next = new Segment(bytes, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
