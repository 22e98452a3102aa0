using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cached.Serializers;
using JsonSerializer = Cached.Serializers.JsonSerializer;

namespace Cached.Tests.Serializers;

/// <summary>
/// The probes of the outside review of <c>JsonSerializer</c>, <c>StringSerializer</c> and <c>NullSerializer</c> that
/// hold on every backend, against docs/serializers.md and docs/caches.md (each test quotes the sentence it checks):
/// written once, run by the memory review (tests/Cached.Core.Tests/OutsiderSerializerReviewTests.cs) and by the Redis
/// one (tests/Cached.Redis.Tests/OutsiderSerializerReviewTests.cs, which links this file), each on caches of its own.
/// </summary>
public abstract class SerializerReviewProbes
{
    private readonly List<ICache> _caches = [];

    [TearDown]
    public void DisposeCaches()
    {
        foreach (var cache in _caches)
        {
            cache.Dispose();
        }

        _caches.Clear();
    }

    /// <summary>A cache of the fixture's backend in the namespace <c>review</c>, with <paramref name="serializer"/>.</summary>
    protected abstract ICache CreateCache(ISerializer serializer);

    /// <summary>A cache made by <see cref="CreateCache"/>, disposed after the test.</summary>
    protected ICache NewCache(ISerializer serializer)
    {
        var cache = CreateCache(serializer);
        _caches.Add(cache);
        return cache;
    }

    public enum Color { Red, Green, Blue }

    public enum Small : sbyte { Minus = -1, Zero = 0 }

    [Flags]
    public enum Access { None = 0, ReadOnly = 1, Hidden = 2, System = 4 }

    public sealed record Point(int X, int Y);

    public sealed record Reading(string Name, double Value, float Single, Half Small, double? Maybe);

    public sealed record Bag(Dictionary<int, string> ById, List<Dictionary<string, int[]>> Nested, int[][] Jagged, HashSet<string> Tags, Queue<int> Queue);

    public readonly record struct Money(decimal Amount, string Currency);

    public struct FieldStruct
    {
        public int X;
        public string Name;

        public override readonly string ToString() => $"FieldStruct({X}, {Name})";
    }

    public class Animal
    {
        public string Name { get; set; } = "";
    }

    public sealed class Dog : Animal
    {
        public int Barks { get; set; }
    }

    public sealed class Node
    {
        public Node? Next { get; set; }
    }

    public abstract class Probe(string name)
    {
        public abstract void Check(ICache cache, string key);

        public override string ToString() => name;
    }

    public sealed class RoundTrip<T>(string name, T value) : Probe(name)
    {
        public override void Check(ICache cache, string key)
        {
            cache.Set(key, value);
            Assert.That(cache.TryGet<T>(key, out var got), Is.True, "found");
            Assert.That(Describe(got), Is.EqualTo(Describe(value)));
        }
    }

    protected static RoundTrip<T> R<T>(string name, T value) => new(name, value);

    /// <summary>A value's full identity: bits of floating-point numbers, ticks and kind of dates, runtime types.</summary>
    public static string Describe(object? value) => value switch
    {
        null => "null",
        string s => "string:" + string.Join(",", s.Select(static c => ((int)c).ToString("X4", CultureInfo.InvariantCulture))),
        double d => $"double:{BitConverter.DoubleToInt64Bits(d):X16}",
        float f => $"float:{BitConverter.SingleToInt32Bits(f):X8}",
        Half h => $"Half:{BitConverter.HalfToInt16Bits(h):X4}",
        decimal m => "decimal:" + m.ToString(CultureInfo.InvariantCulture),
        DateTime t => $"DateTime:{t.Ticks}:{t.Kind}",
        DateTimeOffset o => $"DateTimeOffset:{o.Ticks}:{o.Offset}",
        Uri u => "Uri:" + u.OriginalString,
        JsonElement e => "JsonElement:" + e.GetRawText(),
        JsonNode n => "JsonNode:" + n.ToJsonString(),
        ReadOnlyMemory<byte> rom => "ROM:" + Convert.ToHexString(rom.Span),
        Memory<byte> mem => "Mem:" + Convert.ToHexString(mem.Span),
        byte[] b => "byte[]:" + Convert.ToHexString(b),
        IDictionary dict => value.GetType().Name + "{" + string.Join(";", dict.Keys.Cast<object>().Select(k => Describe(k) + "=" + Describe(dict[k]))) + "}",
        IEnumerable list => value.GetType().Name + "[" + string.Join(";", list.Cast<object?>().Select(Describe)) + "]",
        Bag bag => $"Bag({Describe(bag.ById)},{Describe(bag.Nested)},{Describe(bag.Jagged)},{Describe(bag.Tags)},{Describe(bag.Queue)})",
        Reading r => $"Reading({r.Name},{Describe(r.Value)},{Describe(r.Single)},{Describe(r.Small)},{Describe(r.Maybe)})",
        _ => value.GetType().Name + ":" + Convert.ToString(value, CultureInfo.InvariantCulture),
    };

    protected static readonly DateTime Utc = new DateTime(2024, 3, 1, 10, 0, 0, DateTimeKind.Utc).AddTicks(1234567);

    /// <summary>Values docs/serializers.md says both text serializers carry exactly.</summary>
    public static IEnumerable<Probe> Scalars() =>
    [
        R("empty string", ""),
        R("NUL inside", "a\0b\0"),
        R("emoji and astral", "😀𝄞 é"),
        R("BOM and spaces", "\uFEFF lead trail "),
        R("newlines", "a\r\nb\n"),
        R("char x", 'x'),
        R("char NUL", '\0'),
        R("bool true", true),
        R("bool false", false),
        R("sbyte min", sbyte.MinValue),
        R("byte max", byte.MaxValue),
        R("short min", short.MinValue),
        R("ushort max", ushort.MaxValue),
        R("int min", int.MinValue),
        R("uint max", uint.MaxValue),
        R("long min", long.MinValue),
        R("long max", long.MaxValue),
        R("ulong max", ulong.MaxValue),
        R("Int128 min", Int128.MinValue),
        R("UInt128 max", UInt128.MaxValue),
        R("decimal 1.50", 1.50m),
        R("decimal -0.00", -0.00m),
        R("decimal max", decimal.MaxValue),
        R("decimal scale 28", 1.0000000000000000000000000000m),
        R("decimal tiny", 0.0000000000000000000000000001m),
        R("double NaN", double.NaN),
        R("double +Inf", double.PositiveInfinity),
        R("double -Inf", double.NegativeInfinity),
        R("double -0", -0.0),
        R("double epsilon", double.Epsilon),
        R("double max", double.MaxValue),
        R("double 1e20", 1e20),
        R("double 0.1", 0.1),
        R("double 1e-5", 1e-5),
        R("double 2.0", 2.0),
        R("float NaN", float.NaN),
        R("float -0", -0f),
        R("float max", float.MaxValue),
        R("float 0.1", 0.1f),
        R("float epsilon", float.Epsilon),
        R("Half NaN", Half.NaN),
        R("Half -0", Half.NegativeZero),
        R("Half max", Half.MaxValue),
        R("Half epsilon", Half.Epsilon),
        R("Half -Inf", Half.NegativeInfinity),
        R("DateTime Utc", Utc),
        R("DateTime Local", DateTime.SpecifyKind(Utc, DateTimeKind.Local)),
        R("DateTime Unspecified", DateTime.SpecifyKind(Utc, DateTimeKind.Unspecified)),
        R("DateTime min", DateTime.MinValue),
        R("DateTime max Utc", DateTime.SpecifyKind(DateTime.MaxValue, DateTimeKind.Utc)),
        R("DateTimeOffset +05:45", new DateTimeOffset(Utc.Ticks, TimeSpan.FromMinutes(345))),
        R("DateTimeOffset -12:00", new DateTimeOffset(Utc.Ticks, TimeSpan.FromHours(-12))),
        R("DateTimeOffset min", DateTimeOffset.MinValue),
        R("DateTimeOffset max", DateTimeOffset.MaxValue),
        R("DateOnly min", DateOnly.MinValue),
        R("DateOnly max", DateOnly.MaxValue),
        R("TimeOnly max", TimeOnly.MaxValue),
        R("TimeSpan min", TimeSpan.MinValue),
        R("TimeSpan max", TimeSpan.MaxValue),
        R("TimeSpan -1 tick", TimeSpan.FromTicks(-1)),
        R("Guid", Guid.Parse("01234567-89ab-cdef-0123-456789abcdef")),
        R("Guid empty", Guid.Empty),
        R("enum", Color.Green),
        R("enum undefined", (Color)42),
        R("enum negative sbyte", Small.Minus),
        R("flags combined", Access.ReadOnly | Access.Hidden),
        R("flags with undefined bit", Access.ReadOnly | (Access)1024),
        R("flags None", Access.None),
        R("int? 5", (int?)5),
        R("int? null", (int?)null),
        R("DateTime? null", (DateTime?)null),
        R("double? NaN", (double?)double.NaN),
        R("string null", (string?)null),
        R("Uri escaped", new Uri("http://example.com/a%20b?q=%2F")),
        R("Uri relative", new Uri("../x y", UriKind.Relative)),
        R("Uri IDN", new Uri("http://bücher.example/ü")),
        R("Version 4 parts", new Version(1, 2, 3, 4)),
        R("BigInteger", BigInteger.Pow(10, 40) + 7),
    ];

    /// <summary>Shapes only a JSON (or binary) serializer carries.</summary>
    public static IEnumerable<Probe> JsonShapes() =>
    [
        R("byte[] every byte", Enumerable.Range(0, 256).Select(static i => (byte)i).ToArray()),
        R("ReadOnlyMemory<byte>", new ReadOnlyMemory<byte>([0, 1, 0xFF])),
        R("record", new Point(1, -2)),
        R("record with floats", new Reading("r", double.NaN, -0f, Half.MaxValue, double.NegativeInfinity)),
        R("record with null member", new Reading("r", 2.0, 1.5f, Half.One, null)),
        R("record struct", new Money(1.50m, "EUR")),
        R("collections", new Bag(new() { [1] = "a", [-2] = "b" }, [new() { ["x"] = [1, 2] }], [[1], [], [2, 3]], ["t"], new([1, 2, 3]))),
        R("Dictionary<Guid,int>", new Dictionary<Guid, int> { [Guid.Empty] = 1 }),
        R("Dictionary<Color,double>", new Dictionary<Color, double> { [Color.Blue] = double.NaN }),
        R("Dictionary<long,string> long.MinValue key", new Dictionary<long, string> { [long.MinValue] = "m" }),
        R("Dictionary<string,double> -0", new Dictionary<string, double> { ["z"] = -0.0, ["i"] = double.PositiveInfinity }),
        R("List<double?>", new List<double?> { null, double.NaN, -0.0, 1e16 }),
        R("LinkedList<int>", new LinkedList<int>([3, 1, 2])),
        R("SortedDictionary", new SortedDictionary<string, int> { ["b"] = 2, ["a"] = 1 }),
        R("anonymous type", new { A = 1, B = "x", C = new[] { 1.5 } }),
    ];

    public static IEnumerable<Probe> StringScalars() => Scalars();

    // ---- JsonSerializer ----

    /// <summary>serializers.md: JsonSerializer stores "UTF-8 JSON ... Reads back as: any type; null round-trips", "every tick and its Kind",
    /// "bit for bit: NaN, ±Infinity ... -0 as -0.0"; a BigInteger as its digits.</summary>
    [TestCaseSource(nameof(Scalars))]
    [TestCaseSource(nameof(JsonShapes))]
    public void Json_reads_back_what_it_wrote(Probe probe)
    {
        probe.Check(NewCache(new JsonSerializer()), "k");
    }

    /// <summary>serializers.md: StringSerializer "every value it accepts reads back exactly"; the Types row lists every scalar probed.</summary>
    [TestCaseSource(nameof(StringScalars))]
    public void String_reads_back_what_it_wrote(Probe probe)
    {
        var cache = NewCache(new StringSerializer());
        try
        {
            probe.Check(cache, "k");
        }
        catch (CacheSerializationException e) when (probe.ToString() == "string null")
        {
            Assert.Fail("null is the text None and reads back as null: " + e.Message);
        }
    }

    /// <summary>serializers.md, Refuses: StringSerializer refuses "a type without an exact text form: records, classes, collections ... (by type)".</summary>
    [TestCaseSource(nameof(JsonShapes))]
    public void String_refuses_by_type_what_has_no_exact_text_form_and_writes_nothing(Probe probe)
    {
        var cache = NewCache(new StringSerializer());
        if (probe.ToString() is "byte[] every byte" or "ReadOnlyMemory<byte>")
        {
            // Not in StringSerializer's list of types; either refused by type or read back exactly.
            try
            {
                probe.Check(cache, "k");
            }
            catch (CacheSerializationException e)
            {
                Assert.That(e.IsUnsupportedType, Is.True, e.Message);
                Assert.That(cache.Exists("k"), Is.False);
            }

            return;
        }

        var ex = Assert.Throws<CacheSerializationException>(() => probe.Check(cache, "k"));
        Assert.That(ex!.IsUnsupportedType, Is.True, ex.Message);
        Assert.That(cache.Exists("k"), Is.False);
    }

    /// <summary>serializers.md: "A value that cannot be serialized ... raises CacheSerializationException with the Key and ValueType; nothing is written."</summary>
    [Test]
    public void Json_cycle_is_a_CacheSerializationException_naming_key_and_type_and_writes_nothing()
    {
        var cache = NewCache(new JsonSerializer());
        var node = new Node();
        node.Next = node;

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Set("k", node));

        Assert.That(ex!.Key, Is.EqualTo("k"));
        Assert.That(ex.ValueType, Is.EqualTo(typeof(Node)));
        Assert.That(ex.IsUnsupportedType, Is.False, "a cycle is a failure of one value, not of the type");
        Assert.That(cache.Exists("k"), Is.False);
    }

    /// <summary>serializers.md: a lone surrogate in a string is documented as replaced by U+FFFD; a char cannot hold U+FFFD's
    /// replacement silently and still be "the types on the left" read back: the char is either refused or read back exactly.</summary>
    [Test]
    public void A_lone_surrogate_char_is_refused_or_read_back_exactly([Values("json", "string")] string kind)
    {
        var cache = NewCache(kind == "json" ? new JsonSerializer() : new StringSerializer());
        try
        {
            cache.Set("k", '\uD800');
        }
        catch (CacheSerializationException)
        {
            Assert.That(cache.Exists("k"), Is.False);
            return;
        }

        Assert.That((int)cache.Get<char>("k"), Is.EqualTo(0xD800));
    }

    /// <summary>serializers.md: StringSerializer: "a string that is not valid UTF-16" is refused; "Strings are stored exactly or not at all".</summary>
    [Test]
    public void String_refuses_a_lone_surrogate_and_writes_nothing()
    {
        var cache = NewCache(new StringSerializer());

        Assert.Throws<CacheSerializationException>(() => cache.Set("k", "a\uDC00b"));
        Assert.That(cache.Exists("k"), Is.False);
    }

    /// <summary>serializers.md: "new JsonSerializer() writes double ... wherever they occur (alone, in records, lists, dictionaries, object)",
    /// "It reads every form back ..., Python's bare literals included"; the Reads-back column: "any type". A NaN written inside
    /// an object must read back as object (a JsonElement) too.</summary>
    [Test]
    public void Json_NaN_written_as_object_reads_back_as_object()
    {
        var cache = NewCache(new JsonSerializer());
        cache.Set<object>("nan", double.NaN);
        cache.Set<object>("list", new List<object> { 1.5, double.PositiveInfinity });

        Assert.That(() => cache.Get<object>("nan"), Throws.Nothing, "a bare NaN read as object");
        Assert.That(() => cache.Get<object>("list"), Throws.Nothing, "[1.5, Infinity] read as object");
        Assert.That(() => cache.Get<JsonElement>("list"), Throws.Nothing, "[1.5, Infinity] read as JsonElement");
        Assert.That(() => cache.Get<JsonNode>("list"), Throws.Nothing, "[1.5, Infinity] read as JsonNode");
    }

    /// <summary>serializers.md: a method declared to return object "gets a JsonElement back from JsonSerializer"; the
    /// element must still hold the number written (docs table: Reads back as "any type").</summary>
    [Test]
    public void Json_object_holding_an_int_reads_back_as_a_JsonElement_holding_it()
    {
        var cache = NewCache(new JsonSerializer());
        cache.Set<object>("k", 42);

        var got = cache.Get<object>("k");

        Assert.That(got, Is.InstanceOf<JsonElement>());
        Assert.That(((JsonElement)got!).GetInt32(), Is.EqualTo(42));
        Assert.That(cache.Get<int>("k"), Is.EqualTo(42));
    }

    /// <summary>serializers.md: JsonSerializer Types: "whatever System.Text.Json handles ... collections"; References: "copies".
    /// A copy of a Stack must hold its items in the same order (same Pop order).</summary>
    [Test]
    public void Json_Stack_is_refused_by_type_not_read_back_reversed()
    {
        // The reviewer found a Stack<int> read back reversed (System.Text.Json pushes in pop order). JsonSerializer now
        // refuses a stack by type (docs/serializers.md), and writes nothing.
        var cache = NewCache(new JsonSerializer());
        var stack = new Stack<int>([1, 2, 3]);

        var refused = Assert.Throws<CacheSerializationException>(() => cache.Set("k", stack));
        Assert.That(refused!.IsUnsupportedType, Is.True);
        Assert.That(cache.Exists("k"), Is.False);
    }

    /// <summary>serializers.md: a value that cannot be carried is refused ("by type") or "raises CacheSerializationException";
    /// a value tuple is a common cache value: it must read back, or be refused, never stored as {} and read back as (0, null).</summary>
    [Test]
    public void Json_value_tuple_is_read_back_or_refused_never_emptied()
    {
        var cache = NewCache(new JsonSerializer());
        try
        {
            cache.Set("k", (Id: 7, Name: "seven"));
        }
        catch (CacheSerializationException)
        {
            Assert.That(cache.Exists("k"), Is.False);
            return;
        }

        Assert.That(cache.Get<(int Id, string Name)>("k"), Is.EqualTo((7, "seven")));
    }

    /// <summary>Same, for a struct with public fields (a documented "private set" loss names properties, not fields).</summary>
    [Test]
    public void Json_struct_with_public_fields_is_read_back_or_refused_never_emptied()
    {
        var cache = NewCache(new JsonSerializer());
        var value = new FieldStruct { X = 5, Name = "five" };
        try
        {
            cache.Set("k", value);
        }
        catch (CacheSerializationException)
        {
            Assert.That(cache.Exists("k"), Is.False);
            return;
        }

        Assert.That(cache.Get<FieldStruct>("k").ToString(), Is.EqualTo(value.ToString()));
    }

    /// <summary>serializers.md: "A copying serializer reads back what the declared type describes". Written as the base
    /// type, the derived members are not written; written as object, they are (the runtime type).</summary>
    [Test]
    public void Json_polymorphic_value_declared_as_base_reads_back_as_the_base()
    {
        var cache = NewCache(new JsonSerializer());
        cache.Set<Animal>("base", new Dog { Name = "rex", Barks = 3 });
        cache.Set<object>("obj", new Dog { Name = "rex", Barks = 3 });

        Assert.That(cache.Get<Animal>("base"), Is.Not.InstanceOf<Dog>());
        Assert.That(cache.Get<Animal>("base")!.Name, Is.EqualTo("rex"));
        Assert.That(cache.Get<Dog>("obj")!.Barks, Is.EqualTo(3));
    }

    /// <summary>JsonElement and JsonNode are "whatever System.Text.Json handles"; a JsonNode holding NaN is the same data as a bare NaN.</summary>
    [Test]
    public void Json_JsonElement_and_JsonNode_round_trip()
    {
        var cache = NewCache(new JsonSerializer());
        using var doc = JsonDocument.Parse("""{"a":[1,2.50,"x",null,{"b":true}]}""");
        cache.Set("e", doc.RootElement);
        cache.Set("n", JsonNode.Parse("""{"a":[1,2.50]}"""));

        Assert.That(cache.Get<JsonElement>("e").GetRawText(), Is.EqualTo("""{"a":[1,2.50,"x",null,{"b":true}]}"""));
        Assert.That(cache.Get<JsonNode>("n")!.ToJsonString(), Is.EqualTo("""{"a":[1,2.50]}"""));
    }

    // ---- StringSerializer reads of what Python writes ----

    /// <summary>serializers.md: "reading it as a number, date, ... parses the text, so "1.5" written by Python reads as a double,
    /// "True" as a bool, and Python's inf, -inf and nan as the double (or float, Half) they stand for."</summary>
    [TestCase("1e+20", 1e20)]
    [TestCase("1e-05", 1e-5)]
    [TestCase("-0.0", -0.0)]
    [TestCase("inf", double.PositiveInfinity)]
    [TestCase("-inf", double.NegativeInfinity)]
    [TestCase("nan", double.NaN)]
    [TestCase("1.7976931348623157e+308", double.MaxValue)]
    [TestCase("5e-324", double.Epsilon)]
    public void String_reads_Python_str_of_a_float(string text, double expected)
    {
        var cache = NewCache(new StringSerializer());
        cache.Set("k", text);

        Assert.That(Describe(cache.Get<double>("k")), Is.EqualTo(Describe(expected)));
        Assert.That(Describe(cache.Get<float>("k")), Is.EqualTo(Describe((float)expected)));
        Assert.That(Describe(cache.Get<Half>("k")), Is.EqualTo(Describe((Half)expected)));
        Assert.That(Describe(cache.Get<double?>("k")), Is.EqualTo(Describe(expected)));
    }

    /// <summary>serializers.md: "'True' as a bool"; Python writes str(True) == "True", str(False) == "False".</summary>
    [Test]
    public void String_reads_Python_bools()
    {
        var cache = NewCache(new StringSerializer());
        cache.Set("t", "True");
        cache.Set("f", "False");

        Assert.That(cache.Get<bool>("t"), Is.True);
        Assert.That(cache.Get<bool>("f", true), Is.False);
        Assert.That(cache.Get<bool?>("f"), Is.False);
    }

    /// <summary>serializers.md: "Integers up to Int128, UInt128 and BigInteger"; Python's str() of a big int.</summary>
    [Test]
    public void String_reads_Python_big_ints()
    {
        var cache = NewCache(new StringSerializer());
        cache.Set("k", "-170141183460469231731687303715884105728");
        cache.Set("b", "123456789012345678901234567890123456789012");

        Assert.That(cache.Get<Int128>("k"), Is.EqualTo(Int128.MinValue));
        Assert.That(cache.Get<BigInteger>("b"), Is.EqualTo(BigInteger.Parse("123456789012345678901234567890123456789012", CultureInfo.InvariantCulture)));
    }

    /// <summary>serializers.md: "A value ... or a payload that cannot be read as the requested type, raises CacheSerializationException with the Key and ValueType".</summary>
    [TestCase("abc")]
    [TestCase("1.5")]
    [TestCase("99999999999")]
    [TestCase("")]
    public void String_Get_int_of_text_that_is_not_an_int_is_a_CacheSerializationException(string text)
    {
        var cache = NewCache(new StringSerializer());
        cache.Set("k", text);

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Get<int>("k"));
        Assert.That(ex!.Key, Is.EqualTo("k"));
        Assert.That(ex.ValueType, Is.EqualTo(typeof(int)));
    }

    /// <summary>serializers.md: "The string "None" is not stored ... The same holds for any value of a type that can be null whose text is None".</summary>
    [Test]
    public void String_refuses_None_also_as_object_and_writes_nothing()
    {
        var cache = NewCache(new StringSerializer());

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Set<object>("k", "None"));
        Assert.That(ex!.IsUnsupportedType, Is.False);
        Assert.Throws<CacheSerializationException>(() => cache.Set<Access?>("a", Access.None));
        Assert.That(cache.Exists("k") || cache.Exists("a"), Is.False);
    }

    /// <summary>serializers.md Refuses (StringSerializer): "object holding anything but a string (by type)".</summary>
    [Test]
    public void String_refuses_object_holding_an_int_by_type()
    {
        var cache = NewCache(new StringSerializer());

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Set<object>("k", 42));
        Assert.That(ex!.IsUnsupportedType, Is.True);
        Assert.That(cache.Exists("k"), Is.False);
    }

    /// <summary>serializers.md: "reading a value as string (or object) returns its text".</summary>
    [Test]
    public void String_reads_any_value_as_its_text_as_object()
    {
        var cache = NewCache(new StringSerializer());
        cache.Set("k", 1.5m);
        cache.Set("d", Utc);

        Assert.That(cache.Get<object>("k"), Is.EqualTo("1.5"));
        Assert.That(cache.Get<string>("d"), Is.EqualTo("2024-03-01T10:00:00.1234567Z"));
    }

    /// <summary>caches.md: "CacheValueNotIntegerException for a value that is not an integer ...; stored text counts only in Redis's own integer form on every backend".
    /// JSON writes a string as "\"5\"", a double 2.0 as "2.0", a bool as "true"; none is Redis's integer form.</summary>
    [Test]
    public void Increment_under_Json_refuses_what_is_not_an_integer_text()
    {
        var cache = NewCache(new JsonSerializer());
        cache.Set("s", "5");
        cache.Set("d", 2.0);
        cache.Set("b", true);
        cache.Set("m", 3m);

        Assert.Throws<CacheValueNotIntegerException>(() => cache.Increment("s"));
        Assert.Throws<CacheValueNotIntegerException>(() => cache.Increment("d"));
        Assert.Throws<CacheValueNotIntegerException>(() => cache.Increment("b"));
        Assert.That(cache.Increment("m"), Is.EqualTo(4));
        Assert.That(cache.Get<string>("s"), Is.EqualTo("5"));
    }

    /// <summary>caches.md: "CacheValueNotIntegerException for a value that is not an integer ...; OverflowException past long's range
    /// (or the stored integer type's), value unchanged" (and "a BigInteger ... is one"). ulong.MaxValue stored as text is an
    /// integer past long's range, so the docs' answer is OverflowException.</summary>
    [Test]
    public void Increment_of_an_integer_past_long_is_an_OverflowException([Values("json", "string")] string kind)
    {
        var cache = NewCache(kind == "json" ? new JsonSerializer() : new StringSerializer());
        cache.Set("c", ulong.MaxValue);

        Assert.Throws<OverflowException>(() => cache.Increment("c"));
        Assert.That(cache.Get<ulong>("c"), Is.EqualTo(ulong.MaxValue));
    }
}
