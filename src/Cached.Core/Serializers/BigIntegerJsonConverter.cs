using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Cached.Serializers;

/// <summary>
/// Writes a <see cref="BigInteger"/> as a JSON number of its digits, as Python's <c>json.dumps</c> writes an int of any
/// size, and reads one from a number (or from a string of digits). System.Text.Json has no metadata of its own for it:
/// it wrote the value's properties (<c>{"IsZero":false,...}</c>) and read back 0.
/// </summary>
internal sealed class BigIntegerJsonConverter : JsonConverter<BigInteger>
{
    public static BigIntegerJsonConverter Instance { get; } = new();

    public override BigInteger Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType is not (JsonTokenType.Number or JsonTokenType.String))
        {
            throw new JsonException($"A BigInteger is read from a JSON number, not from a {reader.TokenType}.");
        }

        // A number's text parses as invariant digits; a fraction or an exponent would make it no integer, and is refused.
        var text = reader.TokenType == JsonTokenType.String ? reader.GetString()!
            : reader.HasValueSequence ? System.Text.Encoding.UTF8.GetString(System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence))
            : System.Text.Encoding.UTF8.GetString(reader.ValueSpan);
        return BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new JsonException("The JSON value could not be read as a BigInteger: it is not a whole number's digits.");
    }

    public override void Write(Utf8JsonWriter writer, BigInteger value, JsonSerializerOptions options)
        => writer.WriteRawValue(value.ToString(CultureInfo.InvariantCulture), skipInputValidation: true);

    /// <summary>A dictionary key: its digits, as Python writes an int key (<c>{"10": ...}</c>) and as a <c>long</c> key is written.</summary>
    public override BigInteger ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => BigInteger.TryParse(reader.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new JsonException("The JSON property name could not be read as a BigInteger: it is not a whole number's digits.");

    public override void WriteAsPropertyName(Utf8JsonWriter writer, BigInteger value, JsonSerializerOptions options)
        => writer.WritePropertyName(value.ToString(CultureInfo.InvariantCulture));

    /// <summary>The metadata of <see cref="BigInteger"/> with this converter; <c>null</c> for any other type.</summary>
    public static JsonTypeInfo? TypeInfoFor(Type type, JsonSerializerOptions options)
        => type == typeof(BigInteger) ? JsonMetadataServices.CreateValueInfo<BigInteger>(options, Instance) : null;
}
