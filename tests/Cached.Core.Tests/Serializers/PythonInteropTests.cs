using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Cached.Runtime;
using Cached.Serializers;
using Cached.Tests.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using JsonSerializer = Cached.Serializers.JsonSerializer;
using LogEntry = Cached.Tests.Runtime.LogEntry;

namespace Cached.Tests.Serializers;

public sealed record Reading(string Name, double Value, List<double> Samples, Dictionary<string, double> Extra, int Count);

public sealed record Ratios(float Single, Half Small, double? Maybe, decimal Price, long Big);

public sealed record Label(string Name, int Count);

public sealed record Quoted(
    [property: JsonNumberHandling(JsonNumberHandling.WriteAsString | JsonNumberHandling.AllowReadingFromString)] double Value,
    [property: JsonNumberHandling(JsonNumberHandling.WriteAsString | JsonNumberHandling.AllowReadingFromString)] int Count);

public enum Access
{
    None,
    Read,
}

[JsonSerializable(typeof(Reading))]
[JsonSerializable(typeof(Ratios))]
public sealed partial class PythonFloatsContext : JsonSerializerContext
{
}

/// <summary>
/// Generated for writing only, so it carries System.Text.Json's fast path and no member metadata: a value it writes
/// without any other metadata was written by the fast path.
/// </summary>
[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Serialization)]
[JsonSerializable(typeof(Label))]
public sealed partial class FastPathOnlyContext : JsonSerializerContext
{
}

/// <summary>
/// The bytes Python writes and reads (pycached 0.0.9 and aiocache 0.12.3: <c>StringSerializer.dumps</c> is
/// <c>str(value)</c>, <c>JsonSerializer.dumps</c> is <c>json.dumps(value)</c>), pinned as literals: Python cannot be
/// installed where the tests run. Each literal says what Python produced (CPython 3.11).
/// </summary>
public sealed class PythonInteropTests
{
    private static readonly byte[] s_none = "None"u8.ToArray();

    private static byte[] RawBytes(ICache cache, string key) => (byte[])cache.Raw("get", key)!;

    private static string RawText(ICache cache, string key) => Encoding.UTF8.GetString(RawBytes(cache, key));

    private static SimpleMemoryCache StringCache() => new() { Serializer = new StringSerializer() };

    private static SimpleMemoryCache JsonCache() => new() { Serializer = new JsonSerializer() };

    // ---- StringSerializer: null is None --------------------------------------------------------------------

    [Test]
    public void StringSerializer_writes_null_as_the_text_None_as_Python_str_does()
    {
        // Python: str(None) == 'None', stored as the bytes 4E 6F 6E 65.
        using var cache = StringCache();

        cache.Set<string?>("string", null);
        cache.Set<int?>("int", null);
        cache.Set<object?>("object", null);
        cache.Set<DayOfWeek?>("enum", null);

        foreach (var key in new[] { "string", "int", "object", "enum" })
        {
            Assert.That(RawBytes(cache, key), Is.EqualTo(new byte[] { 0x4E, 0x6F, 0x6E, 0x65 }), key);
        }
    }

    [Test]
    public void StringSerializer_reads_the_text_None_Python_wrote_as_null_for_every_nullable_type()
    {
        using var cache = StringCache();
        cache.Raw("set", "k", s_none);

        Assert.Multiple(() =>
        {
            Assert.That(cache.TryGet<string>("k", out var text) && text is null, Is.True, "string");
            Assert.That(cache.TryGet<object>("k", out var boxed) && boxed is null, Is.True, "object");
            Assert.That(cache.TryGet<int?>("k", out var number) && number is null, Is.True, "int?");
            Assert.That(cache.TryGet<double?>("k", out var real) && real is null, Is.True, "double?");
            Assert.That(cache.TryGet<DateTime?>("k", out var at) && at is null, Is.True, "DateTime?");
            Assert.That(cache.TryGet<Guid?>("k", out var id) && id is null, Is.True, "Guid?");
            Assert.That(cache.TryGet<DayOfWeek?>("k", out var day) && day is null, Is.True, "an enum's nullable");
            Assert.That(cache.TryGet<Uri>("k", out var uri) && uri is null, Is.True, "Uri");
            Assert.That(cache.TryGet<Sku>("k", out var sku) && sku is null, Is.True, "an IParsable reference type");
            Assert.That(cache.MultiGet<string>(["k", "missing"]), Is.EqualTo(new string?[] { null, null }));
        });
    }

    [Test]
    public void StringSerializer_round_trips_null_through_None_and_keeps_it_apart_from_the_empty_string()
    {
        using var cache = StringCache();

        cache.Set<string?>("null", null);
        cache.Set("empty", "");

        Assert.That(cache.TryGet<string>("null", out var none), Is.True, "a stored null is found, not a miss");
        Assert.That(none, Is.Null);
        Assert.That(cache.TryGet<string>("empty", out var empty), Is.True);
        Assert.That(empty, Is.EqualTo(""));
        Assert.That(RawBytes(cache, "empty"), Is.Empty);
    }

    [Test]
    public void StringSerializer_reads_None_as_a_non_nullable_number_as_a_clear_error()
    {
        using var cache = StringCache();
        cache.Raw("set", "k", s_none);

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Get<int>("k"));

        Assert.That(ex!.ValueType, Is.EqualTo(typeof(int)));
        Assert.That(ex.IsUnsupportedType, Is.False, "int is carried; this payload cannot be one");
        Assert.That(ex.InnerException, Is.InstanceOf<FormatException>());
        Assert.That(ex.Message, Does.Contain("None").And.Contain("null").And.Contain("int"));
        Assert.That(cache.Get<int?>("k"), Is.Null, "the same payload reads as a nullable");
    }

    [Test]
    public void StringSerializer_refuses_to_store_the_string_None_for_that_value_only()
    {
        using var cache = StringCache();
        cache.Set("k", "before");

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Set("k", "None"));
        var boxed = Assert.Throws<CacheSerializationException>(() => cache.Set<object>("o", "None"));

        Assert.That(ex!.IsUnsupportedType, Is.False, "strings are carried; this one value would read back as null");
        Assert.That(ex.InnerException, Is.InstanceOf<ArgumentException>().And.Not.InstanceOf<NotSupportedException>());
        Assert.That(ex.Message, Does.Contain("None").And.Contain("JsonSerializer"));
        Assert.That(boxed!.IsUnsupportedType, Is.False);
        Assert.That(cache.Get<string>("k"), Is.EqualTo("before"), "nothing is written");
        Assert.That(cache.Exists("o"), Is.False);
        cache.Set("lower", "none");
        cache.Set("spaced", "None ");
        Assert.That(cache.Get<string>("lower"), Is.EqualTo("none"), "only the exact text of null is refused");
        Assert.That(cache.Get<string>("spaced"), Is.EqualTo("None "));
    }

    [Test]
    public void StringSerializer_refuses_any_value_of_a_nullable_type_whose_text_is_None()
    {
        using var cache = StringCache();

        Assert.Throws<CacheSerializationException>(() => cache.Set("sku", new Sku("None")));
        Assert.Throws<CacheSerializationException>(() => cache.Set<Access?>("access", Access.None));
        Assert.Throws<CacheSerializationException>(() => cache.MultiSet(new Dictionary<string, string> { ["a"] = "fine", ["b"] = "None" }));

        Assert.That(cache.Count, Is.Zero);
    }

    [Test]
    public void StringSerializer_stores_an_enum_member_named_None_where_the_type_cannot_be_null()
    {
        using var cache = StringCache();

        cache.Set("access", Access.None);

        Assert.That(RawBytes(cache, "access"), Is.EqualTo(s_none));
        Assert.That(cache.Get<Access>("access"), Is.EqualTo(Access.None), "an Access cannot be null: None is its member");
        Assert.That(cache.TryGet<Access?>("access", out var nullable) && nullable is null, Is.True, "read as Access?, None is null");
    }

    [Test]
    public void A_cached_method_whose_result_is_the_string_None_returns_it_uncached()
    {
        var logs = new RecordingLoggerFactory();
        CachedLogging.LoggerFactory = logs;
        try
        {
            using var cache = StringCache();
            var method = new CachedMethod<string?>(new CachedMethodOptions { Method = "Tests.Names.Get", CacheFactory = () => cache });
            var calls = new Calls();

            var first = method.Invoke("k", calls, static c => { c.Increment(); return "None"; });
            var second = method.Invoke("k", calls, static c => { c.Increment(); return "None"; });

            Assert.That(first, Is.EqualTo("None"), "the caller gets the right answer");
            Assert.That(second, Is.EqualTo("None"));
            Assert.That(calls.Count, Is.EqualTo(2), "not cached, so computed again");
            Assert.That(cache.Exists("k"), Is.False);
            Assert.That(logs.Entries.Select(e => e.EventId), Is.EqualTo(new[] { 2, 2 }), "a write warning per call, not a refusal of the type");
            Assert.That(logs.Entries, Has.All.Matches<LogEntry>(e => e.Level == LogLevel.Warning));
        }
        finally
        {
            CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
        }
    }

    [Test]
    public void A_cached_method_whose_result_is_null_caches_it_as_None()
    {
        using var cache = StringCache();
        var method = new CachedMethod<string?>(new CachedMethodOptions { Method = "Tests.Names.Get", CacheFactory = () => cache });
        var calls = new Calls();

        method.Invoke("k", calls, static c => { c.Increment(); return null; });
        var hit = method.Invoke("k", calls, static c => { c.Increment(); return "computed"; });

        Assert.That(hit, Is.Null);
        Assert.That(calls.Count, Is.EqualTo(1));
        Assert.That(RawBytes(cache, "k"), Is.EqualTo(s_none));
    }

    // ---- StringSerializer: Python's float text ----------------------------------------------------------------

    [TestCase("inf", double.PositiveInfinity)]     // str(float('inf')) == 'inf'
    [TestCase("-inf", double.NegativeInfinity)]    // str(float('-inf')) == '-inf'
    [TestCase("nan", double.NaN)]                  // str(float('nan')) == 'nan'
    [TestCase("2.0", 2.0)]                         // str(2.0) == '2.0'
    [TestCase("1e+16", 1e16)]                      // str(1e16) == '1e+16'
    [TestCase("1e-05", 0.00001)]                   // str(0.00001) == '1e-05'
    public void StringSerializer_reads_the_text_Python_str_writes_for_a_float(string python, double expected)
    {
        using var cache = StringCache();
        cache.Raw("set", "k", Encoding.UTF8.GetBytes(python));

        Assert.That(cache.Get<double>("k"), Is.EqualTo(expected));
        Assert.That(cache.Get<float>("k"), Is.EqualTo((float)expected));
        Assert.That(cache.Get<double?>("k"), Is.EqualTo(expected));
    }

    // ---- JsonSerializer: floats as Python writes them ----------------------------------------------------------

    private static IEnumerable<TestCaseData> PythonFloats()
    {
        // Each pair is (value, json.dumps(value)) as CPython 3.11 prints it: repr(float), and NaN/Infinity for the rest.
        yield return new TestCaseData(2.0, "2.0").SetName("json.dumps(2.0) == '2.0'");
        yield return new TestCaseData(100.0, "100.0").SetName("json.dumps(100.0) == '100.0'");
        yield return new TestCaseData(1.5, "1.5").SetName("json.dumps(1.5) == '1.5'");
        yield return new TestCaseData(0.1, "0.1").SetName("json.dumps(0.1) == '0.1'");
        yield return new TestCaseData(1.0 / 3, "0.3333333333333333").SetName("json.dumps(1/3) == '0.3333333333333333'");
        yield return new TestCaseData(-0.0, "-0.0").SetName("json.dumps(-0.0) == '-0.0'");
        yield return new TestCaseData(0.0, "0.0").SetName("json.dumps(0.0) == '0.0'");
        yield return new TestCaseData(1e15, "1000000000000000.0").SetName("json.dumps(1e15) == '1000000000000000.0'");
        yield return new TestCaseData(9007199254740992.0, "9007199254740992.0").SetName("json.dumps(2.0**53) == '9007199254740992.0'");
        yield return new TestCaseData(1e16, "1e+16").SetName("json.dumps(1e16) == '1e+16'");
        yield return new TestCaseData(1e22, "1e+22").SetName("json.dumps(1e22) == '1e+22'");
        yield return new TestCaseData(123456789012345678.0, "1.2345678901234568e+17").SetName("json.dumps(123456789012345678.0) == '1.2345678901234568e+17'");
        yield return new TestCaseData(0.0001, "0.0001").SetName("json.dumps(0.0001) == '0.0001'");
        yield return new TestCaseData(0.00001, "1e-05").SetName("json.dumps(0.00001) == '1e-05'");
        yield return new TestCaseData(1.5e-7, "1.5e-07").SetName("json.dumps(1.5e-7) == '1.5e-07'");
        yield return new TestCaseData(double.Epsilon, "5e-324").SetName("json.dumps(5e-324) == '5e-324'");
        yield return new TestCaseData(double.MaxValue, "1.7976931348623157e+308").SetName("json.dumps(sys.float_info.max) == '1.7976931348623157e+308'");
        yield return new TestCaseData(-2.5, "-2.5").SetName("json.dumps(-2.5) == '-2.5'");
        yield return new TestCaseData(double.NaN, "NaN").SetName("json.dumps(float('nan')) == 'NaN'");
        yield return new TestCaseData(double.PositiveInfinity, "Infinity").SetName("json.dumps(float('inf')) == 'Infinity'");
        yield return new TestCaseData(double.NegativeInfinity, "-Infinity").SetName("json.dumps(float('-inf')) == '-Infinity'");
    }

    [TestCaseSource(nameof(PythonFloats))]
    public void JsonSerializer_writes_a_double_as_Python_json_dumps_does_and_reads_it_back_bit_for_bit(double value, string python)
    {
        using var cache = JsonCache();

        cache.Set("k", value);

        Assert.That(RawText(cache, "k"), Is.EqualTo(python));
        Assert.That(BitConverter.DoubleToInt64Bits(cache.Get<double>("k")), Is.EqualTo(BitConverter.DoubleToInt64Bits(value)));
    }

    [TestCaseSource(nameof(PythonFloats))]
    public void JsonSerializer_reads_what_Python_json_dumps_writes_for_a_float(double value, string python)
    {
        using var cache = JsonCache();
        cache.Raw("set", "k", Encoding.UTF8.GetBytes(python));

        Assert.That(BitConverter.DoubleToInt64Bits(cache.Get<double>("k")), Is.EqualTo(BitConverter.DoubleToInt64Bits(value)));
        Assert.That(cache.Get<double?>("k"), Is.EqualTo(value));
    }

    [TestCase("2", 2.0)]        // json.dumps(2) == '2': a Python int reads as a double too
    [TestCase("2.0", 2.0)]
    [TestCase("1e+16", 1e16)]
    [TestCase("1E+16", 1e16)]   // what System.Text.Json wrote before
    [TestCase("-0", -0.0)]
    public void JsonSerializer_keeps_reading_every_form_of_a_number(string json, double expected)
    {
        using var cache = JsonCache();
        cache.Raw("set", "k", Encoding.UTF8.GetBytes(json));

        Assert.That(cache.Get<double>("k"), Is.EqualTo(expected));
    }

    [Test]
    public void JsonSerializer_writes_doubles_nested_in_records_lists_and_dictionaries_as_Python_does()
    {
        // Python: json.dumps({"Name": "t", "Value": 2.0, "Samples": [1.5, 3.0, float("inf")], "Extra": {"d": float("nan")}, "Count": 2})
        // == '{"Name": "t", "Value": 2.0, "Samples": [1.5, 3.0, Infinity], "Extra": {"d": NaN}, "Count": 2}'
        // (Python puts a space after ':' and ','; json.loads reads either.)
        using var cache = JsonCache();
        var reading = new Reading("t", 2.0, [1.5, 3.0, double.PositiveInfinity], new() { ["d"] = double.NaN }, 2);

        cache.Set("r", reading);
        cache.Set("list", new List<double> { 1, -0.0, 1e16 });
        cache.Set("array", new[] { 2.0 });
        cache.Set("map", new Dictionary<string, double> { ["a"] = 2 });

        Assert.That(RawText(cache, "r"), Is.EqualTo("""{"Name":"t","Value":2.0,"Samples":[1.5,3.0,Infinity],"Extra":{"d":NaN},"Count":2}"""));
        Assert.That(RawText(cache, "list"), Is.EqualTo("[1.0,-0.0,1e+16]"));
        Assert.That(RawText(cache, "array"), Is.EqualTo("[2.0]"));
        Assert.That(RawText(cache, "map"), Is.EqualTo("""{"a":2.0}"""));
        var read = cache.Get<Reading>("r")!;
        Assert.That(read.Value, Is.EqualTo(2.0));
        Assert.That(read.Samples, Is.EqualTo(new[] { 1.5, 3.0, double.PositiveInfinity }));
        Assert.That(double.IsNaN(read.Extra["d"]), Is.True);
    }

    [Test]
    public void JsonSerializer_reads_a_record_as_Python_json_dumps_writes_it_bare_NaN_and_Infinity_included()
    {
        using var cache = JsonCache();
        // Python: json.dumps({"Name": "NaN, Infinity", "Value": float("nan"), "Samples": [float("inf"), float("-inf"), 2],
        //                     "Extra": {"NaN": -0.0}, "Count": 2})
        cache.Raw("set", "r", """{"Name": "NaN, Infinity", "Value": NaN, "Samples": [Infinity, -Infinity, 2], "Extra": {"NaN": -0.0}, "Count": 2}"""u8.ToArray());

        var read = cache.Get<Reading>("r")!;

        Assert.That(read.Name, Is.EqualTo("NaN, Infinity"), "text inside a string is left alone");
        Assert.That(double.IsNaN(read.Value), Is.True);
        Assert.That(read.Samples, Is.EqualTo(new[] { double.PositiveInfinity, double.NegativeInfinity, 2.0 }));
        Assert.That(BitConverter.DoubleToInt64Bits(read.Extra["NaN"]), Is.EqualTo(BitConverter.DoubleToInt64Bits(-0.0)));
        Assert.That(read.Count, Is.EqualTo(2));
    }

    [Test]
    public void JsonSerializer_reads_NaN_into_a_member_that_is_not_a_float_as_an_error()
    {
        using var cache = JsonCache();
        cache.Raw("set", "p", """{"X": NaN, "Y": 1}"""u8.ToArray());
        cache.Raw("set", "bad", """{"X": Nonsense, "Y": 1}"""u8.ToArray());

        var nan = Assert.Throws<CacheSerializationException>(() => cache.Get<Point>("p"));
        var bad = Assert.Throws<CacheSerializationException>(() => cache.Get<Point>("bad"));

        Assert.That(nan!.InnerException, Is.InstanceOf<JsonException>());
        Assert.That(nan.Message, Does.Contain("$.X"), "names the member");
        Assert.That(bad!.InnerException, Is.InstanceOf<JsonException>(), "a payload without Python's literals fails as before");
    }

    [Test]
    public void JsonSerializer_writes_float_Half_nullable_and_object_doubles_as_Python_floats()
    {
        using var cache = JsonCache();

        cache.Set("float", 2f);
        cache.Set("small float", 0.1f);
        cache.Set("half", (Half)2);
        cache.Set<double?>("nullable", 2.0);
        cache.Set<double?>("null", null);
        cache.Set<object>("object", 2.0);
        cache.Set("ratios", new Ratios(16777216f, (Half)0.5, 3.0, 2m, 3));

        Assert.Multiple(() =>
        {
            Assert.That(RawText(cache, "float"), Is.EqualTo("2.0"));
            Assert.That(RawText(cache, "small float"), Is.EqualTo("0.1"), "the float's own shortest digits, which Python reads as 0.1");
            Assert.That(RawText(cache, "half"), Is.EqualTo("2.0"));
            Assert.That(RawText(cache, "nullable"), Is.EqualTo("2.0"));
            Assert.That(RawText(cache, "null"), Is.EqualTo("null"));
            Assert.That(RawText(cache, "object"), Is.EqualTo("2.0"));
            Assert.That(RawText(cache, "ratios"), Is.EqualTo("""{"Single":16777216.0,"Small":0.5,"Maybe":3.0,"Price":2,"Big":3}"""));
            Assert.That(cache.Get<float>("small float"), Is.EqualTo(0.1f));
            Assert.That(cache.Get<Half>("half"), Is.EqualTo((Half)2));
            Assert.That(cache.Get<Ratios>("ratios"), Is.EqualTo(new Ratios(16777216f, (Half)0.5, 3.0, 2m, 3)));
        });
    }

    [Test]
    public void JsonSerializer_leaves_decimals_and_integers_as_System_Text_Json_writes_them()
    {
        using var cache = JsonCache();

        cache.Set("whole decimal", 2m);
        cache.Set("scaled decimal", 2.0m);
        cache.Set("int", 2);
        cache.Set("long", long.MaxValue);
        cache.Set("ints", new[] { 1, 2 });

        Assert.That(RawText(cache, "whole decimal"), Is.EqualTo("2"), "a decimal keeps its scale, so 2m is Python's int 2");
        Assert.That(RawText(cache, "scaled decimal"), Is.EqualTo("2.0"));
        Assert.That(RawText(cache, "int"), Is.EqualTo("2"));
        Assert.That(RawText(cache, "long"), Is.EqualTo("9223372036854775807"));
        Assert.That(RawText(cache, "ints"), Is.EqualTo("[1,2]"));
    }

    [Test]
    public void JsonSerializer_writes_double_dictionary_keys_as_Python_does()
    {
        // Python: json.dumps({2.0: 1, float("nan"): 2}) == '{"2.0": 1, "NaN": 2}'
        using var cache = JsonCache();

        cache.Set("k", new Dictionary<double, int> { [2.0] = 1, [double.NaN] = 2 });
        cache.Raw("set", "old", """{"2": 1}"""u8.ToArray());

        Assert.That(RawText(cache, "k"), Is.EqualTo("""{"2.0":1,"NaN":2}"""));
        var read = cache.Get<Dictionary<double, int>>("k")!;
        Assert.That(read[2.0], Is.EqualTo(1));
        Assert.That(read[double.NaN], Is.EqualTo(2));
        Assert.That(cache.Get<Dictionary<double, int>>("old")![2.0], Is.EqualTo(1));
    }

    [Test]
    public void JsonSerializer_reads_a_float_from_a_string_as_AllowReadingFromString_does()
    {
        // What System.Text.Json writes with JsonNumberHandling.WriteAsString or AllowNamedFloatingPointLiterals, which
        // a [JsonNumberHandling] member asked for: the default serializer no longer applies it, so it reads them always.
        using var cache = JsonCache();
        cache.Raw("set", "nan", "\"NaN\""u8.ToArray());
        cache.Raw("set", "text", "\"2.5\""u8.ToArray());
        cache.Raw("set", "member", """{"Single":"1.5","Small":"-Infinity","Maybe":"2","Price":1,"Big":1}"""u8.ToArray());
        cache.Raw("set", "word", "\"two\""u8.ToArray());
        cache.Raw("set", "spaced", "\" 2\""u8.ToArray());

        Assert.That(double.IsNaN(cache.Get<double>("nan")), Is.True);
        Assert.That(cache.Get<double>("text"), Is.EqualTo(2.5));
        Assert.That(cache.Get<Ratios>("member"), Is.EqualTo(new Ratios(1.5f, Half.NegativeInfinity, 2.0, 1m, 1)));
        Assert.Throws<CacheSerializationException>(() => cache.Get<double>("word"));
        Assert.Throws<CacheSerializationException>(() => cache.Get<double>("spaced"));
    }

    [Test]
    public void A_number_handling_attribute_on_a_float_member_is_not_applied_when_writing()
    {
        using var cache = JsonCache();

        cache.Set("q", new Quoted(2.0, 3));

        Assert.That(RawText(cache, "q"), Is.EqualTo("""{"Value":2.0,"Count":"3"}"""), "the int member keeps it; the double is written as Python writes it");
        Assert.That(cache.Get<Quoted>("q"), Is.EqualTo(new Quoted(2.0, 3)));
    }

    [Test]
    public void Python_floats_come_from_the_default_serializer_with_a_source_generated_context_and_no_reflection()
    {
        var registry = new JsonContextRegistry();
        registry.Add(PythonFloatsContext.Default);
        using var cache = new SimpleMemoryCache { Serializer = new JsonSerializer(registry, reflectionAllowed: false) };
        var reading = new Reading("t", 2.0, [3.0], new() { ["d"] = double.NegativeInfinity }, 1);

        cache.Set("r", reading);
        cache.Set("d", 2.0);
        cache.Set<double?>("n", 2.0);
        cache.Set("ratios", new Ratios(1f, (Half)1, null, 1.5m, 1));

        Assert.That(RawText(cache, "r"), Is.EqualTo("""{"Name":"t","Value":2.0,"Samples":[3.0],"Extra":{"d":-Infinity},"Count":1}"""));
        Assert.That(RawText(cache, "d"), Is.EqualTo("2.0"));
        Assert.That(RawText(cache, "n"), Is.EqualTo("2.0"));
        Assert.That(RawText(cache, "ratios"), Is.EqualTo("""{"Single":1.0,"Small":1.0,"Maybe":null,"Price":1.5,"Big":1}"""));
        Assert.That(cache.Get<Reading>("r")!.Extra["d"], Is.EqualTo(double.NegativeInfinity));
    }

    [Test]
    public void A_record_without_floating_point_members_keeps_System_Text_Json_s_generated_fast_path()
    {
        // FastPathOnlyContext has no member metadata for Label: only its fast path can write one. A converter in the
        // options would turn that path off for every type; the float metadata turns it off only where a float is.
        var registry = new JsonContextRegistry();
        registry.Add(FastPathOnlyContext.Default);
        using var cache = new SimpleMemoryCache { Serializer = new JsonSerializer(registry, reflectionAllowed: false) };

        cache.Set("l", new Label("a", 1));

        Assert.That(RawText(cache, "l"), Is.EqualTo("""{"Name":"a","Count":1}"""));
    }

    [Test]
    public void A_serializer_with_its_own_options_or_context_writes_numbers_as_System_Text_Json_does()
    {
        using var context = new SimpleMemoryCache { Serializer = new JsonSerializer(PythonFloatsContext.Default) };
        using var options = new SimpleMemoryCache
        {
            Serializer = new JsonSerializer(new JsonSerializerOptions { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals }),
        };

        context.Set("r", new Reading("t", 2.0, [], [], 0));
        options.Set("d", 2.0);
        options.Raw("set", "python", "[NaN, Infinity]"u8.ToArray());

        Assert.That(RawText(context, "r"), Does.Contain("\"Value\":2,"), "the context's options, as they are");
        Assert.That(RawText(options, "d"), Is.EqualTo("2"));
        Assert.That(options.Get<double[]>("python"), Is.EqualTo(new[] { double.NaN, double.PositiveInfinity }), "Python's bare literals are read where the options read named literals");
    }

    // ---- the format itself -------------------------------------------------------------------------------------

    [TestCase(2f, "2.0")]
    [TestCase(1e16f, "1e+16")]
    [TestCase(16777216f, "16777216.0")]
    [TestCase(float.Epsilon, "1e-45")]
    [TestCase(float.MaxValue, "3.4028235e+38")]
    [TestCase(1e-5f, "1e-05")]
    public void A_float_is_laid_out_as_Python_lays_out_its_shortest_digits(float value, string expected)
    {
        Span<byte> text = stackalloc byte[PythonJson.MaxFloatLength];

        var length = PythonJson.FormatFloat(value, text);

        Assert.That(Encoding.ASCII.GetString(text[..length]), Is.EqualTo(expected));
    }

    [Test]
    public void Quoting_named_literals_leaves_strings_escapes_and_longer_words_alone()
    {
        static string? Quote(string json)
        {
            var quoted = PythonJson.QuoteNamedLiterals(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json)));
            return quoted is null ? null : Encoding.UTF8.GetString(quoted);
        }

        Assert.Multiple(() =>
        {
            Assert.That(Quote("NaN"), Is.EqualTo("\"NaN\""));
            Assert.That(Quote("[NaN,Infinity,-Infinity]"), Is.EqualTo("[\"NaN\",\"Infinity\",\"-Infinity\"]"));
            Assert.That(Quote("{\"a\\\"NaN\": NaN}"), Is.EqualTo("{\"a\\\"NaN\": \"NaN\"}"));
            Assert.That(Quote("[NaNa, Infinityx, xNaN]"), Is.Null);
            Assert.That(Quote("[\"NaN\"]"), Is.Null);
            Assert.That(Quote("{\"a\": 1}"), Is.Null);
        });
    }

    [Test]
    public void Formatting_uses_the_invariant_culture_whatever_the_current_one()
    {
        var saved = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = new CultureInfo("de-DE");
        try
        {
            using var cache = JsonCache();
            cache.Set("k", 1.5);
            Assert.That(RawText(cache, "k"), Is.EqualTo("1.5"));
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }
}
