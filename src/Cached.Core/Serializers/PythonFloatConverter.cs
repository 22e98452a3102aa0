using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Cached.Serializers;

/// <summary>
/// How the default <see cref="JsonSerializer"/> writes <see cref="double"/>, <see cref="float"/> and
/// <see cref="Half"/>: as Python's <c>json.dumps</c> writes a float (<see cref="PythonJson"/>), so that Python reads
/// <c>2.0</c> back as the float it was and not as the int <c>2</c>, and NaN and the infinities as Python's literals
/// rather than refused. Reads numbers as System.Text.Json does, numbers in strings, and the named literals bare (see
/// <see cref="PythonJson.QuoteNamedLiterals"/>) or quoted.
/// </summary>
/// <remarks>
/// Only the metadata of these three types carries it (<see cref="PythonFloatConverter.TypeInfoFor"/>): a type without
/// one of them keeps System.Text.Json's own metadata and, from a source-generated context, its fast path.
/// </remarks>
internal sealed class PythonFloatConverter<T> : JsonConverter<T>
    where T : struct, IFloatingPointIeee754<T>
{
    // A JSON number's own syntax: no white space, no thousands separators. The invariant culture's symbols for NaN and
    // the infinities are Python's literals: NaN, Infinity, -Infinity.
    private const NumberStyles Number = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent;

    public static PythonFloatConverter<T> Instance { get; } = new();

    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        // A string is read as JsonNumberHandling.AllowReadingFromString reads it, which a member's [JsonNumberHandling]
        // no longer asks for: number handling reaches System.Text.Json's own converters only. It takes the named
        // literals too: Python's bare ones arrive quoted (PythonJson.QuoteNamedLiterals).
        if (reader.TokenType == JsonTokenType.String)
        {
            var quoted = reader.GetString()!;
            return T.TryParse(quoted, Number, CultureInfo.InvariantCulture, out var parsed)
                ? parsed
                : throw new JsonException($"The JSON string could not be read as a {typeof(T).Name}.");
        }

        if (typeof(T) == typeof(double))
        {
            return (T)(object)reader.GetDouble();
        }

        if (typeof(T) == typeof(float))
        {
            return (T)(object)reader.GetSingle();
        }

        // Utf8JsonReader has no GetHalf: parse the number's text as System.Text.Json's own Half converter does.
        if (reader.TokenType != JsonTokenType.Number)
        {
            throw new JsonException($"The JSON value could not be read as a {typeof(T).Name}: it is a {reader.TokenType}.");
        }

        ReadOnlySpan<byte> text = reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan;
        return T.TryParse(text, Number, CultureInfo.InvariantCulture, out var value) && T.IsFinite(value)
            ? value
            : throw new JsonException($"The JSON number could not be read as a {typeof(T).Name}.");
    }

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
    {
        Span<byte> text = stackalloc byte[PythonJson.MaxFloatLength];
        writer.WriteRawValue(text[..PythonJson.FormatFloat(value, text)], skipInputValidation: true);
    }

    public override T ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var name = reader.GetString()!;
        return T.TryParse(name, Number, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new JsonException($"The property name '{name}' could not be read as a {typeof(T).Name}.");
    }

    // Python writes a float key with repr too: json.dumps({2.0: 1}) is {"2.0": 1}.
    public override void WriteAsPropertyName(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
    {
        Span<byte> text = stackalloc byte[PythonJson.MaxFloatLength];
        writer.WritePropertyName(text[..PythonJson.FormatFloat(value, text)]);
    }
}

/// <summary>The metadata that carries <see cref="PythonFloatConverter{T}"/>.</summary>
internal static class PythonFloatConverter
{
    /// <summary>The metadata of <paramref name="type"/> with Python's float format, or <c>null</c> for any other type.</summary>
    public static JsonTypeInfo? TypeInfoFor(Type type, JsonSerializerOptions options)
        => type == typeof(double) ? JsonMetadataServices.CreateValueInfo<double>(options, PythonFloatConverter<double>.Instance)
            : type == typeof(float) ? JsonMetadataServices.CreateValueInfo<float>(options, PythonFloatConverter<float>.Instance)
            : type == typeof(Half) ? JsonMetadataServices.CreateValueInfo<Half>(options, PythonFloatConverter<Half>.Instance)
            : null;
}
