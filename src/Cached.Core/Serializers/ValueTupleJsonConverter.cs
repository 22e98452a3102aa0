using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Cached.Serializers;

/// <summary>
/// Writes a value tuple as a JSON array of its items, <c>[7,"seven"]</c>, as Python's <c>json.dumps</c> writes a tuple,
/// and reads one back from an array. System.Text.Json's own metadata for a value tuple has no members (its items are
/// fields, which it skips by default), so without this a tuple was stored as <c>{}</c> and read back as its defaults.
/// The items' names are the compiler's, not part of the value, so an array loses nothing. A tuple of eight items or
/// more is written flat, as <see cref="ITuple"/> counts it.
/// </summary>
/// <typeparam name="TTuple">A <see cref="ValueTuple"/> type of one to eight (nested) type arguments.</typeparam>
[RequiresDynamicCode("Reads a tuple's items with their runtime types; only made where reflection-based serialization is enabled.")]
[RequiresUnreferencedCode("Reads a tuple's items with their runtime types; only made where reflection-based serialization is enabled.")]
internal sealed class ValueTupleJsonConverter<TTuple> : JsonConverter<TTuple>
    where TTuple : struct, ITuple
{
    // The item types in the flat order ITuple gives, and how to build a tuple of them.
    private static readonly Type[] s_itemTypes = ValueTupleShapes.FlatItemTypes(typeof(TTuple));

    public override TTuple Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException($"A {TypeNames.Of(typeof(TTuple))} is read from a JSON array of its {s_itemTypes.Length} items, not from a {reader.TokenType}.");
        }

        var items = new object?[s_itemTypes.Length];
        for (var i = 0; i < items.Length; i++)
        {
            if (!reader.Read() || reader.TokenType == JsonTokenType.EndArray)
            {
                throw new JsonException($"The JSON array has {i} items where a {TypeNames.Of(typeof(TTuple))} has {items.Length}.");
            }

            items[i] = System.Text.Json.JsonSerializer.Deserialize(ref reader, options.GetTypeInfo(s_itemTypes[i]));
        }

        if (!reader.Read() || reader.TokenType != JsonTokenType.EndArray)
        {
            throw new JsonException($"The JSON array has more items than a {TypeNames.Of(typeof(TTuple))}'s {items.Length}.");
        }

        var next = 0;
        return (TTuple)ValueTupleShapes.Create(typeof(TTuple), items, ref next);
    }

    public override void Write(Utf8JsonWriter writer, TTuple value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        for (var i = 0; i < s_itemTypes.Length; i++)
        {
            System.Text.Json.JsonSerializer.Serialize(writer, value[i], options.GetTypeInfo(s_itemTypes[i]));
        }

        writer.WriteEndArray();
    }
}

/// <summary>Which types are value tuples; needs no reflection beyond the type's own identity.</summary>
internal static class ValueTuples
{
    /// <summary>True for a <see cref="ValueTuple"/> type of one item or more (not the empty <see cref="ValueTuple"/>).</summary>
    public static bool Is(Type type)
    {
        if (!type.IsGenericType || !type.IsValueType)
        {
            return false;
        }

        var definition = type.GetGenericTypeDefinition();
        return definition == typeof(ValueTuple<>) || definition == typeof(ValueTuple<,>) || definition == typeof(ValueTuple<,,>)
            || definition == typeof(ValueTuple<,,,>) || definition == typeof(ValueTuple<,,,,>) || definition == typeof(ValueTuple<,,,,,>)
            || definition == typeof(ValueTuple<,,,,,,>) || definition == typeof(ValueTuple<,,,,,,,>);
    }
}

/// <summary>What <see cref="ValueTupleJsonConverter{TTuple}"/> needs to know of a value tuple type.</summary>
[RequiresDynamicCode("Builds the metadata of a value tuple type at run time.")]
[RequiresUnreferencedCode("Builds the metadata of a value tuple type at run time.")]
internal static class ValueTupleShapes
{
    /// <summary>The metadata of <paramref name="type"/>, written and read as an array.</summary>
    public static JsonTypeInfo TypeInfoFor(Type type, JsonSerializerOptions options)
    {
        var converter = (JsonConverter)Activator.CreateInstance(typeof(ValueTupleJsonConverter<>).MakeGenericType(type))!;
        var create = typeof(JsonMetadataServices).GetMethod(nameof(JsonMetadataServices.CreateValueInfo))!.MakeGenericMethod(type);
        return (JsonTypeInfo)create.Invoke(null, [options, converter])!;
    }

    /// <summary>The item types of a value tuple type, those of its <c>Rest</c> spliced in (the order of <see cref="ITuple"/>).</summary>
    public static Type[] FlatItemTypes(Type type)
    {
        var arguments = type.GetGenericArguments();
        return arguments.Length == 8 ? [.. arguments[..7], .. FlatItemTypes(arguments[7])] : arguments;
    }

    /// <summary>A tuple of <paramref name="type"/> from the flat items, starting at <paramref name="next"/>.</summary>
    public static object Create(Type type, object?[] items, ref int next)
    {
        var arguments = type.GetGenericArguments();
        var values = new object?[arguments.Length];
        for (var i = 0; i < arguments.Length; i++)
        {
            values[i] = i == 7 ? Create(arguments[7], items, ref next) : items[next++];
        }

        return Activator.CreateInstance(type, values)!;
    }
}
