using System.Numerics;
using System.Text.Json;
using Cached.Redis.Tests.Infrastructure;
using Cached.Serializers;
using Cached.Tests.Serializers;
using StackExchange.Redis;
using JsonSerializer = Cached.Serializers.JsonSerializer;

namespace Cached.Redis.Tests;

/// <summary>
/// An outside review of <c>JsonSerializer</c>, <c>StringSerializer</c> and <c>NullSerializer</c> on a real redis-server,
/// against docs/serializers.md and docs/caches.md (each test quotes the sentence it checks): the probes every backend shares
/// (<see cref="SerializerReviewProbes"/>, as the memory twin tests/Cached.Core.Tests/OutsiderSerializerReviewTests.cs
/// runs them), plus what Python writes into Redis and the counter form.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderSerializerReviewTests : SerializerReviewProbes
{
    private ConnectionMultiplexer _admin = null!;

    private IDatabase Raw => _admin.GetDatabase(0);

    [OneTimeSetUp]
    public void ConnectAdmin()
        => _admin = ConnectionMultiplexer.Connect($"{SharedRedis.Server.ConnectionString},allowAdmin=true,name=cached-tests-serializer-review");

    [OneTimeTearDown]
    public void DisconnectAdmin() => _admin.Dispose();

    [SetUp]
    public void FlushBefore() => _admin.GetServer(_admin.GetEndPoints()[0]).FlushAllDatabases();

    /// <inheritdoc />
    protected override ICache CreateCache(ISerializer serializer)
        => new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString, Namespace = "review", Serializer = serializer };

    // ---- NullSerializer on Redis ----

    /// <summary>serializers.md: NullSerializer on a byte store stores "strings and byte arrays as they are"; Refuses "anything but
    /// string and byte[] (by type), null".</summary>
    [Test]
    public void Null_on_Redis_carries_strings_and_bytes_exactly_and_refuses_other_types_by_type()
    {
        var cache = NewCache(NullSerializer.Instance);
        var bytes = Enumerable.Range(0, 256).Select(static i => (byte)i).ToArray();
        cache.Set("b", bytes);
        cache.Set("s", "a\0😀");
        cache.Set("e", "");

        Assert.That(cache.Get<byte[]>("b"), Is.EqualTo(bytes));
        Assert.That(cache.Get<string>("s"), Is.EqualTo("a\0😀"));
        Assert.That(cache.TryGet<string>("e", out var e) && e == "", Is.True);
        foreach (var (name, refused) in new (string, Action)[] { ("int", () => cache.Set("i", 1)), ("object holding 5", () => cache.Set<object>("o", 5)) })
        {
            var ex = Assert.Throws<CacheSerializationException>(() => refused(), name);
            Assert.That(ex!.IsUnsupportedType, Is.True, ex.Message);
        }

        Assert.That(Raw.KeyExists(["review:i", "review:o"]), Is.Zero);
    }

    /// <summary>
    /// The reviewer found a ReadOnlyMemory&lt;byte&gt; written but never readable as itself under NullSerializer on a byte
    /// store. It is now read back too; docs/serializers.md, Refuses (NullSerializer): "anything but `string`, `byte[]`
    /// and `ReadOnlyMemory&lt;byte&gt;` (by type)".
    /// </summary>
    [Test]
    public void Null_on_Redis_reads_ReadOnlyMemory_of_byte_back_as_written()
    {
        var cache = NewCache(NullSerializer.Instance);
        var value = new ReadOnlyMemory<byte>([1, 0, 0xFF]);

        cache.Set("r", value);

        Assert.That(cache.Get<ReadOnlyMemory<byte>>("r").ToArray(), Is.EqualTo(value.ToArray()));
        Assert.That(cache.Get<byte[]>("r"), Is.EqualTo(value.ToArray()));
    }

    // ---- what Python writes ----

    /// <summary>serializers.md: JsonSerializer writes floating-point numbers "as Python's json.dumps writes them (2.0, 1e+16, NaN)",
    /// "a double is byte for byte what Python writes", "wherever they occur (alone, in records, lists, dictionaries, object)".</summary>
    [Test]
    public void Json_writes_doubles_byte_for_byte_as_Python_json_dumps()
    {
        var cache = NewCache(new JsonSerializer());
        var cases = new (double Value, string Python)[]
        {
            (2.0, "2.0"), (1e16, "1e+16"), (1e-5, "1e-05"), (-0.0, "-0.0"), (double.NaN, "NaN"), (double.PositiveInfinity, "Infinity"),
            (double.NegativeInfinity, "-Infinity"), (0.1, "0.1"), (1e22, "1e+22"), (123456789012345680.0, "1.2345678901234568e+17"),
            (double.Epsilon, "5e-324"), (double.MaxValue, "1.7976931348623157e+308"), (1e15, "1000000000000000.0"), (0.0001, "0.0001"),
        };
        foreach (var (value, python) in cases)
        {
            cache.Set("d", value);
            Assert.That((string?)Raw.StringGet("review:d"), Is.EqualTo(python), python);
        }

        cache.Set<object>("o", new Dictionary<string, object> { ["a"] = new List<double> { 2.0, -0.0 }, ["b"] = 1e16f });
        Assert.That((string?)Raw.StringGet("review:o"), Is.EqualTo("""{"a":[2.0,-0.0],"b":1e+16}"""));
    }

    /// <summary>serializers.md: "It reads every form back (2, 2.0, 1E+16), Python's bare literals included"; Python's json.dumps of
    /// a dict, list, None, a string with non-ASCII (ensure_ascii escapes).</summary>
    [Test]
    public void Json_reads_what_Python_json_dumps_writes()
    {
        var cache = NewCache(new JsonSerializer());
        Raw.StringSet("review:f", "[1.0, NaN, -Infinity, 1e+16, -0.0]");
        Raw.StringSet("review:d", """{"id": 1, "name": "caf\u00e9 \ud83d\ude00", "tags": ["a"], "score": 2.5, "ok": true, "none": null}""");
        Raw.StringSet("review:n", "null");
        Raw.StringSet("review:big", "12345678901234567890123");

        Assert.That(cache.Get<double[]>("f")!.Select(static d => Describe(d)), Is.EqualTo(new[] { 1.0, double.NaN, double.NegativeInfinity, 1e16, -0.0 }.Select(static d => Describe(d))));
        var d = cache.Get<Dictionary<string, JsonElement>>("d")!;
        Assert.That(d["name"].GetString(), Is.EqualTo("café 😀"));
        Assert.That(cache.TryGet<object>("n", out var n) && n is null, Is.True);
        Assert.That(cache.Get<decimal>("big"), Is.EqualTo(12345678901234567890123m));
    }

    /// <summary>serializers.md: StringSerializer "reading it as a number ... parses the text, so "1.5" written by Python reads as a double,
    /// "True" as a bool, and Python's inf, -inf and nan as the double"; "the text None reads back as null ... whoever wrote it".</summary>
    [Test]
    public void String_reads_what_Python_str_writes()
    {
        var cache = NewCache(new StringSerializer());
        Raw.StringSet("review:t", "True");
        Raw.StringSet("review:f", "1e+20");
        Raw.StringSet("review:inf", "-inf");
        Raw.StringSet("review:nan", "nan");
        Raw.StringSet("review:none", "None");
        Raw.StringSet("review:i", "-9223372036854775808");

        Assert.That(cache.Get<bool>("t"), Is.True);
        Assert.That(cache.Get<double>("f"), Is.EqualTo(1e20));
        Assert.That(cache.Get<float>("inf"), Is.EqualTo(float.NegativeInfinity));
        Assert.That(double.IsNaN(cache.Get<double>("nan")), Is.True);
        Assert.That(cache.TryGet<int?>("none", out var none) && none is null, Is.True);
        Assert.That(cache.Get<long>("i"), Is.EqualTo(long.MinValue));
    }

    /// <summary>caches.md: MultiSet "Every pair is checked and serialized before anything is written"; MultiTryGet "Found tells a
    /// miss from a stored null, key by key". Per-call serializers over a NullSerializer RedisCache.</summary>
    [Test]
    public void MultiSet_and_MultiTryGet_with_per_call_serializers_keep_nulls_empties_and_edge_values([Values("json", "string")] string kind)
    {
        ISerializer serializer = kind == "json" ? new JsonSerializer() : new StringSerializer();
        var cache = NewCache(NullSerializer.Instance);
        cache.MultiSet(new Dictionary<string, double?> { ["nan"] = double.NaN, ["neg0"] = -0.0, ["null"] = null }, serializer: serializer);
        cache.MultiSet(new Dictionary<string, string?> { ["e"] = "", ["s"] = null, ["u"] = "😀\0" }, serializer: serializer);

        var numbers = cache.MultiTryGet<double?>(["nan", "neg0", "null", "missing"], serializer: serializer);
        Assert.That(numbers.Select(static r => r.Found + ":" + Describe(r.Value)), Is.EqualTo(new[] { "True:" + Describe(double.NaN), "True:" + Describe(-0.0), "True:null", "False:null" }));
        var strings = cache.MultiTryGet<string>(["e", "s", "u"], serializer: serializer);
        Assert.That(strings.Select(static r => r.Found + ":" + Describe(r.Value)), Is.EqualTo(new[] { "True:" + Describe(""), "True:null", "True:" + Describe("😀\0") }));

        Assert.Throws<CacheSerializationException>(() => cache.MultiSet(new Dictionary<string, string> { ["x"] = "ok", ["y"] = "a\uD800" }, serializer: new StringSerializer()));
        Assert.That(Raw.KeyExists("review:x"), Is.False, "nothing written when one pair cannot be serialized");
    }

    // ---- Increment under each serializer ----

    /// <summary>caches.md: "The counter is stored as its decimal text (Redis INCRBY's form), which the text serializers read back
    /// with Get&lt;long&gt;; in memory without a serializer, an integer keeps its type and a string becomes a long ..., so Get&lt;long&gt; reads it there too."</summary>
    [Test]
    public void Increment_of_a_missing_key_then_Get_long_int_string([Values("json", "string")] string kind)
    {
        ISerializer serializer = kind == "json" ? new JsonSerializer() : new StringSerializer();
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
    public void Increment_past_long_MaxValue_overflows_and_keeps_the_value([Values("json", "string")] string kind)
    {
        ISerializer serializer = kind == "json" ? new JsonSerializer() : new StringSerializer();
        var cache = NewCache(serializer);
        cache.Set("c", long.MaxValue);

        Assert.Throws<OverflowException>(() => cache.Increment("c"));
        Assert.That(cache.Get<long>("c"), Is.EqualTo(long.MaxValue));
    }

    /// <summary>caches.md: the counter form is Redis's; under NullSerializer on Redis the counter is the text "42", which
    /// NullSerializer reads as a string ("strings ... as they are").</summary>
    [Test]
    public void Increment_under_Null_on_Redis_reads_back_as_its_text()
    {
        var cache = NewCache(NullSerializer.Instance);
        cache.Increment("c", 42);

        Assert.That(cache.Get<string>("c"), Is.EqualTo("42"));
    }
}
