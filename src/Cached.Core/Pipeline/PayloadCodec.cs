using System.Buffers;
using Cached.Resilience;
using Cached.Runtime;
using Cached.Serializers;

namespace Cached.Pipeline;

/// <summary>
/// Turns values into what a backend stores and back: the value itself when both the backend and the serializer keep
/// references (see <see cref="ISerializer.StoresReferences"/>), otherwise the serializer's bytes. Every failure names
/// the key and the type.
/// </summary>
internal static class PayloadCodec
{
    /// <summary>True when values are stored as references: the backend can hold them and the serializer asks for it.</summary>
    public static bool KeepsReferences(bool backendStoresReferences, ISerializer serializer)
        => backendStoresReferences && serializer.StoresReferences;

    /// <summary>Whether two payloads are the same: byte arrays (or a backend's memory of bytes) by content, anything else by <see cref="object.Equals(object?, object?)"/>.</summary>
    public static bool PayloadEquals(object? stored, object? expected) => (stored, expected) switch
    {
        (byte[] a, byte[] b) => a.AsSpan().SequenceEqual(b),
        (ReadOnlyMemory<byte> a, byte[] b) => a.Span.SequenceEqual(b),
        _ => Equals(stored, expected),
    };

    /// <summary>Turns a value into what the backend stores: the value itself, or its serialized bytes.</summary>
    public static object? ToPayload<T>(string key, T value, ISerializer serializer, bool keepsReferences)
    {
        if (keepsReferences)
        {
            return value;
        }

        var buffer = PayloadBuffer.Rent();
        try
        {
            // The default serializer called directly, as in FromPayload.
            if (serializer is JsonSerializer json)
            {
                json.Serialize(buffer, value);
            }
            else
            {
                serializer.Serialize(buffer, value);
            }

            return buffer.WrittenSpan.ToArray();
        }
        catch (Exception ex) when (ex is not CacheException and not OperationCanceledException)
        {
            throw new CacheSerializationException(key, value?.GetType() ?? typeof(T), $"the value cannot be serialized by {serializer.GetType().Name}: {ex.Message}", ex);
        }
        finally
        {
            PayloadBuffer.Return(buffer);
        }
    }

    /// <summary>Turns what the backend returned into a <typeparamref name="T"/>, or throws naming the key and the type.</summary>
    public static T? FromPayload<T>(string key, object? payload, ISerializer serializer, bool keepsReferences)
    {
        // A reference read with a serializer that adopts them (stamped entries): kept by a store that keeps references,
        // or by the L1 of a two-level cache whose L2 keeps bytes, whose reads then come with a serializer for bytes.
        if (serializer is IPayloadAdopter adopter && (keepsReferences || payload is not (byte[] or ReadOnlyMemory<byte>)) && adopter.TryAdopt(payload, out var adopted))
        {
            return (T?)adopted;
        }

        if (keepsReferences)
        {
            switch (payload)
            {
                case T typed:
                    return typed;
                case null:
                    // As the copying serializers do: a stored null is no int, and reading it as 0 would be made-up data.
                    return default(T) is null ? default : throw new CacheSerializationException(key, typeof(T), $"the key holds null, which a {typeof(T)} cannot hold.");
                case byte[]:
                    // Written by a per-call serializer: read the bytes through this one (NullSerializer reads text).
                    break;
                default:
                    return IntegerOf<T>(key, payload);
            }
        }

        ReadOnlySequence<byte> bytes = payload switch
        {
            byte[] array => new ReadOnlySequence<byte>(array),
            ReadOnlyMemory<byte> memory => new ReadOnlySequence<byte>(memory),
            null => throw new CacheSerializationException(key, typeof(T), "the key holds no payload."),
            _ => throw new CacheSerializationException(key, typeof(T), $"the key holds a {payload.GetType()} written without serialization, which {serializer.GetType().Name} cannot read."),
        };

        try
        {
            // The default serializer called directly: a generic method through an interface is looked up at run time on
            // every call, a cost about as large as reading a small value.
            return serializer is JsonSerializer json ? json.Deserialize<T>(bytes) : serializer.Deserialize<T>(bytes);
        }
        catch (Exception ex) when (ex is not CacheException and not OperationCanceledException)
        {
            // On a store that keeps references the serializer carries every type; bytes there were written by a per-call
            // serializer, so a refusal to read them is about this entry, not the type (a cached method must not stop
            // using the cache for it).
            throw new CacheSerializationException(
                key,
                typeof(T),
                $"the stored payload cannot be read by {serializer.GetType().Name}: {ex.Message}",
                ex,
                isUnsupportedType: ex is NotSupportedException && !keepsReferences);
        }
    }

    /// <summary>
    /// An integer held as another integer type, read as <typeparamref name="T"/>: a counter <c>Increment</c> made is a
    /// <see cref="long"/> in memory, and Redis's counter is text that any integer type reads, so <c>Get&lt;int&gt;</c> of a
    /// counter reads it on both. Anything else, or a value out of <typeparamref name="T"/>'s range, is refused.
    /// </summary>
    private static T? IntegerOf<T>(string key, object payload)
    {
        var target = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        if (!IsInteger(payload.GetType()) || !IsInteger(target))
        {
            throw new CacheSerializationException(key, typeof(T), $"the key holds a {payload.GetType()}.");
        }

        try
        {
            return (T?)Convert.ChangeType(payload, target, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (OverflowException ex)
        {
            throw new CacheSerializationException(key, typeof(T), $"the key holds the {payload.GetType()} {payload}, out of {target.Name}'s range.", ex);
        }
    }

    private static bool IsInteger(Type type) => Type.GetTypeCode(type) is >= TypeCode.SByte and <= TypeCode.UInt64 && !type.IsEnum;
}
