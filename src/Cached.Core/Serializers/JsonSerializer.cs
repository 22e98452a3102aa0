using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Cached.Serializers;

/// <summary>
/// Stores values as UTF-8 JSON with System.Text.Json: any record or POCO, the role pycached's
/// <c>PickleSerializer</c> plays, without letting stored bytes choose a type. Works in trimmed and NativeAOT
/// applications: the default serializer takes each type's metadata from the application's source-generated
/// <see cref="JsonSerializerContext"/>s (<see cref="JsonContexts"/>) before it considers reflection.
/// </summary>
/// <remarks>In a file that also imports System.Text.Json, write <c>using JsonSerializer = Cached.Serializers.JsonSerializer;</c>.</remarks>
public sealed class JsonSerializer : ISerializer
{
    // Null for the default serializer, which resolves each type through its registry instead.
    private readonly JsonSerializerOptions? _options;
    private readonly JsonSerializerContext? _context;
    private readonly JsonContextRegistry? _registry;
    private readonly bool _reflectionAllowed;
    private readonly JsonWriterOptions _writerOptions;
    private readonly JsonReaderOptions _readerOptions;

    /// <summary>
    /// Creates the default serializer. A type's metadata comes from the first registered source-generated context
    /// that lists it (<see cref="JsonContexts"/>: Cached's generator registers your project's contexts), with that
    /// context's options; else, for primitives, from Cached's own; else, where the application allows reflection
    /// (<see cref="System.Text.Json.JsonSerializer.IsReflectionEnabledByDefault"/>, false in trimmed and NativeAOT
    /// applications), from reflection with <see cref="JsonSerializerOptions.Default"/> plus
    /// <see cref="JsonSerializerOptions.RespectRequiredConstructorParameters"/>: a payload that lacks a constructor
    /// parameter of the type (one written for another type) fails to read instead of becoming an object with default
    /// members. A type none of these carries is refused with a <see cref="NotSupportedException"/> naming the fix.
    /// </summary>
    public JsonSerializer()
        : this(JsonContexts.Shared, reflectionAllowed: true)
    {
    }

    /// <summary>The default serializer over <paramref name="registry"/>; tests refuse reflection to act as NativeAOT does.</summary>
    internal JsonSerializer(JsonContextRegistry registry, bool reflectionAllowed)
    {
        _registry = registry;
        _reflectionAllowed = reflectionAllowed;
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
    [RequiresUnreferencedCode("Reflection-based JSON serialization; in trimmed apps use new JsonSerializer() with the project's JsonSerializerContext, or the JsonSerializerContext overload.")]
    [RequiresDynamicCode("Reflection-based JSON serialization; in NativeAOT apps use new JsonSerializer() with the project's JsonSerializerContext, or the JsonSerializerContext overload.")]
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
        if (_options is null)
        {
            var metadata = DefaultMetadata<T>();
            using var defaultWriter = new Utf8JsonWriter(destination, metadata.WriterOptions);
            System.Text.Json.JsonSerializer.Serialize(defaultWriter, value, metadata.Info);
            return;
        }

        using var writer = new Utf8JsonWriter(destination, _writerOptions);
        System.Text.Json.JsonSerializer.Serialize(writer, value, TypeInfo<T>());
    }

    /// <inheritdoc />
    public T? Deserialize<T>(ReadOnlySequence<byte> payload)
    {
        if (_options is null)
        {
            var metadata = DefaultMetadata<T>();
            var defaultReader = new Utf8JsonReader(payload, metadata.ReaderOptions);
            return System.Text.Json.JsonSerializer.Deserialize(ref defaultReader, metadata.Info);
        }

        var reader = new Utf8JsonReader(payload, _readerOptions);
        return System.Text.Json.JsonSerializer.Deserialize(ref reader, TypeInfo<T>());
    }

    private JsonTypeInfo<T> TypeInfo<T>()
    {
        if (_context is not null)
        {
            return _context.GetTypeInfo(typeof(T)) as JsonTypeInfo<T>
                ?? throw new NotSupportedException($"The JsonSerializerContext {_context.GetType()} has no metadata for {TypeNames.Of(typeof(T))}; add [JsonSerializable(typeof({TypeNames.Of(typeof(T))}))] to it.");
        }

        return (JsonTypeInfo<T>)_options!.GetTypeInfo(typeof(T));
    }

    /// <summary>The default serializer's metadata for <typeparamref name="T"/>: registered contexts, then reflection.</summary>
    private JsonMetadata<T> DefaultMetadata<T>()
    {
        if (_registry!.Find<T>() is { } metadata)
        {
            return metadata;
        }

        // The feature switch comes first: where it is off (trimmed and NativeAOT applications) the compiler drops the
        // reflection branch, so nothing of DefaultJsonTypeInfoResolver is kept and no reflection can fail at run time.
        if (System.Text.Json.JsonSerializer.IsReflectionEnabledByDefault && _reflectionAllowed)
        {
            return ReflectionMetadata<T>();
        }

        throw new NotSupportedException(
            $"Cached's JsonSerializer has no System.Text.Json metadata for {TypeNames.Of(typeof(T))}: no registered JsonSerializerContext lists it, "
            + "and reflection-based serialization is disabled (a trimmed or NativeAOT application). "
            + $"Add [JsonSerializable(typeof({TypeNames.Of(typeof(T))}))] to a JsonSerializerContext in your project (Cached registers it), "
            + "or call Cached.Serializers.JsonContexts.Add(YourContext.Default) for a context of a project without Cached.");
    }

    // Reached only where the application allows reflection-based serialization (checked by the caller, as
    // System.Text.Json's own JsonSerializerOptions.Default does): there the reflection resolver is what it asked for.
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Only reached when JsonSerializer.IsReflectionEnabledByDefault is true; trimmed and NativeAOT applications have it false unless they opt in to reflection.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "As above.")]
    private static JsonMetadata<T> ReflectionMetadata<T>()
        => Reflected<T>.Metadata ??= new JsonMetadata<T>((JsonTypeInfo<T>)StrictDefaults().GetTypeInfo(typeof(T)));

    private static class Reflected<T>
    {
        public static JsonMetadata<T>? Metadata;
    }

    internal static JsonWriterOptions WriterOptionsOf(JsonSerializerOptions options) => new()
    {
        Encoder = options.Encoder,
        Indented = options.WriteIndented,
        MaxDepth = options.MaxDepth,
        SkipValidation = true,
    };

    internal static JsonReaderOptions ReaderOptionsOf(JsonSerializerOptions options) => new()
    {
        AllowTrailingCommas = options.AllowTrailingCommas,
        CommentHandling = options.ReadCommentHandling,
        MaxDepth = options.MaxDepth,
    };
}
