using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Cached.Serializers;

/// <summary>
/// Registered contexts and the metadata found in them; <see cref="JsonContexts"/> holds the process's one, tests make
/// their own. Reads take no lock: the contexts are an array replaced on each registration, and what a type resolved to
/// is remembered with the registration count it was found at, so a later registration is searched too.
/// </summary>
internal sealed class JsonContextRegistry
{
    private readonly object _gate = new();
    private JsonSerializerContext[] _contexts = [];
    private int _version;

    public void Add(JsonSerializerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        lock (_gate)
        {
            if (Array.IndexOf(_contexts, context) >= 0)
            {
                return;
            }

            Volatile.Write(ref _contexts, [.. _contexts, context]);
            Interlocked.Increment(ref _version);
        }
    }

    /// <summary>
    /// The metadata of <typeparamref name="T"/> from the first registered context that has it, else from Cached's own
    /// context of primitives; null when neither has it.
    /// </summary>
    public JsonMetadata<T>? Find<T>()
    {
        var version = Volatile.Read(ref _version);
        if (!ReferenceEquals(this, JsonContexts.Shared))
        {
            return Search<T>(version).Metadata;
        }

        // The process's registry remembers each type's answer: a hit costs one comparison.
        var known = Volatile.Read(ref Remembered<T>.Entry);
        if (known is null || known.Version != version)
        {
            known = Search<T>(version);
            Volatile.Write(ref Remembered<T>.Entry, known);
        }

        return known.Metadata;
    }

    private Found<T> Search<T>(int version)
    {
        foreach (var context in Volatile.Read(ref _contexts))
        {
            if (context.GetTypeInfo(typeof(T)) is JsonTypeInfo<T> info)
            {
                return new Found<T>(version, new JsonMetadata<T>(info));
            }
        }

        // System.Text.Json's generator gives every context metadata for object too; Cached's own must not serve it,
        // or an object would be written by its runtime type through a context that knows none.
        var builtIn = typeof(T) == typeof(object) ? null : BuiltInJsonContext.Default.GetTypeInfo(typeof(T)) as JsonTypeInfo<T>;
        return new Found<T>(version, builtIn is null ? null : new JsonMetadata<T>(builtIn));
    }

    private sealed record Found<T>(int Version, JsonMetadata<T>? Metadata);

    private static class Remembered<T>
    {
        public static Found<T>? Entry;
    }
}

/// <summary>A type's metadata with the writer and reader options of the options it was made for.</summary>
internal sealed class JsonMetadata<T>(JsonTypeInfo<T> info)
{
    public JsonTypeInfo<T> Info { get; } = info;

    public JsonWriterOptions WriterOptions { get; } = JsonSerializer.WriterOptionsOf(info.Options);

    public JsonReaderOptions ReaderOptions { get; } = JsonSerializer.ReaderOptionsOf(info.Options);
}
