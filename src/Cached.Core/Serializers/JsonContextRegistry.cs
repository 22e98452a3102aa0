using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Cached.Serializers;

/// <summary>
/// The registered source-generated contexts; <see cref="JsonContexts"/> holds the process's one, tests make their own.
/// Reads take no lock: the contexts are an array replaced on each registration.
/// </summary>
internal sealed class JsonContextRegistry
{
    private readonly object _gate = new();
    private JsonSerializerContext[] _contexts = [];
    private int _version;

    /// <summary>The contexts in the order they were registered.</summary>
    public IReadOnlyList<JsonSerializerContext> Contexts => Volatile.Read(ref _contexts);

    /// <summary>How many contexts have been registered: options made before a registration are made again after it.</summary>
    public int Version => Volatile.Read(ref _version);

    public void Add(JsonSerializerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        lock (_gate)
        {
            if (Array.IndexOf(_contexts, context) < 0)
            {
                Volatile.Write(ref _contexts, [.. _contexts, context]);
                Interlocked.Increment(ref _version);
            }
        }
    }
}

/// <summary>
/// Where the default <see cref="JsonSerializer"/> finds a type's metadata, always for Cached's own options: the
/// registered contexts, then Cached's context of primitives, then reflection where the application allows it. A
/// context supplies metadata only, never its options (naming policy, number handling...): a value is written the same
/// way whichever context lists its type, whether it was registered before or after, and whether reflection wrote it,
/// so that entries stored by one process or version read back in another. <see cref="double"/>, <see cref="float"/>
/// and <see cref="Half"/> come first, with Python's float format (<see cref="PythonFloatConverter{T}"/>), wherever
/// they occur: alone, as members, as elements.
/// </summary>
internal sealed class JsonContextResolver(JsonContextRegistry registry, bool reflectionAllowed) : IJsonTypeInfoResolver
{
    private IJsonTypeInfoResolver? _reflection;

    public JsonTypeInfo? GetTypeInfo(Type type, JsonSerializerOptions options)
    {
        // A stack reads back reversed wherever it occurs: refused inside another value as it is alone.
        JsonSerializer.RefuseStack(type);

        // Before the contexts, whose metadata for these types would write 2.0 as 2, or a BigInteger as its properties.
        // Only the types that hold one of them lose System.Text.Json's generated fast path, which writes numbers
        // itself: the options have no converter.
        if ((PythonFloatConverter.TypeInfoFor(type, options) ?? BigIntegerJsonConverter.TypeInfoFor(type, options)) is { } number)
        {
            return number;
        }

        // The feature switch comes first: where it is off (trimmed and NativeAOT applications) the compiler drops the
        // reflection branches, so nothing of DefaultJsonTypeInfoResolver is kept and no reflection can fail at run time.
        var reflection = System.Text.Json.JsonSerializer.IsReflectionEnabledByDefault && reflectionAllowed;
        if (ValueTuples.Is(type))
        {
            // A tuple's items are fields, which the metadata of a context made with System.Text.Json's defaults skips.
            return reflection
                ? TupleInfo(type, options)
                : throw new NotSupportedException(
                    $"Cached's JsonSerializer stores a value tuple ({TypeNames.Of(type)}) as a JSON array of its items, which needs "
                    + "reflection-based serialization, disabled here (a trimmed or NativeAOT application). Store a record instead.");
        }

        foreach (IJsonTypeInfoResolver context in registry.Contexts)
        {
            if (context.GetTypeInfo(type, options) is { } info)
            {
                return reflection ? Checked(info) : info;
            }
        }

        if (((IJsonTypeInfoResolver)BuiltInJsonContext.Default).GetTypeInfo(type, options) is { } builtIn)
        {
            return builtIn;
        }

        if (reflection)
        {
            return Reflection().GetTypeInfo(type, options) is { } reflected ? Checked(reflected) : null;
        }

        throw new NotSupportedException(
            $"Cached's JsonSerializer has no System.Text.Json metadata for {TypeNames.Of(type)}: no registered JsonSerializerContext lists it, "
            + "and reflection-based serialization is disabled (a trimmed or NativeAOT application). "
            + $"Add [JsonSerializable(typeof({TypeNames.Of(type)}))] to a JsonSerializerContext in your project (Cached registers it), "
            + "or call Cached.Serializers.JsonContexts.Add(YourContext.Default) for a context of a project without Cached.");
    }

    // Reached only where the application allows reflection-based serialization, as Reflection() below.
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Only reached when JsonSerializer.IsReflectionEnabledByDefault is true; trimmed and NativeAOT applications have it false unless they opt in to reflection.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "As above.")]
    private static JsonTypeInfo TupleInfo(Type type, JsonSerializerOptions options) => ValueTupleShapes.TypeInfoFor(type, options);

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "As TupleInfo.")]
    private static JsonTypeInfo Checked(JsonTypeInfo info) => DroppedFields.Checked(info);

    // Reached only where the application allows reflection-based serialization (checked by the caller, as
    // System.Text.Json's own JsonSerializerOptions.Default does): there the reflection resolver is what it asked for.
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Only reached when JsonSerializer.IsReflectionEnabledByDefault is true; trimmed and NativeAOT applications have it false unless they opt in to reflection.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "As above.")]
    private IJsonTypeInfoResolver Reflection() => _reflection ??= new DefaultJsonTypeInfoResolver();
}
