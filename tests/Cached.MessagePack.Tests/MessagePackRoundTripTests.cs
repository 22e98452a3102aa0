using System.Buffers;
using Cached.Serializers;

namespace Cached.Tests.Serializers;

/// <summary>How a round-trip runs: through the serializer alone, or stored as bytes by a real cache and read back.</summary>
public enum RoundTripPath
{
    Serializer,
    Cache,
}

[TestFixture(RoundTripPath.Serializer)]
[TestFixture(RoundTripPath.Cache)]
public sealed class MessagePackRoundTripTests(RoundTripPath path)
{
    private static readonly MessagePackSerializer s_serializer = new();

    private static IEnumerable<TestCaseData> Primitives()
    {
        yield return new TestCaseData(42).SetArgDisplayNames("int");
        yield return new TestCaseData(-42L * int.MaxValue).SetArgDisplayNames("long");
        yield return new TestCaseData(3.14159265358979d).SetArgDisplayNames("double");
        yield return new TestCaseData(1.5f).SetArgDisplayNames("float");
        yield return new TestCaseData(79228162514264337593543950335m).SetArgDisplayNames("decimal");
        yield return new TestCaseData(true).SetArgDisplayNames("bool");
        yield return new TestCaseData('é').SetArgDisplayNames("char");
        yield return new TestCaseData((byte)255).SetArgDisplayNames("byte");
        yield return new TestCaseData(Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e")).SetArgDisplayNames("Guid");
        yield return new TestCaseData(TimeSpan.FromTicks(123_456_789_012)).SetArgDisplayNames("TimeSpan");
        yield return new TestCaseData(Status.Shipped).SetArgDisplayNames("enum");
        yield return new TestCaseData("héllo, 世界 👋").SetArgDisplayNames("string");
        yield return new TestCaseData("").SetArgDisplayNames("empty string");
        yield return new TestCaseData(new string('x', 100_000)).SetArgDisplayNames("long string");
    }

    private T? RoundTrip<T>(T value)
    {
        if (path == RoundTripPath.Serializer)
        {
            var buffer = new ArrayBufferWriter<byte>();
            s_serializer.Serialize(buffer, value);
            Assert.That(buffer.WrittenCount, Is.GreaterThan(0), "the serializer writes a payload");
            return s_serializer.Deserialize<T>(new ReadOnlySequence<byte>(buffer.WrittenMemory));
        }

        using var cache = new SimpleMemoryCache { Serializer = new MessagePackSerializer() };
        Assert.That(cache.Set("k", value), Is.True);
        Assert.That(cache.Raw("get", "k"), Is.InstanceOf<byte[]>(), "the cache stores bytes, not the reference");
        Assert.That(cache.TryGet<T>("k", out var read), Is.True, "the stored value is a hit");
        return read;
    }

    [TestCaseSource(nameof(Primitives))]
    public void Primitives_and_strings_keep_their_value<T>(T value)
    {
        var read = RoundTrip(value);

        Assert.That(read, Is.EqualTo(value));
        Assert.That(read, Is.TypeOf(typeof(T)));
    }

    [Test]
    public void A_byte_array_keeps_its_bytes()
    {
        var value = new byte[] { 0, 1, 0xC1, 0xFF };

        Assert.That(RoundTrip(value), Is.EqualTo(value));
    }

    [Test]
    public void A_positional_record_is_rebuilt_through_its_constructor()
    {
        var value = new Person("Ada", 36, ["math", "engines"]);

        var read = RoundTrip(value);

        Assert.That(read, Is.Not.SameAs(value));
        Assert.That(read!.Name, Is.EqualTo("Ada"));
        Assert.That(read.Age, Is.EqualTo(36));
        Assert.That(read.Tags, Is.EqualTo(new[] { "math", "engines" }));
    }

    [Test]
    public void A_record_with_init_properties_keeps_every_property()
    {
        var value = new Settings { Theme = "dark", FontSize = 14, Compact = true };

        Assert.That(RoundTrip(value), Is.EqualTo(value));
    }

    [Test]
    public void A_record_keeps_the_properties_left_at_their_default()
    {
        var value = new Settings { FontSize = 9 };

        Assert.That(RoundTrip(value), Is.EqualTo(new Settings { Theme = "light", FontSize = 9, Compact = null }));
    }

    [Test]
    public void A_plain_class_without_attributes_keeps_nested_objects_fields_and_collections()
    {
        var value = new Customer
        {
            Name = "Grace",
            Home = new Address { Street = "1 Navy Way", City = "Arlington" },
            Orders = [new Order { Id = 1, Total = 9.99m, Status = Status.Shipped }, new Order { Id = 2, Total = 120m, Status = Status.Cancelled }],
            Addresses = { ["work"] = new Address { Street = "2 Harvard Yard", City = "Cambridge" } },
            Note = null,
        };

        var read = RoundTrip(value);

        Assert.That(read, Is.Not.Null);
        Assert.That(read!.Name, Is.EqualTo("Grace"));
        Assert.That(read.Home, Is.Not.Null);
        Assert.That(read.Home!.Street, Is.EqualTo("1 Navy Way"));
        Assert.That(read.Home.City, Is.EqualTo("Arlington"));
        Assert.That(read.Orders.Select(static o => (o.Id, o.Total, o.Status)), Is.EqualTo(new[] { (1, 9.99m, Status.Shipped), (2, 120m, Status.Cancelled) }));
        Assert.That(read.Addresses.Keys, Is.EqualTo(new[] { "work" }));
        Assert.That(read.Addresses["work"].City, Is.EqualTo("Cambridge"));
        Assert.That(read.Note, Is.Null);
    }

    [Test]
    public void A_type_declared_inside_another_type_round_trips()
    {
        var value = new Catalog.Item("A-1", new Catalog.Price(12.5m, "EUR"));

        Assert.That(RoundTrip(value), Is.EqualTo(value));
    }

    [Test]
    public void A_list_of_records_keeps_its_order_and_items()
    {
        var value = new List<Settings> { new() { Theme = "a" }, new() { Theme = "b", FontSize = 2 } };

        var read = RoundTrip(value);

        Assert.That(read, Is.TypeOf<List<Settings>>());
        Assert.That(read, Is.EqualTo(value));
    }

    [Test]
    public void A_dictionary_of_string_to_int_keeps_every_pair()
    {
        var value = new Dictionary<string, int> { ["one"] = 1, ["two"] = 2, ["minus"] = -3 };

        var read = RoundTrip(value);

        Assert.That(read, Is.EquivalentTo(value));
        Assert.That(read!["minus"], Is.EqualTo(-3));
    }

    [Test]
    public void Arrays_keep_their_items()
    {
        Assert.That(RoundTrip(new[] { 3, 1, 2 }), Is.EqualTo(new[] { 3, 1, 2 }));
        Assert.That(RoundTrip(new[] { "a", null, "c" }), Is.EqualTo(new[] { "a", null, "c" }));
        Assert.That(RoundTrip(Array.Empty<long>()), Is.Empty.And.TypeOf<long[]>());
    }

    [Test]
    public void A_nested_collection_keeps_its_shape()
    {
        var value = new Dictionary<string, List<int[]>> { ["m"] = [[1, 2], [3]], ["empty"] = [] };

        var read = RoundTrip(value);

        Assert.That(read!.Keys, Is.EquivalentTo(new[] { "m", "empty" }));
        Assert.That(read["m"], Is.EqualTo(new[] { new[] { 1, 2 }, new[] { 3 } }));
        Assert.That(read["empty"], Is.Empty);
    }

    [Test]
    public void A_utc_DateTime_keeps_its_ticks_and_kind()
    {
        var value = new DateTime(2024, 2, 29, 13, 45, 12, DateTimeKind.Utc).AddTicks(1_234_567);

        var read = RoundTrip(value);

        Assert.That(read.Ticks, Is.EqualTo(value.Ticks));
        Assert.That(read.Kind, Is.EqualTo(DateTimeKind.Utc));
    }

    [Test]
    public void A_local_DateTime_reads_back_as_the_same_instant_in_utc()
    {
        var value = new DateTime(2024, 7, 1, 8, 30, 0, DateTimeKind.Local).AddTicks(7);

        var read = RoundTrip(value);

        // MessagePack timestamps hold an instant, not a kind: the documented behaviour is UTC on the way back.
        Assert.That(read.Kind, Is.EqualTo(DateTimeKind.Utc));
        Assert.That(read.Ticks, Is.EqualTo(value.ToUniversalTime().Ticks));
    }

    [Test]
    public void An_unspecified_DateTime_is_taken_as_utc()
    {
        var value = new DateTime(2024, 7, 1, 8, 30, 0, DateTimeKind.Unspecified);

        var read = RoundTrip(value);

        Assert.That(read.Kind, Is.EqualTo(DateTimeKind.Utc));
        Assert.That(read.Ticks, Is.EqualTo(value.Ticks));
    }

    [Test]
    public void A_DateTimeOffset_keeps_its_instant_and_its_offset()
    {
        var value = new DateTimeOffset(2024, 2, 29, 13, 45, 12, TimeSpan.FromMinutes(330)).AddTicks(42);

        var read = RoundTrip(value);

        Assert.That(read.UtcTicks, Is.EqualTo(value.UtcTicks));
        Assert.That(read.Offset, Is.EqualTo(TimeSpan.FromMinutes(330)));
    }

    [Test]
    public void A_DateTime_inside_an_object_keeps_its_value()
    {
        var value = new Dictionary<string, DateTime> { ["at"] = new DateTime(1999, 12, 31, 23, 59, 59, DateTimeKind.Utc) };

        var read = RoundTrip(value);

        Assert.That(read!["at"], Is.EqualTo(value["at"]));
        Assert.That(read["at"].Kind, Is.EqualTo(DateTimeKind.Utc));
    }

    [Test]
    public void A_null_reference_reads_back_as_null()
    {
        Assert.That(RoundTrip<Person?>(null), Is.Null);
        Assert.That(RoundTrip<string?>(null), Is.Null);
        Assert.That(RoundTrip<List<int>?>(null), Is.Null);
    }

    [Test]
    public void A_nullable_value_type_keeps_null_and_values()
    {
        Assert.That(RoundTrip<int?>(null), Is.Null);
        Assert.That(RoundTrip<int?>(7), Is.EqualTo(7));
    }
}
