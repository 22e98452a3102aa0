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
/// <remarks>
/// Every instance reads what Python's <c>json.dumps</c> writes, its bare <c>NaN</c>, <c>Infinity</c> and
/// <c>-Infinity</c> included: the default serializer always, one with its own options or context where they read
/// named floating-point literals (<see cref="JsonNumberHandling.AllowNamedFloatingPointLiterals"/>).
/// In a file that also imports System.Text.Json, write <c>using JsonSerializer = Cached.Serializers.JsonSerializer;</c>.
/// </remarks>
public sealed class JsonSerializer : ISerializer
{
    private readonly JsonSerializerOptions? _options;
    private readonly JsonSerializerContext? _context;

    // The default serializer's: its options are made again after a context is registered, because System.Text.Json
    // remembers a type it could not resolve for the life of an options instance.
    private readonly JsonContextRegistry? _registry;
    private readonly bool _reflectionAllowed;
    private DefaultOptionsOf? _defaults;
    private readonly JsonWriterOptions _writerOptions;
    private readonly JsonReaderOptions _readerOptions;

    /// <summary>
    /// Creates the default serializer: <see cref="JsonSerializerOptions.Default"/>'s settings plus
    /// <see cref="JsonSerializerOptions.RespectRequiredConstructorParameters"/> (a payload that lacks a constructor
    /// parameter of the type, one written for another type, fails to read instead of becoming an object with default
    /// members), and <see cref="double"/>, <see cref="float"/> and <see cref="Half"/> written as Python's
    /// <c>json.dumps</c> writes a float (<c>2.0</c>, not <c>2</c>, which Python reads as an int; <c>1e+16</c>; NaN and
    /// the infinities as Python's <c>NaN</c>, <c>Infinity</c>, <c>-Infinity</c>), wherever they occur. A type's
    /// metadata comes from the first registered source-generated context that lists it
    /// (<see cref="JsonContexts"/>: Cached's generator registers your project's contexts), else for primitives from
    /// Cached's own, else, where the application allows reflection
    /// (<see cref="System.Text.Json.JsonSerializer.IsReflectionEnabledByDefault"/>, false in trimmed and NativeAOT
    /// applications), from reflection; a type none of these carries is refused with a
    /// <see cref="NotSupportedException"/> naming the fix. The contexts supply metadata only: values are written with
    /// these options whatever the context's own, so the stored JSON does not depend on which context, if any, served it.
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
        // The default options' writer and reader settings (new JsonSerializerOptions() has the same as Default).
        _writerOptions = WriterOptionsOf(s_settings);
        _readerOptions = ReaderOptionsOf(s_settings);
    }

    // Shared by the process's default serializers, so they share System.Text.Json's metadata cache too.
    private static DefaultOptionsOf? s_shared;

    private static readonly JsonSerializerOptions s_settings = new();

    /// <summary>The default serializer's options, made for the registry as it is now.</summary>
    private JsonSerializerOptions DefaultOptions()
    {
        var version = _registry!.Version;
        var shared = ReferenceEquals(_registry, JsonContexts.Shared) && _reflectionAllowed;
        var current = shared ? Volatile.Read(ref s_shared) : _defaults;
        if (current is null || current.Version != version)
        {
            current = new DefaultOptionsOf(version, new JsonSerializerOptions
            {
                RespectRequiredConstructorParameters = true,
                TypeInfoResolver = new JsonContextResolver(_registry, _reflectionAllowed),
            });
            if (shared)
            {
                Volatile.Write(ref s_shared, current);
            }
            else
            {
                _defaults = current;
            }
        }

        return current.Options;
    }

    private sealed record DefaultOptionsOf(int Version, JsonSerializerOptions Options);

    /// <summary>Creates a serializer with the given options.</summary>
    [RequiresUnreferencedCode("Reflection-based JSON serialization; in trimmed apps use new JsonSerializer() with the project's JsonSerializerContext, or the JsonSerializerContext overload.")]
    [RequiresDynamicCode("Reflection-based JSON serialization; in NativeAOT apps use new JsonSerializer() with the project's JsonSerializerContext, or the JsonSerializerContext overload.")]
    public JsonSerializer(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        // Options built with `new JsonSerializerOptions()` have no resolver until first used by System.Text.Json itself.
        // A copy, whose resolver also refuses a type whose public fields these options skip (a value tuple without
        // IncludeFields), wherever it occurs, rather than store it as {}.
        _options = new JsonSerializerOptions(options)
        {
            TypeInfoResolver = (options.TypeInfoResolver ?? new DefaultJsonTypeInfoResolver()).WithAddedModifier(DroppedFields.Check),
        };
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
        RefuseWhatReadsBackOtherwise<T>();
        if (value is char c && char.IsSurrogate(c))
        {
            // System.Text.Json writes it as U+FFFD: refused, as StringSerializer refuses it, rather than changed.
            throw new ArgumentException("JsonSerializer cannot store a lone surrogate char: JSON text would replace it with U+FFFD.", nameof(value));
        }

        var writer = RentWriter(destination);
        try
        {
            System.Text.Json.JsonSerializer.Serialize(writer, value, TypeInfo<T>());
            writer.Flush();
        }
        finally
        {
            ReturnWriter(writer);
        }
    }

    /// <summary>
    /// Refuses, by type, a stack (<see cref="Stack{T}"/>, <see cref="System.Collections.Concurrent.ConcurrentStack{T}"/>):
    /// System.Text.Json writes it in pop order and reads it back by pushing in that order, so it comes back reversed.
    /// </summary>
    private static void RefuseWhatReadsBackOtherwise<T>()
    {
        if (ReadsBackReversed<T>.Is)
        {
            throw StackRefused(typeof(T));
        }
    }

    /// <summary>Refuses a stack wherever the default serializer meets it: alone (above) or inside another value (its resolver).</summary>
    internal static void RefuseStack(Type type)
    {
        if (IsStack(type))
        {
            throw StackRefused(type);
        }
    }

    private static bool IsStack(Type type)
        => type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(Stack<>) || type.GetGenericTypeDefinition() == typeof(System.Collections.Concurrent.ConcurrentStack<>));

    private static NotSupportedException StackRefused(Type type)
        => new($"JsonSerializer does not store a {TypeNames.Of(type)}: System.Text.Json reads a stack back reversed. Store its items as an array (stack.ToArray(), in pop order) and push them back in reverse.");

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Only called where JsonSerializer.IsReflectionEnabledByDefault is true.")]
    private static void ContextChecked(JsonTypeInfo info) => DroppedFields.Checked(info);

    private static class ReadsBackReversed<T>
    {
        public static readonly bool Is = IsStack(typeof(T));
    }

    // A writer per thread, made again only for an instance with other writer options: every store of a remote cache
    // serializes, and a new writer is an object of about 150 bytes. Taken out of the slot while in use, so a converter
    // that serializes through Cached again gets a writer of its own.
    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    // The options t_writer was made with, as given: a writer reports some of them normalized (a MaxDepth of 0 as 1000).
    [ThreadStatic]
    private static JsonWriterOptions t_writerMadeWith;

    // What an idle writer points at instead of the last destination, which it must not keep alive. Nothing writes to it.
    private static readonly ArrayBufferWriter<byte> s_noDestination = new(1);

    private Utf8JsonWriter RentWriter(IBufferWriter<byte> destination)
    {
        var writer = t_writer;
        if (writer is not null && SameOptions(t_writerMadeWith, _writerOptions))
        {
            t_writer = null;
            writer.Reset(destination);
            return writer;
        }

        return new Utf8JsonWriter(destination, _writerOptions);
    }

    private void ReturnWriter(Utf8JsonWriter writer)
    {
        // Reset also clears what a failed serialization left half written.
        writer.Reset(s_noDestination);
        t_writer = writer;
        t_writerMadeWith = _writerOptions;
    }

    private static bool SameOptions(JsonWriterOptions a, JsonWriterOptions b)
        => ReferenceEquals(a.Encoder, b.Encoder) && a.Indented == b.Indented && a.MaxDepth == b.MaxDepth
            && a.SkipValidation == b.SkipValidation && a.IndentCharacter == b.IndentCharacter && a.IndentSize == b.IndentSize
            && a.NewLine == b.NewLine;

    /// <inheritdoc />
    public T? Deserialize<T>(ReadOnlySequence<byte> payload)
    {
        RefuseWhatReadsBackOtherwise<T>();
        var info = TypeInfo<T>();
        if (payload.IsSingleSegment)
        {
            // A payload in one piece (every backend's, in practice) is read from its span, System.Text.Json's fastest
            // path: about a third less time per value than through a reader.
            try
            {
                return System.Text.Json.JsonSerializer.Deserialize(payload.FirstSpan, info);
            }
            catch (JsonException)
            {
                // Read again through a reader, which retries Python's literals: only a payload that failed here pays for
                // the second read.
            }
        }

        var reader = new Utf8JsonReader(payload, _readerOptions);
        try
        {
            return WholePayload(System.Text.Json.JsonSerializer.Deserialize(ref reader, info), ref reader);
        }
        catch (JsonException) when (PythonJson.QuoteNamedLiterals(payload) is { } quoted)
        {
            // Python's json writes NaN and the infinities bare, which Utf8JsonReader refuses: read them as the strings
            // "NaN", "Infinity" and "-Infinity", which the default serializer reads as numbers. Only a payload that
            // failed is looked at again, so a read that succeeds costs nothing more. A string read that needed this
            // read a bare literal as its text: no string was stored.
            if (typeof(T) == typeof(string))
            {
                throw new JsonException("The payload is a bare number literal (NaN or an infinity), not a string.");
            }

            var retry = new Utf8JsonReader(quoted, _readerOptions);
            return WholePayload(System.Text.Json.JsonSerializer.Deserialize(ref retry, info), ref retry);
        }
    }

    /// <summary>
    /// The value read, once nothing but whitespace follows it: a payload of two values (<c>10 20</c>) is no value of
    /// one, as Python's <c>json.loads</c> refuses it ("Extra data"), rather than its first one read as if alone.
    /// </summary>
    private static T? WholePayload<T>(T? value, ref Utf8JsonReader reader)
    {
        // Past the end of the one value the reader allows, Read answers false, or throws at a second value.
        if (reader.Read())
        {
            throw new JsonException($"The payload holds more after its value, at byte {reader.TokenStartIndex}.");
        }

        return value;
    }

    private JsonTypeInfo<T> TypeInfo<T>()
    {
        // The metadata is bound to the options it was resolved with: the context's, the caller's, or the default ones
        // (made again after a context registration, which so also retires the remembered metadata).
        var options = _context?.Options ?? _options ?? DefaultOptions();
        if (LastTypeInfo<T>.Value is { } last && ReferenceEquals(last.Options, options))
        {
            return last;
        }

        var resolved = _context is not null
            ? _context.GetTypeInfo(typeof(T)) as JsonTypeInfo<T>
                ?? throw new NotSupportedException($"The JsonSerializerContext {_context.GetType()} has no metadata for {TypeNames.Of(typeof(T))}; add [JsonSerializable(typeof({TypeNames.Of(typeof(T))}))] to it.")
            : (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
        if (_context is not null && System.Text.Json.JsonSerializer.IsReflectionEnabledByDefault)
        {
            // A context's metadata of a type whose public fields it skips (a value tuple, unless the context includes
            // fields) would store {}: refused where reflection can tell, as the default serializer refuses it.
            // Without reflection, the analyzer reports such a type at build time (CACHED032, CACHED033).
            ContextChecked(resolved);
        }

        LastTypeInfo<T>.Value = resolved;
        return resolved;
    }

    /// <summary>
    /// The metadata of <typeparamref name="T"/> last resolved by any instance: a read or write of one type after
    /// another skips the options' type lookup (a dictionary, and a type object from a handle in shared generic code),
    /// which cost a remote hit about as much as its own decoding of the bytes. Checked against the options it is bound to.
    /// </summary>
    private static class LastTypeInfo<T>
    {
        public static JsonTypeInfo<T>? Value;
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
