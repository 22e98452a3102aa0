using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Cached.Serializers;
using JsonSerializer = Cached.Serializers.JsonSerializer;

namespace Cached.Tests.Serializers;

/// <summary>A field the user asked to be always written, without [JsonInclude].</summary>
public sealed class NeverIgnoredField
{
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public int Count;

    public string Name { get; set; } = "";
}

/// <summary>A field the user asked to be written unless default, without [JsonInclude].</summary>
public sealed class WhenDefaultIgnoredField
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int Count;

    public string Name { get; set; } = "";
}

/// <summary>Only static and const public fields: nothing of the instance is skipped.</summary>
public sealed class StaticAndConstFields
{
    public const int Limit = 3;
    public static int Shared = 4;

    public int Value { get; set; }
}

/// <summary>A private field behind a property.</summary>
public sealed class PrivateFieldBehindProperty
{
    private int _value;

    public int Value { get => _value; set => _value = value; }
}

/// <summary>A public field declared on the base class.</summary>
public class FieldBase
{
    public int Inherited;
}

public sealed class FieldDerived : FieldBase
{
    public string Name { get; set; } = "";
}

/// <summary>A readonly public field, not marked.</summary>
public sealed class ReadonlyField
{
    public readonly int Fixed = 1;

    public string Name { get; set; } = "";
}

/// <summary>A record struct with a public field in its body.</summary>
public record struct RecordStructWithField(string Name)
{
    public int Extra;
}

/// <summary>A base class hides its public field with a new [JsonInclude] field of the same name.</summary>
public class HiddenFieldBase
{
    public int Value;
}

public sealed class HidingFieldDerived : HiddenFieldBase
{
    [JsonInclude]
    public new string Value = "";

    public int BaseValue { get => ((HiddenFieldBase)this).Value; set => ((HiddenFieldBase)this).Value = value; }
}

[JsonPolymorphic]
[JsonDerivedType(typeof(ShapeWithField), "field")]
public class PolymorphicShape
{
    public string Name { get; set; } = "";
}

public sealed class ShapeWithField : PolymorphicShape
{
    public int Sides;
}

/// <summary>A struct of public fields with its own converter: System.Text.Json writes it through the converter.</summary>
[JsonConverter(typeof(ConvertedPairConverter))]
public struct ConvertedPair
{
    public int Left;
    public int Right;
}

public sealed class ConvertedPairConverter : JsonConverter<ConvertedPair>
{
    public override ConvertedPair Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.GetString()!.Split(':');
        return new ConvertedPair { Left = int.Parse(text[0], System.Globalization.CultureInfo.InvariantCulture), Right = int.Parse(text[1], System.Globalization.CultureInfo.InvariantCulture) };
    }

    public override void Write(Utf8JsonWriter writer, ConvertedPair value, JsonSerializerOptions options)
        => writer.WriteStringValue(FormattableString.Invariant($"{value.Left}:{value.Right}"));
}

public enum Colour
{
    Red,
    Green,
}

/// <summary>A record of framework types that have no public fields System.Text.Json skips.</summary>
public sealed record FrameworkShapes(
    KeyValuePair<string, int> Pair,
    DateTimeOffset At,
    Guid Id,
    Dictionary<string, int> Counts,
    Tuple<int, string> Old,
    Colour Colour);

public sealed record TupleBag((int A, string? B)[] Array, Dictionary<string, (int, int)> Map, (int, (string, int)) Nested);

[JsonSerializable(typeof((int, string)))]
public sealed partial class OutsiderTupleContext : JsonSerializerContext
{
}

/// <summary>
/// An outsider's review of how the default JSON serializer stores value tuples, big integers and types with public
/// fields: what reads back, what is refused, and what would be lost without a word.
/// </summary>
public sealed class OutsiderJsonShapesReviewTests
{
    private static SimpleMemoryCache NewCache(ISerializer? serializer = null) => new() { Serializer = serializer ?? new JsonSerializer() };

    /// <summary>Asserts that <paramref name="value"/> is refused by type and that nothing is stored under <paramref name="key"/>.</summary>
    internal static void AssertRefused<T>(ICache cache, string key, T value)
    {
        var refused = Assert.Throws<CacheSerializationException>(() => cache.Set(key, value))!;
        Assert.That(refused.IsUnsupportedType, Is.True, refused.Message);
        Assert.That(cache.Exists(key), Is.False);
    }

    private static string RawText(ICache cache, string key) => Encoding.UTF8.GetString((byte[])cache.Raw("get", key)!);

    private static void SetRaw(ICache cache, string key, string json) => cache.Raw("set", key, Encoding.UTF8.GetBytes(json));

    // ---- value tuples ----

    [Test]
    public void A_nested_tuple_is_written_as_nested_arrays_and_reads_back()
    {
        using var cache = NewCache();
        (int, (string, int)) value = (1, ("a", 2));

        cache.Set("t", value);

        Assert.That(RawText(cache, "t"), Is.EqualTo("""[1,["a",2]]"""));
        Assert.That(cache.Get<(int, (string, int))>("t"), Is.EqualTo(value));
    }

    [Test]
    public void A_one_item_value_tuple_is_a_one_item_array_and_reads_back()
    {
        using var cache = NewCache();

        cache.Set("t", ValueTuple.Create(5));

        Assert.That(RawText(cache, "t"), Is.EqualTo("[5]"));
        Assert.That(cache.Get<ValueTuple<int>>("t"), Is.EqualTo(ValueTuple.Create(5)));
    }

    [Test]
    public void Tuples_of_seven_eight_fifteen_and_sixteen_items_read_back()
    {
        using var cache = NewCache();
        var seven = (1, 2, 3, 4, 5, 6, 7);
        var eight = (1, 2, 3, 4, 5, 6, 7, 8);
        var fifteen = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var sixteen = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, "16");

        cache.Set("7", seven);
        cache.Set("8", eight);
        cache.Set("15", fifteen);
        cache.Set("16", sixteen);

        Assert.That(RawText(cache, "8"), Is.EqualTo("[1,2,3,4,5,6,7,8]"));
        Assert.That(RawText(cache, "16"), Is.EqualTo("""[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,"16"]"""));
        Assert.That(cache.Get<(int, int, int, int, int, int, int)>("7"), Is.EqualTo(seven));
        Assert.That(cache.Get<(int, int, int, int, int, int, int, int)>("8"), Is.EqualTo(eight));
        Assert.That(cache.Get<(int, int, int, int, int, int, int, int, int, int, int, int, int, int, int)>("15"), Is.EqualTo(fifteen));
        Assert.That(cache.Get<(int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, string)>("16"), Is.EqualTo(sixteen));
    }

    [Test]
    public void Tuples_inside_arrays_dictionaries_records_and_with_null_strings_read_back()
    {
        using var cache = NewCache();
        var bag = new TupleBag([(1, null), (2, "b")], new() { ["k"] = (3, 4) }, (5, ("x", 6)));

        cache.Set("bag", bag);

        var back = cache.Get<TupleBag>("bag")!;
        Assert.That(back.Array, Is.EqualTo(bag.Array));
        Assert.That(back.Map, Is.EqualTo(bag.Map));
        Assert.That(back.Nested, Is.EqualTo(bag.Nested));
    }

    [Test]
    public void A_nullable_tuple_reads_back_as_null_and_as_a_value()
    {
        using var cache = NewCache();

        cache.Set("null", ((int, string)?)null);
        cache.Set("value", ((int, string)?)(1, "one"));

        Assert.That(cache.Get<(int, string)?>("null"), Is.Null);
        Assert.That(cache.Get<(int, string)?>("value"), Is.EqualTo(((int, string)?)(1, "one")));
    }

    [Test]
    public void Named_tuple_elements_are_not_stored_so_other_names_read_the_same_value()
    {
        using var cache = NewCache();

        cache.Set("t", (Id: 1, Name: "n"));

        var (code, label) = cache.Get<(int Code, string Label)>("t");
        Assert.That((code, label), Is.EqualTo((1, "n")));
    }

    [Test]
    public void A_tuple_array_of_wrong_item_types_or_null_fails_as_a_serialization_error()
    {
        using var cache = NewCache();
        SetRaw(cache, "types", """["a","b"]""");
        SetRaw(cache, "null", "null");
        SetRaw(cache, "nested", """[1,[2]]""");

        Assert.Multiple(() =>
        {
            Assert.That(() => cache.Get<(int, string)>("types"), Throws.InstanceOf<CacheSerializationException>());
            Assert.That(() => cache.Get<(int, string)>("null"), Throws.InstanceOf<CacheSerializationException>());
            Assert.That(() => cache.Get<(int, (string, int))>("nested"), Throws.InstanceOf<CacheSerializationException>());
        });
    }

    [Test]
    public void A_tuple_holding_a_struct_of_public_fields_is_refused_rather_than_stored_without_them()
    {
        using var cache = NewCache();

        var refused = Assert.Throws<CacheSerializationException>(() => cache.Set("t", (1, new FieldPoint { X = 1, Y = 2 })))!;

        Assert.That(refused.IsUnsupportedType, Is.True);
        Assert.That(cache.Exists("t"), Is.False);
    }

    [Test]
    public void A_value_tuple_given_to_a_serializer_made_from_a_context_is_not_stored_as_an_empty_object()
    {
        // The context's metadata skips the tuple's items (fields): either store them or refuse, not read back (0, null).
        using var cache = NewCache(new JsonSerializer(OutsiderTupleContext.Default));

        // Refused by type, with nothing stored, rather than stored as what would read back otherwise.
        AssertRefused(cache, "t", (7, "seven"));
    }

    [Test]
    public void A_value_tuple_given_to_a_serializer_with_plain_options_is_not_stored_as_an_empty_object()
    {
        using var cache = NewCache(new JsonSerializer(new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));

        // Refused by type, with nothing stored, rather than stored as what would read back otherwise.
        AssertRefused(cache, "t", (7, "seven"));
    }

    [Test]
    public void A_value_tuple_with_options_that_include_fields_reads_back()
    {
        using var cache = NewCache(new JsonSerializer(new JsonSerializerOptions { IncludeFields = true }));

        cache.Set("t", (7, "seven"));

        Assert.That(cache.Get<(int, string)>("t"), Is.EqualTo((7, "seven")));
    }

    [Test]
    public void A_tuple_python_wrote_with_a_bare_NaN_reads_back()
    {
        using var cache = NewCache();
        SetRaw(cache, "t", "[NaN, 2]");

        var (first, second) = cache.Get<(double, int)>("t");
        Assert.That(double.IsNaN(first) && second == 2, Is.True);
    }

    // ---- BigInteger ----

    [Test]
    public void Big_integers_huge_negative_and_zero_read_back_alone_in_lists_and_as_nullables()
    {
        using var cache = NewCache();
        var values = new List<BigInteger> { BigInteger.Pow(10, 300), -BigInteger.Pow(7, 99), BigInteger.Zero, BigInteger.MinusOne };

        cache.Set("l", values);
        cache.Set("n", (BigInteger?)null);
        cache.Set("v", (BigInteger?)BigInteger.Pow(2, 70));
        cache.Set("t", (BigInteger.One, "x"));

        Assert.That(cache.Get<List<BigInteger>>("l"), Is.EqualTo(values));
        Assert.That(cache.Get<BigInteger?>("n"), Is.Null);
        Assert.That(cache.Get<BigInteger?>("v"), Is.EqualTo(BigInteger.Pow(2, 70)));
        Assert.That(RawText(cache, "t"), Is.EqualTo("""[1,"x"]"""));
        Assert.That(cache.Get<(BigInteger, string)>("t"), Is.EqualTo((BigInteger.One, "x")));
    }

    [Test]
    public void A_big_integer_written_as_a_string_of_digits_by_another_writer_reads_back()
    {
        using var cache = NewCache();
        SetRaw(cache, "s", "\"-123456789012345678901234567890\"");

        Assert.That(cache.Get<BigInteger>("s"), Is.EqualTo(BigInteger.Parse("-123456789012345678901234567890", System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public void A_big_integer_held_as_object_is_written_as_its_digits()
    {
        using var cache = NewCache();

        cache.Set("o", new Dictionary<string, object> { ["n"] = BigInteger.Pow(10, 25) });

        Assert.That(RawText(cache, "o"), Is.EqualTo("""{"n":10000000000000000000000000}"""));
    }

    [Test]
    public void A_dictionary_keyed_by_big_integer_reads_back_as_python_writes_int_keys()
    {
        // Python's json.dumps({10**30: "x"}) writes {"1000000000000000000000000000000": "x"}; long keys work the same way.
        using var cache = NewCache();
        var value = new Dictionary<BigInteger, string> { [BigInteger.Pow(10, 30)] = "x", [-5] = "y" };

        cache.Set("d", value);

        Assert.That(RawText(cache, "d"), Is.EqualTo("""{"1000000000000000000000000000000":"x","-5":"y"}"""));
        Assert.That(cache.Get<Dictionary<BigInteger, string>>("d"), Is.EqualTo(value));
    }

    // ---- public fields ----

    [Test]
    public void A_field_marked_JsonIgnore_Never_without_JsonInclude_is_not_silently_dropped()
    {
        // [JsonIgnore(Condition = Never)] asks for the field always to be written, yet System.Text.Json still skips a
        // field without [JsonInclude]: it must be stored, or the type refused as for an unmarked field.
        using var cache = NewCache();

        // Refused by type, with nothing stored, rather than stored as what would read back otherwise.
        AssertRefused(cache, "f", new NeverIgnoredField { Count = 5, Name = "n" });
    }

    [Test]
    public void A_field_marked_JsonIgnore_WhenWritingDefault_without_JsonInclude_is_not_silently_dropped()
    {
        using var cache = NewCache();

        // Refused by type, with nothing stored, rather than stored as what would read back otherwise.
        AssertRefused(cache, "f", new WhenDefaultIgnoredField { Count = 5, Name = "n" });
    }

    [Test]
    public void Static_const_and_private_fields_are_not_reasons_to_refuse()
    {
        using var cache = NewCache();

        cache.Set("s", new StaticAndConstFields { Value = 2 });
        cache.Set("p", new PrivateFieldBehindProperty { Value = 3 });

        Assert.That(cache.Get<StaticAndConstFields>("s")!.Value, Is.EqualTo(2));
        Assert.That(cache.Get<PrivateFieldBehindProperty>("p")!.Value, Is.EqualTo(3));
    }

    [Test]
    public void Public_fields_on_a_base_class_readonly_fields_and_fields_in_a_record_struct_are_refused()
    {
        using var cache = NewCache();

        Assert.Multiple(() =>
        {
            Assert.That(() => cache.Set("b", new FieldDerived { Inherited = 1 }), Throws.InstanceOf<CacheSerializationException>().With.Property(nameof(CacheSerializationException.IsUnsupportedType)).True);
            Assert.That(() => cache.Set("r", new ReadonlyField()), Throws.InstanceOf<CacheSerializationException>().With.Property(nameof(CacheSerializationException.IsUnsupportedType)).True);
            Assert.That(() => cache.Set("s", new RecordStructWithField("n") { Extra = 1 }), Throws.InstanceOf<CacheSerializationException>().With.Property(nameof(CacheSerializationException.IsUnsupportedType)).True);
        });
    }

    [Test]
    public void A_derived_type_with_a_public_field_reached_by_polymorphism_is_refused()
    {
        using var cache = NewCache();

        Assert.That(() => cache.Set<PolymorphicShape>("p", new ShapeWithField { Name = "tri", Sides = 3 }),
            Throws.InstanceOf<CacheSerializationException>().With.Property(nameof(CacheSerializationException.IsUnsupportedType)).True);
    }

    [Test]
    public void A_base_field_hidden_by_an_included_field_of_the_same_name_is_not_silently_dropped()
    {
        // The base's public field Value is skipped by System.Text.Json; the derived [JsonInclude] field of the same name
        // is a different field. The base value must survive (via its BaseValue property) or the type be refused.
        using var cache = NewCache();
        var value = new HidingFieldDerived { Value = "s", BaseValue = 9 };

        // The base field is written through its property and the derived one through [JsonInclude]: both survive.
        cache.Set("h", value);

        var back = cache.Get<HidingFieldDerived>("h")!;
        Assert.That((back.Value, back.BaseValue), Is.EqualTo(("s", 9)), RawText(cache, "h"));
    }

    [Test]
    public void Framework_types_without_skipped_fields_are_stored_and_read_back()
    {
        using var cache = NewCache();
        var value = new FrameworkShapes(
            new KeyValuePair<string, int>("k", 1),
            new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.FromHours(2)),
            Guid.NewGuid(),
            new Dictionary<string, int> { ["a"] = 1 },
            Tuple.Create(3, "three"),
            Colour.Green);

        cache.Set("f", value);

        var back = cache.Get<FrameworkShapes>("f")!;
        Assert.That((back.Pair, back.At, back.Id, back.Old, back.Colour), Is.EqualTo((value.Pair, value.At, value.Id, value.Old, value.Colour)));
        Assert.That(back.Counts, Is.EqualTo(value.Counts));
    }

    [Test]
    public void A_struct_of_fields_with_its_own_converter_is_stored_through_it_and_not_refused()
    {
        using var cache = NewCache();

        cache.Set("c", new ConvertedPair { Left = 1, Right = 2 });

        Assert.That(RawText(cache, "c"), Is.EqualTo("\"1:2\""));
        Assert.That(cache.Get<ConvertedPair>("c"), Is.EqualTo(new ConvertedPair { Left = 1, Right = 2 }));
    }

    [Test]
    public void A_vector_of_public_fields_is_refused_by_type()
    {
        using var cache = NewCache();

        Assert.That(() => cache.Set("v", new Vector2(1, 2)),
            Throws.InstanceOf<CacheSerializationException>().With.Property(nameof(CacheSerializationException.IsUnsupportedType)).True);
    }

    [Test]
    public void A_struct_of_fields_with_options_that_include_fields_reads_back()
    {
        using var cache = NewCache(new JsonSerializer(new JsonSerializerOptions { IncludeFields = true }));

        cache.Set("p", new FieldPoint { X = 1, Y = 2 });

        Assert.That(cache.Get<FieldPoint>("p"), Is.EqualTo(new FieldPoint { X = 1, Y = 2 }));
    }
}

/// <summary>A type whose only tuple and struct of fields are members System.Text.Json never writes.</summary>
public sealed class IgnoredShapesHolder
{
    public string Name { get; set; } = "";

    [JsonIgnore]
    public (int, int) Scratch { get; set; }

    [JsonIgnore]
    public FieldPoint Cursor { get; set; }
}

[JsonSerializable(typeof(IgnoredShapesHolder))]
public sealed partial class OutsiderIgnoredShapesContext : JsonSerializerContext
{
}

/// <summary>Without reflection (as in a trimmed or NativeAOT application), what the analyzer's CACHED032 judges.</summary>
public sealed class OutsiderJsonShapesReviewWithoutReflectionTests
{
    [Test]
    public void A_type_whose_tuple_member_is_JsonIgnore_is_stored_and_read_back_without_reflection()
    {
        var registry = new JsonContextRegistry();
        registry.Add(OutsiderIgnoredShapesContext.Default);
        using var cache = new SimpleMemoryCache { Serializer = new JsonSerializer(registry, reflectionAllowed: false) };

        cache.Set("h", new IgnoredShapesHolder { Name = "n", Scratch = (1, 2) });

        Assert.That(Encoding.UTF8.GetString((byte[])cache.Raw("get", "h")!), Is.EqualTo("""{"Name":"n"}"""));
        Assert.That(cache.Get<IgnoredShapesHolder>("h")!.Name, Is.EqualTo("n"));
    }

    [Test]
    public void A_vector3_listed_in_a_context_is_stored_as_an_empty_object_without_reflection()
    {
        // Evidence for CACHED033's framework exemption: this is the silent loss the analyzer exists to report.
        var registry = new JsonContextRegistry();
        registry.Add(OutsiderVectorContext.Default);
        using var cache = new SimpleMemoryCache { Serializer = new JsonSerializer(registry, reflectionAllowed: false) };

        cache.Set("v", new Vector3(1, 2, 3));

        Assert.That(Encoding.UTF8.GetString((byte[])cache.Raw("get", "v")!), Is.EqualTo("{}"));
        Assert.That(cache.Get<Vector3>("v"), Is.EqualTo(Vector3.Zero));
    }
}

[JsonSerializable(typeof(Vector3))]
public sealed partial class OutsiderVectorContext : JsonSerializerContext
{
}

public sealed class IncludedFieldRecord
{
    [JsonInclude]
    public int Kept;

    public string Name { get; set; } = "";
}

[JsonSerializable(typeof(IncludedFieldRecord))]
public sealed partial class OutsiderIncludedFieldContext : JsonSerializerContext
{
}

public sealed record StackHolder(string Name, Stack<int> Pending);

/// <summary>Registered contexts, and shapes reached inside other values, with reflection allowed.</summary>
public sealed class OutsiderJsonShapesReviewRegisteredContextTests
{
    [Test]
    public void A_JsonInclude_field_of_a_type_a_registered_context_lists_is_stored_not_refused()
    {
        var registry = new JsonContextRegistry();
        registry.Add(OutsiderIncludedFieldContext.Default);
        using var cache = new SimpleMemoryCache { Serializer = new JsonSerializer(registry, reflectionAllowed: true) };

        cache.Set("f", new IncludedFieldRecord { Kept = 4, Name = "n" });

        Assert.That(cache.Get<IncludedFieldRecord>("f")!.Kept, Is.EqualTo(4));
    }

    [Test]
    public void A_JsonInclude_field_is_stored_by_a_serializer_made_from_the_context_and_by_one_with_plain_options()
    {
        // The refusal of skipped fields that those serializers now make must not refuse a field the metadata writes.
        using var fromContext = new SimpleMemoryCache { Serializer = new JsonSerializer(OutsiderIncludedFieldContext.Default) };
        using var fromOptions = new SimpleMemoryCache { Serializer = new JsonSerializer(new JsonSerializerOptions()) };

        fromContext.Set("f", new IncludedFieldRecord { Kept = 4, Name = "n" });
        fromOptions.Set("f", new IncludedFieldRecord { Kept = 5, Name = "n" });

        Assert.That((fromContext.Get<IncludedFieldRecord>("f")!.Kept, fromOptions.Get<IncludedFieldRecord>("f")!.Kept), Is.EqualTo((4, 5)));
    }

    [Test]
    public void A_stack_inside_a_record_does_not_read_back_reversed_without_an_error()
    {
        // A Stack<T> stored alone is refused ("System.Text.Json reads a stack back reversed"); inside another value it
        // should be refused too, or read back in its order.
        using var cache = new SimpleMemoryCache { Serializer = new JsonSerializer() };
        var stack = new Stack<int>([1, 2, 3]);

        // Refused by type, with nothing stored, rather than stored as what would read back otherwise.
        OutsiderJsonShapesReviewTests.AssertRefused(cache, "s", new StackHolder("n", stack));
    }
}
