using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Cached.Serializers;

/// <summary>
/// Stores values as UTF-8 JSON with System.Text.Json: any record or POCO, the role pycached's
/// <c>PickleSerializer</c> plays, without letting stored bytes choose a type. Give it options, or a
/// source-generated <see cref="JsonSerializerContext"/> for trimmed and NativeAOT applications.
/// </summary>
/// <remarks>In a file that also imports System.Text.Json, write <c>using JsonSerializer = Cached.Serializers.JsonSerializer;</c>.</remarks>
public sealed class JsonSerializer : ISerializer
{
    private readonly JsonSerializerOptions _options;
    private readonly JsonSerializerContext? _context;
    private readonly JsonWriterOptions _writerOptions;
    private readonly JsonReaderOptions _readerOptions;

    /// <summary>
    /// Creates a serializer with <see cref="JsonSerializerOptions.Default"/>, plus
    /// <see cref="JsonSerializerOptions.RespectRequiredConstructorParameters"/>: a payload that lacks a constructor
    /// parameter of the type (one written for another type) fails to read instead of becoming an object with
    /// default members, so a cache never hands out a half-filled value of the wrong shape.
    /// </summary>
    [RequiresUnreferencedCode("Reflection-based JSON serialization; use the JsonSerializerContext overload for trimmed apps.")]
    [RequiresDynamicCode("Reflection-based JSON serialization; use the JsonSerializerContext overload for NativeAOT apps.")]
    public JsonSerializer()
        : this(StrictDefaults())
    {
    }

    // Shared by every default serializer, so they share System.Text.Json's metadata cache too.
    private static JsonSerializerOptions? s_strictDefaults;

    [RequiresUnreferencedCode("Reflection-based JSON serialization.")]
    [RequiresDynamicCode("Reflection-based JSON serialization.")]
    private static JsonSerializerOptions StrictDefaults() => s_strictDefaults ??= new(JsonSerializerOptions.Default)
    {
        RespectRequiredConstructorParameters = true,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    };

    /// <summary>Creates a serializer with the given options.</summary>
    [RequiresUnreferencedCode("Reflection-based JSON serialization; use the JsonSerializerContext overload for trimmed apps.")]
    [RequiresDynamicCode("Reflection-based JSON serialization; use the JsonSerializerContext overload for NativeAOT apps.")]
    public JsonSerializer(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        // Options built with `new JsonSerializerOptions()` have no resolver until first used by System.Text.Json itself.
        _options = options.TypeInfoResolver is null
            ? new JsonSerializerOptions(options) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() }
            : options;
        _writerOptions = WriterOptionsOf(options);
        _readerOptions = ReaderOptionsOf(options);
    }

    /// <summary>Creates a serializer that takes every type's metadata from a source-generated context.</summary>
    public JsonSerializer(JsonSerializerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        _options = context.Options;
        _writerOptions = WriterOptionsOf(context.Options);
        _readerOptions = ReaderOptionsOf(context.Options);
    }

    /// <inheritdoc />
    public bool StoresReferences => false;

    /// <inheritdoc />
    public void Serialize<T>(IBufferWriter<byte> destination, T value)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var writer = new Utf8JsonWriter(destination, _writerOptions);
        System.Text.Json.JsonSerializer.Serialize(writer, value, TypeInfo<T>());
    }

    /// <inheritdoc />
    public T? Deserialize<T>(ReadOnlySequence<byte> payload)
    {
        var reader = new Utf8JsonReader(payload, _readerOptions);
        return System.Text.Json.JsonSerializer.Deserialize(ref reader, TypeInfo<T>());
    }

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Only reached through the constructors that carry RequiresUnreferencedCode, or with a source-generated context.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Only reached through the constructors that carry RequiresDynamicCode, or with a source-generated context.")]
    private JsonTypeInfo<T> TypeInfo<T>()
    {
        if (_context is not null)
        {
            return _context.GetTypeInfo(typeof(T)) as JsonTypeInfo<T>
                ?? throw new NotSupportedException($"The JsonSerializerContext {_context.GetType()} has no metadata for {typeof(T)}; add [JsonSerializable(typeof({typeof(T).Name}))] to it.");
        }

        return (JsonTypeInfo<T>)_options.GetTypeInfo(typeof(T));
    }

    private static JsonWriterOptions WriterOptionsOf(JsonSerializerOptions options) => new()
    {
        Encoder = options.Encoder,
        Indented = options.WriteIndented,
        MaxDepth = options.MaxDepth,
        SkipValidation = true,
    };

    private static JsonReaderOptions ReaderOptionsOf(JsonSerializerOptions options) => new()
    {
        AllowTrailingCommas = options.AllowTrailingCommas,
        CommentHandling = options.ReadCommentHandling,
        MaxDepth = options.MaxDepth,
    };
}
