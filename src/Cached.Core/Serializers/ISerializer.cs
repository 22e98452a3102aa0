using System.Buffers;

namespace Cached.Serializers;

/// <summary>
/// Turns values into the payloads a backend stores and back. Payloads are written into a buffer writer and read
/// from a byte sequence, so a serializer never has to allocate an intermediate array of its own.
/// </summary>
/// <remarks>
/// A serializer may instead keep values as they are (<see cref="StoresReferences"/>): an in-process backend then
/// stores the reference itself and <see cref="Serialize{T}"/>/<see cref="Deserialize{T}"/> are used only by backends
/// that need bytes. Implementations must be thread-safe. A failure (an exception other than
/// <see cref="OperationCanceledException"/>) is reported to the caller as a <see cref="CacheSerializationException"/>
/// naming the key and the type. Throw <see cref="NotSupportedException"/> only for a type that can never be carried
/// (<see cref="CacheSerializationException.IsUnsupportedType"/>): a cached method then stops using the cache for it
/// after logging it once, where any other failure is logged for the call it happened in.
/// </remarks>
public interface ISerializer
{
    /// <summary>
    /// True when values are stored as they are, without serialization, by backends that can hold references
    /// (<see cref="SimpleMemoryCache"/>). Mutating such a value after storing it changes the cached value.
    /// </summary>
    bool StoresReferences { get; }

    /// <summary>Writes <paramref name="value"/> as a payload into <paramref name="destination"/>.</summary>
    void Serialize<T>(IBufferWriter<byte> destination, T value);

    /// <summary>Reads a payload written by <see cref="Serialize{T}"/> back as a <typeparamref name="T"/>.</summary>
    T? Deserialize<T>(ReadOnlySequence<byte> payload);
}
