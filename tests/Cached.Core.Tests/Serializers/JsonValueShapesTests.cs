using System.Numerics;
using System.Text;
using System.Text.Json.Serialization;
using Cached.Serializers;
using JsonSerializer = Cached.Serializers.JsonSerializer;

namespace Cached.Tests.Serializers;

/// <summary>A struct of public fields, which System.Text.Json skips by default.</summary>
public struct FieldPoint
{
    public int X;
    public int Y;
}

/// <summary>Public fields, each included or left out on purpose.</summary>
public sealed class MarkedFields
{
    [JsonInclude]
    public int Kept;

    [JsonIgnore]
    public int Scratch;

    public string Name { get; set; } = "";
}

/// <summary>A record holding a value tuple and a big integer, as members.</summary>
public sealed record Holding((string Code, int Count) Item, BigInteger Total);

[JsonSerializable(typeof((int, string)))]
public sealed partial class TupleContext : JsonSerializerContext
{
}

[JsonSourceGenerationOptions(IncludeFields = true)]
[JsonSerializable(typeof(FieldPoint))]
public sealed partial class FieldPointContext : JsonSerializerContext
{
}

/// <summary>
/// Values System.Text.Json's defaults would store as something that reads back otherwise: value tuples (written as
/// a JSON array, as Python writes a tuple), <see cref="BigInteger"/> (written as its digits), and objects with public
/// fields it skips (refused by type, naming the fix).
/// </summary>
public sealed class JsonValueShapesTests
{
    private static SimpleMemoryCache NewCache(bool reflection = true, JsonContextRegistry? registry = null)
        => new() { Serializer = reflection && registry is null ? new JsonSerializer() : new JsonSerializer(registry ?? new JsonContextRegistry(), reflection) };

    private static string RawText(ICache cache, string key) => Encoding.UTF8.GetString((byte[])cache.Raw("get", key)!);

    [Test]
    public void A_value_tuple_is_stored_as_a_json_array_of_its_items_and_read_back()
    {
        using var cache = NewCache();

        cache.Set("t", (Id: 7, Name: "seven", Price: 2.0));

        Assert.That(RawText(cache, "t"), Is.EqualTo("""[7,"seven",2.0]"""));
        Assert.That(cache.Get<(int, string, double)>("t"), Is.EqualTo((7, "seven", 2.0)));
    }

    [Test]
    public void A_tuple_of_ten_items_is_written_flat_and_read_back_with_its_rest()
    {
        using var cache = NewCache();
        var value = (1, 2, 3, 4, 5, 6, 7, "eight", 9L, (string?)null);

        cache.Set("t", value);

        Assert.That(RawText(cache, "t"), Is.EqualTo("""[1,2,3,4,5,6,7,"eight",9,null]"""));
        Assert.That(cache.Get<(int, int, int, int, int, int, int, string, long, string?)>("t"), Is.EqualTo(value));
    }

    [Test]
    public void Tuples_inside_records_lists_and_nullables_read_back()
    {
        using var cache = NewCache();
        var holding = new Holding(("A1", 3), BigInteger.Pow(2, 100));

        cache.Set("h", holding);
        cache.Set("l", new List<(int, string)> { (1, "a"), (2, "b") });
        cache.Set("n", ((int, string)?)(5, "five"));

        Assert.That(RawText(cache, "h"), Is.EqualTo("""{"Item":["A1",3],"Total":1267650600228229401496703205376}"""));
        Assert.That(cache.Get<Holding>("h"), Is.EqualTo(holding));
        Assert.That(cache.Get<List<(int, string)>>("l"), Is.EqualTo(new List<(int, string)> { (1, "a"), (2, "b") }));
        Assert.That(cache.Get<(int, string)?>("n"), Is.EqualTo(((int, string)?)(5, "five")));
    }

    [Test]
    public void A_tuple_python_wrote_is_read_and_a_payload_of_another_arity_is_refused()
    {
        using var cache = NewCache();
        cache.Raw("set", "python", Encoding.UTF8.GetBytes("""[7, "seven"]"""));
        cache.Raw("set", "short", Encoding.UTF8.GetBytes("""[7]"""));
        cache.Raw("set", "long", Encoding.UTF8.GetBytes("""[7, "seven", 8]"""));
        cache.Raw("set", "object", Encoding.UTF8.GetBytes("""{"Item1":7,"Item2":"seven"}"""));

        Assert.That(cache.Get<(int, string)>("python"), Is.EqualTo((7, "seven")));
        Assert.Multiple(() =>
        {
            foreach (var key in new[] { "short", "long", "object" })
            {
                Assert.That(() => cache.Get<(int, string)>(key), Throws.InstanceOf<CacheSerializationException>(), key);
            }
        });
    }

    [Test]
    public void Without_reflection_a_value_tuple_is_refused_naming_a_record_even_when_a_context_lists_it()
    {
        // A context made with System.Text.Json's defaults has no members for a tuple: it would store {}.
        var registry = new JsonContextRegistry();
        registry.Add(TupleContext.Default);
        using var cache = NewCache(reflection: false, registry);

        var refused = Assert.Throws<CacheSerializationException>(() => cache.Set("t", (7, "seven")))!;

        Assert.That(refused.IsUnsupportedType, Is.True);
        Assert.That(refused.ToString(), Does.Contain("Store a record instead"));
        Assert.That(cache.Exists("t"), Is.False);
    }

    [Test]
    public void A_struct_of_public_fields_is_refused_by_type_naming_the_field_and_the_fix()
    {
        using var cache = NewCache();

        var refused = Assert.Throws<CacheSerializationException>(() => cache.Set("p", new FieldPoint { X = 1, Y = 2 }))!;
        var nested = Assert.Throws<CacheSerializationException>(() => cache.Set("l", new List<FieldPoint> { new() { X = 1 } }))!;

        Assert.That(refused.IsUnsupportedType && nested.IsUnsupportedType, Is.True);
        Assert.That(refused.ToString(), Does.Contain("public field 'X'").And.Contain("[JsonInclude]"));
        Assert.That(cache.Exists("p") || cache.Exists("l"), Is.False);
    }

    [Test]
    public void A_context_made_with_IncludeFields_does_not_make_fields_stored_as_a_context_supplies_metadata_not_options([Values] bool reflection)
    {
        // serializers.md: a context supplies metadata, not its options, so a struct of fields is refused where reflection
        // can see the fields, and written without them where it cannot (CACHED033 says so at build time there).
        var registry = new JsonContextRegistry();
        registry.Add(FieldPointContext.Default);
        using var cache = NewCache(reflection, registry);

        if (reflection)
        {
            var refused = Assert.Throws<CacheSerializationException>(() => cache.Set("p", new FieldPoint { X = 1, Y = 2 }))!;
            Assert.That(refused.IsUnsupportedType, Is.True);
            Assert.That(cache.Exists("p"), Is.False);
        }
        else
        {
            cache.Set("p", new FieldPoint { X = 1, Y = 2 });
            Assert.That(RawText(cache, "p"), Is.EqualTo("{}"));
        }
    }

    [Test]
    public void Fields_marked_include_or_ignore_are_stored_as_marked()
    {
        using var cache = NewCache();

        cache.Set("m", new MarkedFields { Kept = 4, Scratch = 9, Name = "n" });

        Assert.That(RawText(cache, "m"), Is.EqualTo("""{"Name":"n","Kept":4}"""));
        var back = cache.Get<MarkedFields>("m")!;
        Assert.That((back.Kept, back.Scratch, back.Name), Is.EqualTo((4, 0, "n")));
    }

    [Test]
    public void A_big_integer_is_stored_as_its_digits_as_python_writes_an_int_and_read_back()
    {
        using var cache = NewCache();
        var big = -(BigInteger.Pow(10, 40) + 7);

        cache.Set("b", big);
        cache.Raw("set", "python", Encoding.UTF8.GetBytes("123456789012345678901234567890"));
        cache.Raw("set", "fraction", Encoding.UTF8.GetBytes("1.5"));

        Assert.That(RawText(cache, "b"), Is.EqualTo("-10000000000000000000000000000000000000007"));
        Assert.That(cache.Get<BigInteger>("b"), Is.EqualTo(big));
        Assert.That(cache.Get<BigInteger>("python"), Is.EqualTo(BigInteger.Parse("123456789012345678901234567890", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(() => cache.Get<BigInteger>("fraction"), Throws.InstanceOf<CacheSerializationException>());
    }

    [Test]
    public void Without_reflection_a_big_integer_is_still_stored_as_its_digits()
    {
        using var cache = NewCache(reflection: false);

        cache.Set("b", BigInteger.Pow(3, 50));

        Assert.That(cache.Get<BigInteger>("b"), Is.EqualTo(BigInteger.Pow(3, 50)));
        Assert.That(RawText(cache, "b"), Is.EqualTo(BigInteger.Pow(3, 50).ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }
}
