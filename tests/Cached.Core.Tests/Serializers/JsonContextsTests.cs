using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Cached.Serializers;
using JsonSerializer = Cached.Serializers.JsonSerializer;

namespace Cached.Tests.Serializers;

public sealed record Shipment(string TrackingCode, int Parcels);

public sealed record Unregistered(string Value);

public sealed record LateShipment(string TrackingCode);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(Shipment))]
public sealed partial class CamelShipmentContext : JsonSerializerContext
{
}

[JsonSerializable(typeof(Shipment))]
public sealed partial class PascalShipmentContext : JsonSerializerContext
{
}

[JsonSerializable(typeof(LateShipment))]
public sealed partial class LateShipmentContext : JsonSerializerContext
{
}

/// <summary>
/// The default <see cref="JsonSerializer"/> without reflection, as in a trimmed or NativeAOT application: metadata from
/// registered source-generated contexts (<see cref="JsonContexts"/>), Cached's own for primitives, and a refusal by type
/// that names the fix for anything else. Each test has a registry of its own, but the one about later registrations.
/// </summary>
public sealed class JsonContextsTests
{
    private static SimpleMemoryCache CacheOver(JsonContextRegistry registry)
        => new() { Serializer = new JsonSerializer(registry, reflectionAllowed: false) };

    private static string RawText(ICache cache, string key) => Encoding.UTF8.GetString((byte[])cache.Raw("get", key)!);

    [Test]
    public void A_registered_context_supplies_metadata_but_not_its_options()
    {
        var registry = new JsonContextRegistry();
        registry.Add(CamelShipmentContext.Default);
        using var cache = CacheOver(registry);

        cache.Set("s", new Shipment("AB12", 2));

        Assert.That(RawText(cache, "s"), Is.EqualTo("""{"TrackingCode":"AB12","Parcels":2}"""), "written as reflection writes it, not camelCase");
        Assert.That(cache.Get<Shipment>("s"), Is.EqualTo(new Shipment("AB12", 2)));
    }

    [Test]
    public void A_value_stored_before_a_context_was_registered_reads_back_unchanged_after()
    {
        // Regression: a camelCase context registered by an upgrade made old entries read back as empty objects.
        using var before = new SimpleMemoryCache { Serializer = new JsonSerializer(new JsonContextRegistry(), reflectionAllowed: true) };
        before.Set("s", new Shipment("AB12", 2));
        var payload = (byte[])before.Raw("get", "s")!;

        var registry = new JsonContextRegistry();
        registry.Add(CamelShipmentContext.Default);
        using var after = CacheOver(registry);
        after.Raw("set", "s", payload);

        Assert.That(after.Get<Shipment>("s"), Is.EqualTo(new Shipment("AB12", 2)));
    }

    [Test]
    public void An_object_value_is_written_by_its_runtime_type_even_when_a_context_is_registered()
    {
        // Regression: the object metadata every context carries made object values fail once any context was registered.
        var registry = new JsonContextRegistry();
        registry.Add(PascalShipmentContext.Default);
        using var cache = new SimpleMemoryCache { Serializer = new JsonSerializer(registry, reflectionAllowed: true) };

        cache.Set<object>("o", new Unregistered("x"));

        Assert.That(RawText(cache, "o"), Is.EqualTo("""{"Value":"x"}"""));
    }

    [Test]
    public void Two_contexts_that_list_a_type_write_the_same_json_in_either_order()
    {
        var camelFirst = new JsonContextRegistry();
        camelFirst.Add(CamelShipmentContext.Default);
        camelFirst.Add(PascalShipmentContext.Default);
        var pascalFirst = new JsonContextRegistry();
        pascalFirst.Add(PascalShipmentContext.Default);
        pascalFirst.Add(CamelShipmentContext.Default);
        using var one = CacheOver(camelFirst);
        using var other = CacheOver(pascalFirst);

        one.Set("s", new Shipment("AB12", 2));
        other.Set("s", new Shipment("AB12", 2));

        Assert.That(RawText(one, "s"), Is.EqualTo(RawText(other, "s")));
    }

    [Test]
    public void Without_reflection_a_type_no_context_lists_is_refused_by_type_with_the_fix()
    {
        var registry = new JsonContextRegistry();
        registry.Add(CamelShipmentContext.Default);
        using var cache = CacheOver(registry);

        var write = Assert.Throws<CacheSerializationException>(() => cache.Set("u", new Unregistered("x")));
        cache.Raw("set", "u", "{\"Value\":\"x\"}"u8.ToArray());
        var read = Assert.Throws<CacheSerializationException>(() => cache.Get<Unregistered>("u"));

        foreach (var refusal in new[] { write!, read! })
        {
            Assert.That(refusal.IsUnsupportedType, Is.True, "a refusal of the type: generated methods log it once and run uncached");
            Assert.That(refusal.ValueType, Is.EqualTo(typeof(Unregistered)));
            Assert.That(refusal.InnerException!.Message, Does.Contain("[JsonSerializable(typeof(Unregistered))]").And.Contain("JsonSerializerContext").And.Contain("reflection"));
        }
    }

    [Test]
    public void The_refusal_names_generic_and_nullable_types_as_CSharp_writes_them()
    {
        using var cache = CacheOver(new JsonContextRegistry());

        var list = Assert.Throws<CacheSerializationException>(() => cache.Set("l", new List<Unregistered>()));
        var map = Assert.Throws<CacheSerializationException>(() => cache.Set("m", new Dictionary<string, Shipment[]>()));
        var nullable = Assert.Throws<CacheSerializationException>(() => cache.Set<KeyValuePair<int, int>?>("n", null));

        Assert.That(list!.InnerException!.Message, Does.Contain("typeof(List<Unregistered>)"));
        Assert.That(map!.InnerException!.Message, Does.Contain("typeof(Dictionary<string, Shipment[]>)"));
        Assert.That(nullable!.InnerException!.Message, Does.Contain("typeof(KeyValuePair<int, int>?)"));
    }

    [Test]
    public void Without_reflection_primitives_need_no_context()
    {
        using var cache = CacheOver(new JsonContextRegistry());
        var at = new DateTime(2024, 3, 1, 10, 0, 0, DateTimeKind.Utc);
        var id = Guid.NewGuid();

        cache.Set("int", 42);
        cache.Set("text", "héllo");
        cache.Set<DateTime?>("at", at);
        cache.Set<DateTime?>("never", null);
        cache.Set("id", id);
        cache.Set("money", 1.50m);
        cache.Set("bytes", new byte[] { 1, 2, 3 });
        cache.Set("element", JsonDocument.Parse("""{"a":[1,2]}""").RootElement);

        Assert.That(cache.Get<int>("int"), Is.EqualTo(42));
        Assert.That(cache.Get<string>("text"), Is.EqualTo("héllo"));
        Assert.That(cache.Get<DateTime?>("at"), Is.EqualTo(at));
        Assert.That(cache.TryGet<DateTime?>("never", out var never) && never is null, Is.True);
        Assert.That(cache.Get<Guid>("id"), Is.EqualTo(id));
        Assert.That(cache.Get<decimal>("money"), Is.EqualTo(1.50m));
        Assert.That(cache.Get<byte[]>("bytes"), Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(cache.Get<JsonElement>("element").GetProperty("a").GetArrayLength(), Is.EqualTo(2));
    }

    [Test]
    public void Object_is_not_one_of_the_primitives()
    {
        using var cache = CacheOver(new JsonContextRegistry());

        var refusal = Assert.Throws<CacheSerializationException>(() => cache.Set<object>("o", new Shipment("AB12", 2)));

        Assert.That(refusal!.IsUnsupportedType, Is.True);
        Assert.That(refusal.InnerException!.Message, Does.Contain("typeof(object)"));
    }

    [Test]
    public void A_contexts_number_handling_does_not_change_how_numbers_are_written()
    {
        var registry = new JsonContextRegistry();
        registry.Add(WebPrimitivesContext.Default);
        using var cache = CacheOver(registry);

        cache.Set("n", 42);

        Assert.That(RawText(cache, "n"), Is.EqualTo("42"), "the context's options (numbers as strings) are not the cache's");
        Assert.That(cache.Get<int>("n"), Is.EqualTo(42));
    }

    [Test]
    public void A_context_registered_after_a_refusal_is_found_on_the_next_call()
    {
        // The process's registry, which remembers what each type resolved to: a later registration must still count.
        using var cache = CacheOver(JsonContexts.Shared);
        Assert.Throws<CacheSerializationException>(() => cache.Set("late", new LateShipment("X1")));

        JsonContexts.Add(LateShipmentContext.Default);
        JsonContexts.Add(LateShipmentContext.Default);
        cache.Set("late", new LateShipment("X1"));

        Assert.That(cache.Get<LateShipment>("late"), Is.EqualTo(new LateShipment("X1")));
    }

    [Test]
    public void With_reflection_allowed_a_type_no_context_lists_is_serialized_by_reflection()
    {
        using var cache = new SimpleMemoryCache { Serializer = new JsonSerializer() };

        cache.Set("u", new Unregistered("x"));

        Assert.That(System.Text.Json.JsonSerializer.IsReflectionEnabledByDefault, Is.True, "the tests run with reflection, as a JIT application does");
        Assert.That(cache.Get<Unregistered>("u"), Is.EqualTo(new Unregistered("x")));
    }

    [Test]
    public void A_null_context_is_refused()
    {
        Assert.Throws<ArgumentNullException>(() => JsonContexts.Add(null!));
    }
}

[JsonSourceGenerationOptions(NumberHandling = JsonNumberHandling.WriteAsString | JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(int))]
public sealed partial class WebPrimitivesContext : JsonSerializerContext
{
}
